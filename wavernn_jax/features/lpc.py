"""Linear prediction from the mel frames (LPCNet-style noise shaping).

With `model.lpc_order` = K > 0 the network models the excitation
e_t = s_t - p_t of the (pre-emphasised) signal s, where the prediction
p_t = round(sum_k a_k s_{t-k}) uses K coefficients computed from the
conditioning mel frame of sample t (Valin & Skoglund 2019, LPCNet: "the
LPC ... computed from the cepstrum"; here from our log-mel). The sampler
draws e_t and outputs s_t = e_t + p_t, so the noise of sampling is shaped by
the synthesis filter 1 / A(z): it follows the spectral envelope of the mel
instead of lying flat under it. As with pre-emphasis, every quantity is an
integer, and s <-> e is a bijection of int16 sequences wherever e and p fit
in int16: the NLL of e is the NLL of s.

From mel to coefficients (per frame, all in JAX): the band magnitudes
mel_m / sum_k W_mk (the filter's area), interpolated linearly in Hz between
band centres to the FFT bins; squared, times the emphasis filter's response
|1 - alpha e^{-jw}|^2 and with a white floor 40 dB below the mean (so the
filter stays well conditioned in silence); inverse FFT to the
autocorrelation; Levinson-Durbin.

Shapes: B batch, F frames, M mel bins, K order, T samples, P hop.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from wavernn_jax.features import mel as mel_lib
from wavernn_jax.features import quantization

COEF_BITS = 12  # Coefficients are multiples of 2^-12 ...
COEF_MAX = 2 ** 16 - 1  # ... with |a_k| < 16.
NOISE_FLOOR = 1e-4  # White floor added to the power spectrum (-40 dB).
INPUT_SCALE = 1.0 / 4096  # s_{t-1} and p_t as cell inputs (RMS ~0.3).


@functools.lru_cache(maxsize=8)
def _band_to_bins(cfg: mel_lib.MelConfig) -> np.ndarray:
  """[M, K] map from band magnitudes to FFT-bin magnitudes.

  Band m's magnitude is mel_m / sum_k W_mk; bins between two band centres
  interpolate linearly in Hz, bins beyond the outer centres take the edge
  band's value.
  """
  weights = mel_lib.mel_filterbank(cfg)
  area_M = weights.sum(1)
  centres = (weights * np.linspace(0, cfg.sample_rate / 2,
                                   weights.shape[1])).sum(1) / area_M
  fft_hz = np.linspace(0, cfg.sample_rate / 2, cfg.n_fft // 2 + 1)
  eye = np.eye(cfg.n_mels)
  interp_MxK = np.stack([np.interp(fft_hz, centres, eye[m])
                         for m in range(cfg.n_mels)])
  return (interp_MxK / area_M[:, None]).astype(np.float32)


def levinson(r_xK1, order: int):
  """Predictor coefficients a [..., K] from autocorrelations r [..., K + 1].

  s_t ~ sum_k a_k s_{t-k} (k = 1..K) minimises the prediction error of a
  signal with autocorrelation r (Levinson-Durbin recursion).
  """
  return levinson_orders(r_xK1, order)[..., order, :]


def levinson_orders(r_xK1, order: int):
  """Every order's predictor at once: [..., K + 1, K], row m the optimal
  order-m predictor (a_1 .. a_m, zeros after; row 0 all zeros).

  Levinson-Durbin solves the orders 1, 2, ..., K in turn, so row K is
  `levinson(r, K)` and row m is `levinson(r[..., :m + 1], m)`. The Subscale
  model's sub-tensor s predicts from the s samples of its own column drawn
  before it, with row min(s, K).
  """
  a = jnp.zeros(r_xK1.shape[:-1] + (order,), r_xK1.dtype)
  rows = [a]
  err = r_xK1[..., 0]
  for i in range(order):
    acc = r_xK1[..., i + 1] - jnp.sum(a[..., :i] * r_xK1[..., i:0:-1], -1)
    k = acc / err
    prev = a[..., :i]
    a = a.at[..., :i].set(prev - k[..., None] * prev[..., ::-1])
    a = a.at[..., i].set(k)
    err = err * (1.0 - k * k)
    rows.append(a)
  return jnp.stack(rows, -2)


def power_spectrum(mel_BxFxM, cfg: mel_lib.MelConfig, emphasis: float = 0.0):
  """Each frame's power spectrum [B, F, n_fft / 2 + 1] as the mel gives it.

  Band magnitudes interpolated to the FFT bins, squared, times the emphasis
  filter's response, plus the white floor.
  """
  mag_BxFxK = jnp.exp(mel_BxFxM) @ _band_to_bins(cfg)
  power = mag_BxFxK * mag_BxFxK
  if emphasis:
    w = np.linspace(0, np.pi, cfg.n_fft // 2 + 1)
    power = power * (1.0 + emphasis ** 2 - 2.0 * emphasis * np.cos(w))
  return power + NOISE_FLOOR * power.mean(-1, keepdims=True)


def autocorrelation(power_xK, n_fft: int, order: int):
  """r_0 .. r_K [..., order + 1] of power spectra (inverse FFT)."""
  return jnp.fft.irfft(power_xK, n=n_fft, axis=-1)[..., :order + 1]


def from_power(power_xK, n_fft: int, order: int):
  """Unquantised LPC coefficients [..., order] of power spectra."""
  return levinson(autocorrelation(power_xK, n_fft, order), order)


def per_frame(fn, mel_BxFxM):
  """fn of each frame alone ([1, 1, M] -> [1, 1, ...]): [B, F, ...].

  One frame at a time (`lax.map`): batched FFTs and products round by a
  frame's position among the others, and one rounding flip moves a Q12
  coefficient (or a pitch lag). Computed alone, a frame's features do not
  depend on how many frames or rows come with it, so `generate`'s windows,
  `stream`'s and `log_prob`'s whole utterance all get the same ones.
  """
  lead, m = mel_BxFxM.shape[:-1], mel_BxFxM.shape[-1]
  out = jax.lax.map(lambda x: jax.tree_util.tree_map(
      lambda y: y[0, 0], fn(x[None, None])), mel_BxFxM.reshape(-1, m))
  return jax.tree_util.tree_map(
      lambda y: y.reshape(lead + y.shape[1:]), out)


def from_mel(mel_BxFxM, cfg: mel_lib.MelConfig, order: int,
             emphasis: float = 0.0, alone: bool = True):
  """LPC coefficients a [B, F, K] of each frame's (emphasised) spectrum,
  each frame computed `alone` (`per_frame`) or all at once (training: 44 ms
  less per flagship step with the pitch features, issue 37)."""
  def one(mel_xM):
    power = power_spectrum(mel_xM, cfg, emphasis)
    return quantise(from_power(power, cfg.n_fft, order))
  a = per_frame(one, mel_BxFxM) if alone else one(mel_BxFxM)
  return jax.lax.stop_gradient(a)


def lag_predictors(r_xL, lags_SxW):
  """Optimal linear predictors from arbitrary sets of lags, [..., S, W].

  Row s predicts s_t ~ sum_w a_w s_{t - l_w} from the lags l = lags[s]
  (positive: the past, negative: the future; 0 marks an unused slot, whose
  coefficient is 0): the normal equations R a = r_l with R_wv =
  r(|l_w - l_v|) (R is positive definite: the power spectrum has a white
  floor; unused slots get an identity row). With lags 1 .. m this is
  `levinson(r, m)`. `r_xL` [..., L + 1] must reach L >= every |l_w - l_v|
  and |l_w|. The Subscale model predicts sample (s, i) from samples on both
  sides of it that its ordering has drawn (`subscale.predictor_taps`).
  """
  lags = np.asarray(lags_SxW)
  used = (lags != 0).astype(np.float32)
  gram = used[:, :, None] * used[:, None, :]
  rr = r_xL[..., np.abs(lags[:, :, None] - lags[:, None, :])]
  rr = rr * gram + np.eye(lags.shape[1], dtype=np.float32) * (1.0 - gram)
  rhs = r_xL[..., np.abs(lags)] * used
  return jnp.linalg.solve(rr, rhs[..., None])[..., 0] * used


def quantise(a_xK):
  """Coefficients on the Q12 grid (multiples of 1/4096), |a_k| < 16."""
  return jnp.clip(jnp.round(a_xK * 2.0 ** COEF_BITS), -COEF_MAX,
                  COEF_MAX) / 2.0 ** COEF_BITS


def fixed_point(a_xK):
  """Q12 coefficients (`quantise`) as the int32 multiples of 2^-12."""
  return jnp.round(a_xK * 2.0 ** COEF_BITS).astype(jnp.int32)


def predict(a_xK, hist_xK):
  """p_t = round(sum_k a_k s_{t-k}), int32 in int16 range.

  hist[..., k-1] = s_{t-k} (integers); a: Q12 coefficients as floats, or
  already as `fixed_point` integers (the sampler converts once per frame).
  Exact integer arithmetic, so the vectorised encoder (`residual`) and the
  sampler's step give the same p_t whatever order or fused multiply-adds
  XLA picks for each shape: in float32 they differ by one now and then,
  and a single differing p_t derails the synthesis filter from there on.
  Each s splits into bytes (s = 256 hi + lo) so no int32 sum overflows.
  """
  a_q = (fixed_point(a_xK) if jnp.issubdtype(a_xK.dtype, jnp.floating)
         else a_xK)
  s = hist_xK.astype(jnp.int32)
  acc_hi = jnp.sum(a_q * (s >> 8), -1)  # |.| < 16 * 2^16 * 2^7 = 2^27.
  acc_lo = jnp.sum(a_q * (s & 255), -1)  # |.| < 16 * 2^16 * 2^8 = 2^28.
  # round((256 acc_hi + acc_lo) / 2^12) without forming 256 acc_hi.
  shift = COEF_BITS - 8
  rest = ((acc_hi & (2 ** shift - 1)) << 8) + acc_lo + 2 ** (COEF_BITS - 1)
  p = (acc_hi >> shift) + (rest >> COEF_BITS)
  return jnp.clip(p, -32768, 32767)


def advance(hist_BxK, e_B, p_B):
  """One synthesis step: s_t = wrap(e_t + p_t) and the shifted history.

  Returns s_t (int32 [B]) and s_{t..t-K+1} [B, K], the next step's history.
  """
  s = quantization.wrap(e_B.astype(jnp.int32) + p_B)
  return s, jnp.concatenate([s[:, None], hist_BxK[:, :-1]], axis=1)


def history(signal_BxT, order: int):
  """s_{t-1..t-K} of every sample, int32 [B, T, K] (zeros before t = 0)."""
  s = signal_BxT.astype(jnp.int32)
  t = s.shape[1]
  padded = jnp.pad(s, ((0, 0), (order, 0)))
  return jnp.stack([padded[:, order - k:order - k + t]
                    for k in range(1, order + 1)], -1)


def residual(signal_BxT, a_BxFxK, hop: int):
  """The excitation e (int16 [B, T]) and prediction p (int32 [B, T]).

  e_t = wrap(s_t - p_t) (`quantization.wrap`: modulo 2^16 into int16); the
  sampler inverts it step by step (s_t = wrap(e_t + p_t)), exactly on every
  int16 signal, full scale and clipping included.
  """
  a_BxTxK = jnp.repeat(a_BxFxK, hop, axis=1)
  p_BxT = predict(a_BxTxK, history(signal_BxT, a_BxFxK.shape[-1]))
  e = quantization.wrap(signal_BxT.astype(jnp.int32) - p_BxT)
  return e.astype(jnp.int16), p_BxT


def synthesise(excitation_BxT, a_BxFxK, hop: int):
  """Inverse of `residual`, one sample at a time (a reference for tests)."""
  order = a_BxFxK.shape[-1]
  a_TxBxK = jnp.swapaxes(jnp.repeat(a_BxFxK, hop, axis=1), 0, 1)

  def step(hist_BxK, inputs):
    e_B, a_BxK = inputs
    s, hist_BxK = advance(hist_BxK, e_B, predict(a_BxK, hist_BxK))
    return hist_BxK, s

  hist = jnp.zeros((excitation_BxT.shape[0], order), jnp.int32)
  _, s_TxB = jax.lax.scan(step, hist, (excitation_BxT.T, a_TxBxK))
  return s_TxB.T.astype(jnp.int16)
