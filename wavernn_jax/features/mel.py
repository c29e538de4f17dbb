"""Log-mel spectrogram in JAX (the vocoder's conditioning features).

Matches `librosa.feature.melspectrogram(power=1, center=True,
pad_mode='reflect', htk=False, norm='slaney')` followed by
`log(max(mel, 1e-5))`, except that the frame count is T // hop (the last,
half-empty frame of a centred STFT is dropped) so that frame k covers samples
[k * hop, (k + 1) * hop) of the audio the vocoder generates.

Shapes: B batch, T samples, F = T // hop frames, M mel bins, K = n_fft // 2 + 1.
"""

import dataclasses
import functools
import os

import jax
import jax.numpy as jnp
import numpy as np

from wavernn_jax.utils import errors

LOG_FLOOR = 1e-5  # Magnitudes below this are clipped before the log.
PADDINGS = ('center', 'hifigan')
HIFIGAN_EPS = 1e-9  # HiFi-GAN's magnitude: sqrt(re^2 + im^2 + eps).


@dataclasses.dataclass(frozen=True)
class MelConfig:
  sample_rate: int = 16000  # Hz.
  n_fft: int = 1024  # samples per FFT.
  win_length: int = 800  # samples in the Hann window (<= n_fft).
  hop_length: int = 200  # samples between frames.
  n_mels: int = 80  # mel bins.
  fmin: float = 40.0  # Hz, lowest mel band edge.
  fmax: float = 8000.0  # Hz, highest mel band edge (<= sample_rate / 2).
  # 'center': reflect-pad n_fft // 2 at each end, |X| (librosa center=True).
  # 'hifigan': reflect-pad (n_fft - hop) // 2, sqrt(|X|^2 + 1e-9), as
  # HiFi-GAN's / NVIDIA Tacotron 2's mel_spectrogram.
  padding: str = 'center'

  def __post_init__(self):
    if self.padding not in PADDINGS:
      raise errors.UserError(f'mel padding={self.padding!r} is unknown; use '
                             f'one of {PADDINGS}.')
    if not 0 < self.win_length <= self.n_fft:
      raise errors.UserError(
          f'mel win_length={self.win_length} must be in '
          f'(0, n_fft={self.n_fft}]; lower it or raise n_fft.')
    if self.hop_length <= 0 or self.n_mels <= 0:
      raise errors.UserError('mel hop_length and n_mels must be positive, got '
                             f'{self.hop_length} and {self.n_mels}.')
    if not 0 <= self.fmin < self.fmax <= self.sample_rate / 2:
      raise errors.UserError(f'mel needs 0 <= fmin ({self.fmin}) < fmax '
                             f'({self.fmax}) <= sample_rate / 2 '
                             f'({self.sample_rate / 2}); fix fmin/fmax.')


def _hz_to_mel(hz):
  """Slaney's mel scale: linear below 1 kHz, logarithmic above."""
  hz = np.asarray(hz, np.float64)
  f_sp, min_log_hz = 200.0 / 3, 1000.0
  logstep = np.log(6.4) / 27.0
  mel = hz / f_sp
  return np.where(hz >= min_log_hz,
                  min_log_hz / f_sp + np.log(np.maximum(hz, 1e-10) / min_log_hz)
                  / logstep, mel)


def _mel_to_hz(mel):
  mel = np.asarray(mel, np.float64)
  f_sp, min_log_hz = 200.0 / 3, 1000.0
  min_log_mel = min_log_hz / f_sp
  logstep = np.log(6.4) / 27.0
  return np.where(mel >= min_log_mel,
                  min_log_hz * np.exp(logstep * (mel - min_log_mel)),
                  f_sp * mel)


@functools.lru_cache(maxsize=8)
def mel_filterbank(cfg: MelConfig) -> np.ndarray:
  """Slaney-normalised triangular mel filters, float32 [M, K]."""
  fft_hz = np.linspace(0, cfg.sample_rate / 2, cfg.n_fft // 2 + 1)
  mel_pts = np.linspace(_hz_to_mel(cfg.fmin), _hz_to_mel(cfg.fmax),
                        cfg.n_mels + 2)
  hz_pts = _mel_to_hz(mel_pts)
  lower = (fft_hz[None, :] - hz_pts[:-2, None]) / np.diff(hz_pts)[:-1, None]
  upper = (hz_pts[2:, None] - fft_hz[None, :]) / np.diff(hz_pts)[1:, None]
  weights = np.maximum(0, np.minimum(lower, upper))
  weights *= (2.0 / (hz_pts[2:] - hz_pts[:-2]))[:, None]
  return weights.astype(np.float32)


def _window(cfg: MelConfig) -> np.ndarray:
  """Periodic Hann window of win_length, zero-padded to n_fft (centred)."""
  n = np.arange(cfg.win_length)
  win = 0.5 - 0.5 * np.cos(2 * np.pi * n / cfg.win_length)
  left = (cfg.n_fft - cfg.win_length) // 2
  return np.pad(win, (left, cfg.n_fft - cfg.win_length - left)).astype(
      np.float32)


def _pad(cfg: MelConfig) -> int:
  """Reflect padding at each end of the audio."""
  if cfg.padding == 'hifigan':
    return (cfg.n_fft - cfg.hop_length) // 2
  return cfg.n_fft // 2


def log_mel(wave_BxT, cfg: MelConfig):
  """Log-mel spectrogram of float audio.

  Args:
    wave_BxT: float audio in [-1, 1], shape [B, T]; T > n_fft // 2.
    cfg: the feature parameters.

  Returns:
    float32 [B, T // hop, M], natural log of mel magnitudes.
  """
  wave_BxT = jnp.asarray(wave_BxT, jnp.float32)
  t = wave_BxT.shape[-1]
  pad = _pad(cfg)
  if t <= pad:
    raise errors.UserError(f'audio of {t} samples is too short for a mel '
                           f'spectrogram with n_fft={cfg.n_fft}; give at least '
                           f'{pad + 1} samples.')
  frames = t // cfg.hop_length
  padded = jnp.pad(wave_BxT, ((0, 0), (pad, pad)), mode='reflect')
  idx_FxN = (np.arange(frames)[:, None] * cfg.hop_length +
             np.arange(cfg.n_fft)[None, :])
  frames_BxFxN = padded[:, idx_FxN] * _window(cfg)
  spec_BxFxK = jnp.fft.rfft(frames_BxFxN, axis=-1)
  if cfg.padding == 'hifigan':
    mag_BxFxK = jnp.sqrt(jnp.real(spec_BxFxK) ** 2 +
                         jnp.imag(spec_BxFxK) ** 2 + HIFIGAN_EPS)
  else:
    mag_BxFxK = jnp.abs(spec_BxFxK)
  mel_BxFxM = mag_BxFxK @ mel_filterbank(cfg).T
  return jnp.log(jnp.maximum(mel_BxFxM, LOG_FLOOR))


def describe(cfg: MelConfig) -> dict:
  """The exact definition of `log_mel`, field by field (model cards,
  `Vocoder.mel_spec`): what another front-end must compute to feed a
  model trained on it."""
  return dict(
      sample_rate=cfg.sample_rate, n_fft=cfg.n_fft,
      window=f'periodic Hann of {cfg.win_length} samples, zero-padded to '
             f'n_fft (centred)',
      win_length=cfg.win_length, hop_length=cfg.hop_length,
      padding=(f'reflect, n_fft // 2 = {cfg.n_fft // 2} samples at each '
               'end (librosa center=True); frames = samples // hop_length, '
               'frame k centred on sample k * hop_length'
               if cfg.padding == 'center' else
               f'reflect, (n_fft - hop_length) // 2 = {_pad(cfg)} samples at '
               'each end, no centring (HiFi-GAN / NVIDIA Tacotron 2); frames '
               '= samples // hop_length, frame k centred on sample k * '
               'hop_length + hop_length / 2'),
      n_mels=cfg.n_mels, mel_scale='slaney (linear below 1 kHz, log above)',
      mel_norm='slaney (each filter divided by its width in Hz / 2)',
      fmin=cfg.fmin, fmax=cfg.fmax,
      magnitude=('STFT magnitude (abs, power 1)' if cfg.padding == 'center'
                 else f'sqrt(re^2 + im^2 + {HIFIGAN_EPS:g}) (power 1)'),
      log=f'natural log of max(mel, {LOG_FLOOR:g})',
      audio='float in [-1, 1] (int16 / 32768)')


def value_range(cfg: MelConfig) -> tuple[float, float]:
  """(lowest, highest) value `log_mel` can give for audio in [-1, 1]: the
  log floor, and the log of the largest filter's sum times the window's
  sum (an STFT bin's magnitude is at most the window's sum)."""
  top = float(mel_filterbank(cfg).sum(1).max()) * float(_window(cfg).sum())
  return float(np.log(LOG_FLOOR)), float(np.log(top))


def load(path: str) -> np.ndarray:
  """A mel from a file: float [frames, n_mels] in `.npy`, or `.npz` with
  one array (or one named `mel`). One-line errors on anything else."""
  if not os.path.isfile(path):
    raise errors.UserError(f'no such mel file {path}; give a .npy or .npz '
                           'file of a float [frames, n_mels] array.')
  try:
    data = np.load(path, allow_pickle=False)
  except (ValueError, OSError) as e:
    raise errors.UserError(
        f'cannot read {path} as .npy / .npz ({str(e).splitlines()[0]}); '
        'save it with numpy.save(path, mel).') from e
  if isinstance(data, np.lib.npyio.NpzFile):
    with data:
      names = list(data.keys())
      if 'mel' in names:
        array = data['mel']
      elif len(names) == 1:
        array = data[names[0]]
      else:
        raise errors.UserError(
            f'{path} holds {len(names)} arrays ({", ".join(names)}); name '
            'the mel `mel` (numpy.savez(path, mel=mel)) or save only it.')
  else:
    array = data
  if array.ndim == 3 and array.shape[0] == 1:
    array = array[0]
  if array.ndim != 2 or not np.issubdtype(array.dtype, np.floating):
    raise errors.UserError(
        f'the mel in {path} is {array.dtype} {list(array.shape)}; give a '
        'float [frames, n_mels] array.')
  return array
