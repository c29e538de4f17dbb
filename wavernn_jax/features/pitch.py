"""Pitch period and voicing from the mel frames (LPCNet-style features).

LPCNet conditions its frame-rate network on the pitch period (embedded) and
the pitch correlation besides the cepstrum. Our vocoder gets only the
log-mel, whose lowest bands (~37 Hz apart below 1 kHz at 16 kHz, 80 bands)
resolve the first harmonics of a voice, so both features are computed from
the mel itself and are available wherever the mel is (`model.pitch`).

Per frame, all in JAX: the power spectrum the mel gives
(`lpc.power_spectrum`, no emphasis), whitened by its own order-16 LPC
inverse filter |A(w)|^2 (so formants do not masquerade as periodicity) and
cut above 1.5 kHz (where the bands are too wide to show harmonics; their
smooth interpolation would only dilute the peak), inverse FFT to the
normalised autocorrelation of the "excitation", and its peak over the lags
of `lag_range` (60-400 Hz): the peak's lag is the period in samples, its
height (in [-1, 1]) the voicing. Neither has a gradient: they are
features, like the mel. Against pYIN on the audio itself, the period is
within 5 % on 83 % of voiced test frames (docs/RESULTS.md, round 6;
`experiments/studies/pitch_accuracy.py`).

Shapes: B batch, F frames, M mel bins, K FFT bins, L lags.
"""

import jax
import jax.numpy as jnp
import numpy as np

from wavernn_jax.features import lpc
from wavernn_jax.features import mel as mel_lib

F0_MAX = 400.0  # Hz, the shortest period searched.
F0_MIN = 60.0  # Hz, the longest period searched.
WHITENING_ORDER = 16  # LPC order of the whitening filter.
CUTOFF = 1500.0  # Hz; above it the mel bands are too wide to show harmonics.


def lag_range(cfg: mel_lib.MelConfig) -> tuple[int, int]:
  """(shortest, longest) period in samples that `from_mel` returns.

  60-400 Hz, except that an n_fft-point spectrum only gives lags below
  n_fft / 2 (the tests' tiny preset: n_fft = 256 at 16 kHz, >= 126 Hz).
  """
  lo = int(cfg.sample_rate // F0_MAX)
  return lo, max(lo, min(int(cfg.sample_rate // F0_MIN), cfg.n_fft // 2 - 1))


def num_lags(cfg: mel_lib.MelConfig) -> int:
  lo, hi = lag_range(cfg)
  return hi - lo + 1


def from_mel(mel_BxFxM, cfg: mel_lib.MelConfig, alone: bool = True):
  """Pitch period (int32 samples) and voicing (float32) of each frame.

  Returns:
    period [B, F] in `lag_range(cfg)` and the normalised autocorrelation at
    that lag [B, F] (near 1 for a steady voiced frame, near 0 for noise).
    Each frame is computed `alone` (`lpc.per_frame`), or all at once.
  """
  if not alone:
    return _from_mel(mel_BxFxM, cfg)
  return lpc.per_frame(lambda m: _from_mel(m, cfg), mel_BxFxM)


def _from_mel(mel_BxFxM, cfg: mel_lib.MelConfig):
  power = lpc.power_spectrum(mel_BxFxM, cfg)
  a = lpc.from_power(power, cfg.n_fft, WHITENING_ORDER)
  inverse = jnp.concatenate([jnp.ones_like(a[..., :1]), -a], -1)
  response = jnp.fft.rfft(inverse, n=cfg.n_fft, axis=-1)
  white = power * (response.real ** 2 + response.imag ** 2)
  white = white * (np.linspace(0, cfg.sample_rate / 2, cfg.n_fft // 2 + 1)
                   < CUTOFF)
  r = jnp.fft.irfft(white, n=cfg.n_fft, axis=-1)
  lo, hi = lag_range(cfg)
  r_BxFxL = r[..., lo:hi + 1] / r[..., :1]
  k = jnp.argmax(r_BxFxL, axis=-1)
  corr = jnp.take_along_axis(r_BxFxL, k[..., None], -1)[..., 0]
  period = (k + lo).astype(jnp.int32)
  return jax.lax.stop_gradient(period), jax.lax.stop_gradient(corr)
