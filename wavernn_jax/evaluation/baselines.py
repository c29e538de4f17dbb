"""Non-neural reference NLLs, in bits per 16-bit sample.

- Uniform: every one of the 65,536 values equally likely: 16 bits.
- Linear prediction: x_t ~ DiscretisedLaplace(sum_k a_k x_{t-k}, b_t), with
  order-p coefficients a fitted by least squares on the training split and a
  causal scale b_t = an exponential moving average of past |residuals| (so
  loud and quiet passages both get sensible widths). It is a proper
  predictive model of each sample given the past, like WaveRNN's.
"""

import dataclasses

import numpy as np

from wavernn_jax.utils import errors

UNIFORM_BITS = 16.0


@dataclasses.dataclass
class LinearPredictor:
  coefs: np.ndarray  # a_1..a_p, float64 [p].
  decay: float = 0.99  # EMA factor of the residual scale (per sample).
  min_scale: float = 1.0  # floor of b_t, in int16 steps.

  @classmethod
  def fit(cls, utterances, order: int = 16,
          max_samples: int = 4_000_000) -> 'LinearPredictor':
    """Least-squares LPC coefficients over (up to max_samples of) utterances."""
    xtx = np.zeros((order, order))
    xty = np.zeros(order)
    used = 0
    for u in utterances:
      x = np.asarray(u, np.float64)
      if len(x) <= order:
        continue
      past = np.lib.stride_tricks.sliding_window_view(x[:-1], order)[:, ::-1]
      xtx += past.T @ past
      xty += past.T @ x[order:]
      used += len(x)
      if used >= max_samples:
        break
    if used == 0:
      raise errors.UserError('no utterance is longer than the LPC order; '
                             'cannot fit the linear-prediction baseline.')
    coefs = np.linalg.solve(xtx + 1e-3 * np.eye(order), xty)
    return cls(coefs=coefs)

  def log2_probs(self, utterance) -> np.ndarray:
    """log2 P(x_t | x_<t) for every sample of one int16 utterance."""
    x = np.asarray(utterance, np.float64)
    import scipy.signal  # pylint: disable=g-import-not-at-top
    # Imported here: 1-3 s of every launch.py start otherwise (issue 38).
    pred = scipy.signal.lfilter(np.concatenate([[0.0], self.coefs]), [1.0], x)
    resid = np.abs(x - pred)
    # b_t from residuals strictly before t.
    ema = scipy.signal.lfilter([1 - self.decay], [1, -self.decay], resid)
    scale = np.maximum(np.concatenate([[self.min_scale * 100], ema[:-1]]),
                       self.min_scale)
    z = resid / scale
    half = 0.5 / scale
    # Laplace mass of [x - 0.5, x + 0.5].
    inside = 1.0 - 0.5 * (np.exp(-(half - z)) + np.exp(-(half + z)))
    outside = 0.5 * np.exp(-(z - half)) * (1.0 - np.exp(-2 * half))
    mass = np.where(resid <= 0.5, inside, outside)
    return np.log2(np.maximum(mass, 1e-300))

  def nll_bits(self, utterances) -> float:
    """Mean NLL in bits per sample over all samples of `utterances`."""
    total, count = 0.0, 0
    for u in utterances:
      total -= self.log2_probs(u).sum()
      count += len(u)
    return total / max(count, 1)
