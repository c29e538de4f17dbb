"""Subscale WaveRNN (PAPER.md §3): folding, the masked context network, and
the teacher-forced ln P over all sub-tensors at once.

An utterance u of T samples is folded into S sub-tensors (S is the paper's
B, config `subscale.batch_factor`): sub-tensor s holds u[S * i + s] for
i < N = ceil(T / S) (zero-padded at the end). Sample (s, i) may depend on
  * (s, k) for k < i: through the WaveRNN's own recurrence over sub-tensor s;
  * (z, k) for z < s and k <= i + horizon: through the context network;
  * nothing of sub-tensors z > s.
One WaveRNN (the cell of `model.py`, with the dense model's parameter
names) runs over all S sub-tensors as a batch; its input term adds the mel
conditioning of the sample's frame and the context network's output.

The context network is a causal dilated CNN over the folded time axis whose
channels are grouped by sub-tensor. Its input at (z, j) is sample
(z, j + horizon), so being causal in j means k <= i + horizon. The first
layer's weights are masked to input groups z < s, the later layers' to
z <= s (block-triangular channel masks, as in MADE/PixelCNN), with ReLUs and
residual connections; so output group s sees exactly (z < s, k <= i +
horizon) inside its receptive field. With `now_tap` the first layer also
reads column i itself (z < s, the samples just before (s, i)) through one
more masked kernel. With `left_input` the cell's input term at (s, i) also
adds learned rows for the bytes of (s - 1, i), the sample right before it
in time (none for s = 0). Positions past the end of the utterance, and
before its start, enter as zeros.

With `lpc_order` = K > 0 (issue 27's noise shaping) sample (s, i) is
modelled as the excitation e = wrap(x - p) after a linear prediction p from
the m = min(s, K) samples of its own column drawn before it, x_{t-1} ...
x_{t-m} = (s - 1, i) ... (s - m, i), with the optimal order-m predictor of
the frame's spectrum (`predictors`; sub-tensor 0 has m = 0, p = 0).
So p uses only samples the ordering allows; p enters the cell's input term
(a learned row times p, as LPCNet's), and everything else the model reads
(its own previous sample, the context net, `left_input`) stays the signal.
With `lpc_two_sided` the predictor also reads the m samples of the next
column that the ordering has drawn, x_{t+S-s} ... x_{t+S-s+m-1} = (0, i + 1)
... (m - 1, i + 1) (the context net may read them too: horizon >= 1), with
the optimal coefficients for those 2m lags (`lpc.lag_predictors`): an
interpolator where s is large.

Notation: B batch, T samples, S sub-tensors, N folded steps, C channels per
group, K taps per conv, G = 3H gate inputs, P hop.
"""

import dataclasses
import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from wavernn_jax.features import lpc
from wavernn_jax.features import quantization
from wavernn_jax.models import model
from wavernn_jax.utils import errors


@dataclasses.dataclass(frozen=True)
class SubscaleConfig:
  """Hyper-parameters of the folding and of the context network."""
  batch_factor: int = 16  # S (the paper's B), sub-tensors per utterance.
  horizon: int = 64  # the paper's F, future horizon in folded samples.
  channels: int = 16  # C, context-net channels per sub-tensor group.
  kernel: int = 2  # K, taps per dilated conv (in folded samples).
  # One conv layer per dilation; dilations_for(horizon) by default, so that
  # the net sees as much of earlier sub-tensors' past as of their future.
  dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)
  # A direct tap from the current column of the earlier sub-tensors into the
  # first layer: (z < s, i) holds the S * i + s - z samples right before
  # (s, i), x_{t-1} among them, which otherwise reach (s, i) only through
  # the whole dilated stack.
  now_tap: bool = False
  # The sample just before (s, i) in time, x_{t-1} = (s - 1, i), into the
  # cell's input term through byte-embedding tables of its own (E_left),
  # as the dense cell gets its previous sample; s = 0 has none there (its
  # x_{t-1} is drawn far later) and gets zero.
  left_input: bool = False
  # With left_input: how many samples right before (s, i) go in that way,
  # x_{t-k} = (s - k, i) for k = 1 .. left_samples, each through tables of
  # its own (E_left for k = 1, E_left_more[k - 2] after); zero where s < k
  # (those are drawn later).
  left_samples: int = 1
  # Issue 27's first candidate: a gate bias per sub-tensor (b_sub [S, 3H]),
  # so the shared cell knows which sub-tensor it is in (sub-tensor 0 sees
  # no earlier sample of its column, sub-tensor 15 sees 15).
  sub_bias: bool = False
  # Issue 27's noise shaping: model each sample's excitation after linear
  # prediction from the min(s, lpc_order) samples of its column drawn
  # before it (0: off; at most batch_factor - 1).
  lpc_order: int = 0
  # With lpc_order: predict from both sides, the column's samples drawn
  # before (s, i) and the same number of the next column's, x_{t+S-s} ...
  lpc_two_sided: bool = False

  def __post_init__(self):
    if self.batch_factor < 1:
      raise errors.UserError(
          f'subscale.batch_factor={self.batch_factor} must be '
          '>= 1; the paper uses 16.')
    if self.horizon < 0:
      raise errors.UserError(
          f'subscale.horizon={self.horizon} must be >= 0 folded '
          'samples; the paper uses 64 or 128.')
    if self.channels < 1 or self.kernel < 1 or not self.dilations or min(
        self.dilations) < 1:
      raise errors.UserError(
          f'subscale.channels={self.channels}, kernel={self.kernel} and '
          f'dilations={self.dilations} must be positive (and at least one '
          'dilation); e.g. channels=16, kernel=2, dilations=(1, 2, 4, 8).')
    if self.left_input and not 1 <= self.left_samples < max(
        self.batch_factor, 2):
      raise errors.UserError(
          f'subscale.left_samples={self.left_samples} must be in [1, '
          f'batch_factor - 1 = {self.batch_factor - 1}]: sub-tensor s has '
          'only s samples of its own column before it; e.g. left_samples=1.')
    if not 0 <= self.lpc_order < max(self.batch_factor, 1):
      raise errors.UserError(
          f'subscale.lpc_order={self.lpc_order} must be in [0, '
          f'batch_factor - 1 = {self.batch_factor - 1}]: sub-tensor s '
          'predicts from the s samples of its column drawn before it; e.g. '
          'lpc_order=15.')
    if self.lpc_two_sided and not (self.lpc_order and self.horizon >= 1):
      raise errors.UserError(
          f'subscale.lpc_two_sided needs lpc_order >= 1 (got '
          f'{self.lpc_order}) and horizon >= 1 (got {self.horizon}): it '
          'predicts from the next column of the earlier sub-tensors; e.g. '
          'lpc_order=15, horizon=64.')
    if self.receptive_field < self.horizon:
      raise errors.UserError(
          f'subscale.dilations={tuple(self.dilations)} with kernel='
          f'{self.kernel} reach {self.receptive_field} folded samples back '
          f'from the horizon ({self.horizon}), so the context net never sees '
          'the samples of earlier sub-tensors next to the one it predicts; '
          f'use dilations={dilations_for(self.horizon, self.kernel)} '
          '(subscale.dilations_for(horizon, kernel)).')

  @property
  def receptive_field(self) -> int:
    """Folded samples the context net reaches back from column j + horizon.

    It sees columns j + horizon - receptive_field ... j + horizon of the
    earlier sub-tensors; it must reach j, the samples right before (s, j).
    """
    return (self.kernel - 1) * sum(self.dilations)

  @property
  def lookback(self) -> int:
    """Folded samples the widest conv layer reaches back."""
    return (self.kernel - 1) * max(self.dilations)

  @classmethod
  def from_config(cls, config) -> 'SubscaleConfig':
    s = config.subscale
    return cls(batch_factor=s.batch_factor, horizon=s.horizon,
               channels=s.channels, kernel=s.kernel,
               dilations=tuple(int(d) for d in s.dilations),
               now_tap=bool(s.get('now_tap', False)),
               left_input=bool(s.get('left_input', False)),
               left_samples=int(s.get('left_samples', 1)),
               sub_bias=bool(s.get('sub_bias', False)),
               lpc_order=int(s.get('lpc_order', 0)),
               lpc_two_sided=bool(s.get('lpc_two_sided', False)))


def dilations_for(horizon: int, kernel: int = 2) -> tuple[int, ...]:
  """Doubling dilations 1, 2, 4, ... whose receptive field spans the
  horizon's future and as many columns of the past: columns
  j - horizon + 1 ... j + horizon of the earlier sub-tensors (at least 1, 2).
  """
  need = max(2 * horizon - 1, 3)
  dilations = [1]
  while (kernel - 1) * sum(dilations) < need:
    dilations.append(dilations[-1] * 2)
  return tuple(dilations)


# ------------------------------------------------------------------ folding --


def fold(x_BxT, factor: int):
  """Folds axis 1 into sub-tensors: [B, T, ...] -> [B, N, S, ...].

  out[b, i, s] = x[b, S * i + s]; the end is zero-padded to N = ceil(T / S).
  """
  b, t = x_BxT.shape[:2]
  n = -(-t // factor)
  pad = [(0, 0), (0, n * factor - t)] + [(0, 0)] * (x_BxT.ndim - 2)
  return jnp.pad(x_BxT, pad).reshape((b, n, factor) + x_BxT.shape[2:])


def unfold(x_BxNxS, length: int):
  """Inverse of `fold`: [B, N, S, ...] -> [B, length, ...]."""
  b, n, s = x_BxNxS.shape[:3]
  return x_BxNxS.reshape((b, n * s) + x_BxNxS.shape[3:])[:, :length]


def frame_index(factor: int, n: int, hop: int, frames: int, start: int = 0):
  """Mel frame of every folded position (clipped to the last frame), [N, S].

  Position (i, s) is sample start + S * i + s, in frame (...) // P.
  """
  t_NxS = start + factor * np.arange(n)[:, None] + np.arange(factor)[None]
  return np.minimum(t_NxS // hop, frames - 1)


def features(c_BxNxS, f_BxNxS, valid_NxS):
  """Context-net input: the scaled bytes, zero where there is no sample."""
  x = jnp.stack([quantization.scale(c_BxNxS), quantization.scale(f_BxNxS)],
                -1)
  return x * jnp.asarray(valid_NxS, jnp.float32)[..., None]


# ----------------------------------------------------------- context network --


def group_mask(factor: int, strict: bool) -> np.ndarray:
  """[1, S_in, 1, S_out, 1] mask: input group z feeds output group s iff
  z < s (strict) or z <= s."""
  z, s = np.arange(factor)[:, None], np.arange(factor)[None, :]
  keep = (z < s) if strict else (z <= s)
  return keep.astype(np.float32)[None, :, None, :, None]


class ContextNet(nn.Module):
  """Weights of the masked dilated CNN over the folded tensor."""
  sub: SubscaleConfig
  gates: int  # G, outputs per position (3H).

  def setup(self):
    s, c, k = self.sub.batch_factor, self.sub.channels, self.sub.kernel
    conv_init = nn.initializers.variance_scaling(
        2.0, 'fan_in', 'truncated_normal', in_axis=(0, 1, 2), out_axis=(3, 4))
    self.kernels = [
        self.param(f'conv{l}', conv_init, (k, s, 2 if l == 0 else c, s, c))
        for l in range(len(self.sub.dilations))]
    self.biases = [self.param(f'bias{l}', nn.initializers.zeros, (s, c))
                   for l in range(len(self.sub.dilations))]
    self.out = self.param('out', nn.initializers.lecun_normal(),
                          (c, self.gates))
    if self.sub.now_tap:
      self.now = self.param('conv_now', nn.initializers.variance_scaling(
          2.0, 'fan_in', 'truncated_normal', in_axis=(0, 1), out_axis=(2, 3)),
                            (s, 2, s, c))
    if self.sub.sub_bias:
      self.b_sub = self.param('b_sub', nn.initializers.zeros,
                              (s, self.gates))
    if self.sub.lpc_order:  # p * lpc.INPUT_SCALE -> gates, as I_lpc.
      self.lpc_in = self.param('I_sub_lpc', nn.initializers.lecun_normal(),
                               (1, self.gates))
    if self.sub.left_input:  # Rows for c and f, as the cell's E_prev.
      self.left = self.param(
          'E_left', model._byte_embedding_init(2),  # pylint: disable=protected-access
          (2, 256, self.gates))
      if self.sub.left_samples > 1:  # x_{t-2} ... x_{t-left_samples}.
        self.left_more = self.param(
            'E_left_more', model._byte_embedding_init(2),  # pylint: disable=protected-access
            (self.sub.left_samples - 1, 2, 256, self.gates))

  def weights(self) -> dict:
    """Masked kernels [K, S, C_in, S, C], biases [S, C], `out` [C, G]; with
    `now_tap` also `now` [S, 2, S, C], masked to z < s; with `left_input`
    also `left` [2, 256, G], rows for the bytes of (s - 1, i), and with
    `left_samples` > 1 `left_more` [left_samples - 1, 2, 256, G], rows for
    those of (s - k, i), k >= 2; with `sub_bias` `sub_bias` [S, G]; with
    `lpc_order` `lpc` [1, G], the row of the prediction."""
    s = self.sub.batch_factor
    kernels = [w * group_mask(s, strict=(l == 0))
               for l, w in enumerate(self.kernels)]
    w = {'kernels': kernels, 'biases': list(self.biases), 'out': self.out}
    if self.sub.now_tap:
      w['now'] = self.now * group_mask(s, strict=True)[0]
    if self.sub.sub_bias:
      w['sub_bias'] = self.b_sub
    if self.sub.lpc_order:
      w['lpc'] = self.lpc_in
    if self.sub.left_input:
      w['left'] = self.left
      if self.sub.left_samples > 1:
        w['left_more'] = self.left_more
    return w


def left_term(cw: dict, lefts, s_x):
  """The `left_input` rows: sum over k of the rows of the bytes (c, f) of
  (s - k, i), `lefts[k - 1]`, each zero where s < k (`s_x`: the sub-tensor
  of each row, broadcasting against the bytes)."""
  tables = [cw['left']] + list(cw.get('left_more', ()))
  term = 0.0
  for k, (table, (c, f)) in enumerate(zip(tables, lefts), 1):
    term = term + jnp.where((s_x < k)[..., None], 0.0,
                            table[0][c] + table[1][f])
  return term


def predictor_taps(sub: SubscaleConfig):
  """Where each sub-tensor's predictor reads, numpy int [S, W] each.

  Slot w of sub-tensor s reads sample (z[s, w], i + di[s, w]) of (s, i), at
  lag l[s, w] in time (x_{t - l}; 0: the slot is unused, coefficient 0).
  Slots 0 .. K - 1: (s - k, i), l = k, for k = 1 .. m_s; with
  `lpc_two_sided` slots K .. 2K - 1: (j, i + 1), l = -(S - s + j), for
  j < m_s. m_s = min(s, lpc_order).
  """
  k, factor = sub.lpc_order, sub.batch_factor
  width = 2 * k if sub.lpc_two_sided else k
  lags, z, di = (np.zeros((factor, width), np.int32) for _ in range(3))
  for s in range(factor):
    for w in range(min(s, k)):
      lags[s, w], z[s, w] = w + 1, s - w - 1
      if sub.lpc_two_sided:
        lags[s, k + w], z[s, k + w], di[s, k + w] = -(factor - s + w), w, 1
  return lags, z, di


def predictor_orders(sub: SubscaleConfig):
  """m_s = min(s, lpc_order) of every sub-tensor s, [S]."""
  return np.minimum(np.arange(sub.batch_factor), sub.lpc_order)


def predictors(sub: SubscaleConfig, mel_BxFxM, cfg, emphasis: float):
  """Q12 coefficients of every sub-tensor's predictor per frame, [B, F, S, W]
  (slots as `predictor_taps`), from the frame's spectrum as `lpc.from_mel`.

  One-sided, row s is Levinson's order-m_s predictor (`lpc.levinson_orders`);
  two-sided, the normal equations of its 2 m_s lags (`lpc.lag_predictors`).
  """
  k = sub.lpc_order
  lags, _, _ = predictor_taps(sub)
  r = lpc.autocorrelation(lpc.power_spectrum(mel_BxFxM, cfg, emphasis),
                          cfg.n_fft, int(np.abs(lags).max(initial=0)) * 2)
  if sub.lpc_two_sided:
    a = lpc.lag_predictors(r, lags)
  else:
    a = lpc.levinson_orders(r[..., :k + 1], k)[..., predictor_orders(sub), :]
  return jax.lax.stop_gradient(lpc.quantise(a))


def split_lpc(sub: SubscaleConfig, xin_BxFxU):
  """Frame inputs -> (conditioning terms [B, F, G], predictors [B, F, S, W]
  or None): with `lpc_order` `SubscaleWaveRNN.condition` appends every
  sub-tensor's coefficients (`predictors`), flat, to each frame's terms."""
  if not sub.lpc_order:
    return xin_BxFxU, None
  factor, width = predictor_taps(sub)[0].shape
  a = xin_BxFxU[..., -factor * width:]
  return (xin_BxFxU[..., :-factor * width],
          a.reshape(a.shape[:-1] + (factor, width)))


def predict(a_BxFxSxW, frame_x, hist_Bx_xW):
  """p of samples (s, .) from their frames' predictors.

  `a_BxFxSxW`: every sub-tensor's Q12 coefficients per frame (`split_lpc`);
  `frame_x`: each sample's frame, the same for every row of the batch, with
  trailing axis S (the sub-tensor); `hist_Bx_xW`: [B, ..., S, W], the
  samples the slots read (`predictor_taps`; unused slots meet zero
  coefficients). Returns int32 p, [B, ..., S].
  """
  a = a_BxFxSxW[:, frame_x, np.arange(a_BxFxSxW.shape[2])]
  return lpc.predict(a, hist_Bx_xW)


def tap_history(x_BxNxS, sub: SubscaleConfig, first: int, count: int):
  """What the predictor slots of (s, i) read, for i = first .. first + count
  - 1, int32 [B, count, S, W] (`predictor_taps`; column N, past the end
  of the utterance, reads zeros)."""
  _, z, di = predictor_taps(sub)
  x = jnp.pad(x_BxNxS.astype(jnp.int32), [(0, 0), (0, 1), (0, 0)])
  cols = first + np.arange(count)[:, None, None] + di[None]
  return x[:, cols, np.broadcast_to(z, cols.shape)]


def lpc_term(cw: dict, p_x):
  """The prediction's input term, [..., G]: p * lpc.INPUT_SCALE times the
  learned row `cw['lpc']`."""
  return (p_x.astype(jnp.float32) * lpc.INPUT_SCALE)[..., None] * cw['lpc'][0]


def _shift(x_BxNx, offset: int):
  """x[:, j + offset], with zeros outside [0, N)."""
  n = x_BxNx.shape[1]
  before, after = max(-offset, 0), max(offset, 0)
  pad = [(0, 0), (before, after)] + [(0, 0)] * (x_BxNx.ndim - 2)
  start = before + offset
  return jnp.pad(x_BxNx, pad)[:, start:start + n]


def context_hidden(cw: dict, feats_BxNxSx2, sub: SubscaleConfig):
  """The context network's last layer over a whole folded tensor, [B, N, S, C].

  The network's output is this times `cw['out']` ([C, G]), applied per chunk
  by `log_probs` so no [B, N, S, G] tensor is ever made. Tap t of layer l
  reads column j - t * dilation_l of the layer below; for layer 0 that is
  sample j + horizon - t * dilation_0 (zero outside the tensor), and with
  `cw['now']` also sample j.
  `subscale_sampling._context_step` is the same net, one column at a time.
  """
  h, base = feats_BxNxSx2, sub.horizon  # Layer 0 reads samples j + horizon.
  for l, d in enumerate(sub.dilations):
    acc = cw['biases'][l]
    if l == 0 and 'now' in cw:
      acc = acc + jnp.einsum('bnzc,zcsd->bnsd', feats_BxNxSx2, cw['now'])
    for tap in range(sub.kernel):
      acc = acc + jnp.einsum('bnzc,zcsd->bnsd', _shift(h, base - tap * d),
                             cw['kernels'][l][tap])
    base = 0
    h = jax.nn.relu(acc) if l == 0 else h + jax.nn.relu(acc)
  return h


# --------------------------------------------------------- teacher forcing --


def teacher_forced(w: model.Weights, cw: dict, xin_BxFxG, idx_NxS,
                   ctx_BxNxSxC, bytes_BxNxS, chunk: int = 16,
                   left_BxNxS=None, pred_BxNxS=None):
  """ln P of every folded position, all sub-tensors as one WaveRNN batch.

  Like `model.teacher_forced`: per chunk of folded steps the input terms
  (mel of each sample's frame + context-net output + I* of the previous
  sample + c_t into the fine halves) are made at once, the recurrence is
  scanned, and the heads run on the chunk's states at once.

  Args:
    w: the WaveRNN cell weights.
    cw: the context-net weights.
    xin_BxFxG: frame-rate input terms (mel conditioning + bias).
    idx_NxS: the frame of every position.
    ctx_BxNxSxC: the context network's last layer (`context_hidden`).
    bytes_BxNxS: (previous c, previous f, c, f) of every position.
    chunk: folded steps per chunk (memory: chunk * B * S * G floats).
    left_BxNxS: with `cw['left']`, (c, f) of (s - k, i) at every (s, i),
      for k = 1 .. left_samples, flat: (c_1, f_1, c_2, f_2, ...).
    pred_BxNxS: with `cw['lpc']`, the prediction p of every position (its
      bytes in `bytes_BxNxS` are then the excitation's).

  Returns:
    ln P(c) and ln P(f | c), float32 [B, N, S].
  """
  b, n, factor = bytes_BxNxS[0].shape
  hidden = w['R'].shape[0]
  q = min(chunk, n)
  m = -(-n // q)
  # [B, N, S, ...] -> [M, Q, B * S, ...], zero-padded to M * Q steps at the
  # end (scored and dropped after the real ones).
  pad = lambda x: jnp.pad(x, [(0, 0), (0, m * q - n)] + [(0, 0)] *
                          (x.ndim - 2))
  chunks = lambda x: jnp.swapaxes(pad(x), 0, 1).reshape(
      (m, q, b * factor) + x.shape[3:])
  idx_MxQxS = jnp.asarray(np.pad(idx_NxS, [(0, m * q - n), (0, 0)]).reshape(
      m, q, factor))
  s_B = jnp.asarray(np.tile(np.arange(factor), b))  # Sub-tensor of each row.

  def recurrence(h_BxH, x_Bx3x2xH2):
    h_Bx2xH2 = model.gru(h_BxH.reshape(-1, 2, hidden // 2),
                         model.recur(w, h_BxH), x_Bx3x2xH2)
    h_BxH = h_Bx2xH2.reshape(-1, hidden)
    return h_BxH, h_BxH

  def chunk_step(h_BxH, inputs):
    idx_QxS, ctx_QxBxC, (pc, pf, c, f), left, pred = inputs
    xin_QxBxG = jnp.swapaxes(xin_BxFxG[:, idx_QxS], 0, 1).reshape(
        q, b * factor, -1) + ctx_QxBxC @ cw['out']
    if 'sub_bias' in cw:  # The gate bias of each row's sub-tensor.
      xin_QxBxG = xin_QxBxG + cw['sub_bias'][s_B]
    if left:  # (c, f) of (s - k, i), with `cw['left']`.
      xin_QxBxG = xin_QxBxG + left_term(cw, tuple(zip(left[::2], left[1::2])),
                                        s_B)
    if pred:  # The prediction p, with `cw['lpc']`.
      xin_QxBxG = xin_QxBxG + lpc_term(cw, pred[0])
    x = model.input_term(w, xin_QxBxG, pc, pf)
    x = x.at[..., 1, :].add(model.c_term(w, c))
    h_BxH, h_QxBxH = jax.lax.scan(recurrence, h_BxH, x)
    logits_c = model.head(w, h_QxBxH[..., :hidden // 2], 'O1', 'O2')
    logits_f = model.head(w, h_QxBxH[..., hidden // 2:], 'O3', 'O4')
    pick = lambda logits, i: jnp.take_along_axis(
        jax.nn.log_softmax(logits), i[..., None], -1)[..., 0]
    return h_BxH, (pick(logits_c, c), pick(logits_f, f))

  h0 = jnp.zeros((b * factor, hidden), jnp.float32)
  _, lps = jax.lax.scan(chunk_step, h0, (
      idx_MxQxS, chunks(ctx_BxNxSxC), tuple(map(chunks, bytes_BxNxS)),
      tuple(map(chunks, left_BxNxS or ())),
      tuple(map(chunks, () if pred_BxNxS is None else (pred_BxNxS,)))))
  back = lambda x: jnp.swapaxes(x.reshape(m * q, b, factor), 0, 1)[:, :n]
  return tuple(map(back, lps))


def log_probs(w: model.Weights, cw: dict, sub: SubscaleConfig, audio_BxT,
              xin_BxFxG, hop: int, margin: int = 0):
  """Teacher-forced ln P of the samples of `audio_BxT`, in time order.

  Args:
    w: the WaveRNN cell weights.
    cw: the context-net weights (`ContextNet.weights`).
    sub: subscale hyper-parameters.
    audio_BxT: int16 audio.
    xin_BxFxG: frame-rate input terms (mel conditioning + bias), F = T // P.
    hop: P, samples per frame.
    margin: samples at each end that only give context (training windows);
      T - 2 * margin must be a multiple of S. 0: score the whole utterance,
      which starts from silence as the sampler does.

  Returns:
    ln P(c_t | ...) and ln P(f_t | c_t, ...), float32 [B, T - 2 * margin].
  """
  factor = sub.batch_factor
  b, t = audio_BxT.shape
  scored = t - 2 * margin
  if margin:
    if scored % factor:
      raise ValueError(f'the scored span ({scored} samples) must be a '
                       f'multiple of subscale.batch_factor={factor}.')
    # Fold a span aligned so the scored samples start a folded step.
    start, first = margin % factor, margin // factor
    n = (t - start) // factor
    length = n * factor
  else:
    start, first, n, length = 0, 0, -(-t // factor), t
  n_scored = -(-scored // factor)
  xin_BxFxG, a_BxFxSxW = split_lpc(sub, xin_BxFxG)
  folded_BxNxS = fold(audio_BxT[:, start:start + length], factor)
  valid_NxS = (factor * np.arange(n)[:, None] + np.arange(factor)) < length
  c, f = quantization.split(folded_BxNxS)
  ctx_BxNxSxC = context_hidden(cw, features(c, f, valid_NxS), sub)
  span = slice(first, first + n_scored)
  idx_NxS = frame_index(factor, n, hop, xin_BxFxG.shape[1], start)[span]
  pred = None
  targets = (c[:, span], f[:, span])
  if a_BxFxSxW is not None:  # Score the excitation after prediction.
    hist = tap_history(folded_BxNxS, sub, first, n_scored)
    pred = predict(a_BxFxSxW, idx_NxS, hist)
    targets = quantization.split(quantization.wrap(
        folded_BxNxS[:, span].astype(jnp.int32) - pred).astype(jnp.int16))
  if first:
    pc, pf = c[:, first - 1:first - 1 + n_scored], f[:, first - 1:
                                                    first - 1 + n_scored]
  else:
    sc, sf = quantization.split(jnp.zeros((b, 1, factor), jnp.int16))
    pc = jnp.concatenate([sc, c[:, :n_scored - 1]], 1)
    pf = jnp.concatenate([sf, f[:, :n_scored - 1]], 1)
  left = None
  if 'left' in cw:  # (s - k, i) of every (s, i); s < k: placeholders, masked.
    before = lambda x, k: jnp.concatenate([x[..., :k], x[..., :-k]],
                                          -1)[:, span]
    left = tuple(before(x, k) for k in range(1, sub.left_samples + 1)
                 for x in (c, f))
  lp_c, lp_f = teacher_forced(w, cw, xin_BxFxG, idx_NxS, ctx_BxNxSxC[:, span],
                              (pc, pf) + tuple(targets),
                              left_BxNxS=left, pred_BxNxS=pred)
  return unfold(lp_c, scored), unfold(lp_f, scored)


class SubscaleWaveRNN(model.WaveRNN):
  """The WaveRNN (same parameters and names) plus the context network."""
  sub: SubscaleConfig = SubscaleConfig()

  def setup(self):
    super().setup()
    self.context = ContextNet(self.sub, 3 * self.cfg.hidden)

  def context_weights(self) -> dict:
    return self.context.weights()

  def condition(self, mel_BxFxM, batch: int, frames: int):
    """`WaveRNN.condition`; with `sub.lpc_order` each frame's predictor of
    every sub-tensor follows, flat (S W; `split_lpc`)."""
    x = super().condition(mel_BxFxM, batch, frames)
    if self.sub.lpc_order:
      a = predictors(self.sub, mel_BxFxM, self.cfg.mel, self.cfg.emphasis)
      x = jnp.concatenate([x, a.reshape(a.shape[:2] + (-1,))], -1)
    return x

  def __call__(self, audio_BxT, mel_BxFxM=None, context_frames: int = 0,
               return_logits: bool = False, cell_weights=None):
    """Teacher-forced ln P of every sample (as `WaveRNN.__call__`).

    Args:
      audio_BxT: int16 audio, T = F * P.
      mel_BxFxM: log-mel frames (None when unconditional).
      context_frames: frames at each end that only give context.
      return_logits: not supported (raises).
      cell_weights: cell weights used instead of the parameters' (e.g. a
        block-sparse R, sparse_training.py).

    Returns:
      ln P(c_t | ...) and ln P(f_t | c_t, ...), each float32 [B, T'] in
      normal time order, T' = T - 2 * context_frames * P.
    """
    if return_logits:
      raise NotImplementedError('return_logits is for the dense model.')
    p = self.cfg.hop_length
    b, t = audio_BxT.shape
    xin_BxFxG = self.condition(mel_BxFxM, b, t // p)
    return log_probs(dict(self.weights(), **(cell_weights or {})),
                     self.context_weights(), self.sub,
                     audio_BxT, xin_BxFxG, p, context_frames * p)
