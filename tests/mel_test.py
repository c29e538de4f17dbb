"""The JAX log-mel against librosa (test-only dependency)."""

import librosa
import numpy as np
import pytest

from wavernn_jax.features import mel as mel_lib

CFG = mel_lib.MelConfig(sample_rate=16000, n_fft=1024, win_length=800,
                        hop_length=200, n_mels=80, fmin=40.0, fmax=8000.0)


def test_filterbank_matches_librosa():
  ours = mel_lib.mel_filterbank(CFG)
  ref = librosa.filters.mel(sr=16000, n_fft=1024, n_mels=80, fmin=40.0,
                            fmax=8000.0)
  np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-7)


def test_log_mel_matches_librosa():
  rng = np.random.default_rng(0)
  t = np.arange(16000) / 16000
  wave = (0.3 * np.sin(2 * np.pi * 440 * t) * np.sin(2 * np.pi * 3 * t) +
          0.05 * rng.normal(size=t.shape)).astype(np.float32)
  ours = np.asarray(mel_lib.log_mel(wave[None], CFG))[0]
  ref = librosa.feature.melspectrogram(
      y=wave, sr=16000, n_fft=1024, win_length=800, hop_length=200,
      n_mels=80, fmin=40.0, fmax=8000.0, power=1.0, center=True,
      pad_mode='reflect', htk=False, norm='slaney')
  ref = np.log(np.maximum(ref, mel_lib.LOG_FLOOR)).T[:len(wave) // 200]
  assert ours.shape == (80, 80)
  np.testing.assert_allclose(ours, ref, atol=2e-3)


def test_frame_count_is_samples_over_hop():
  out = mel_lib.log_mel(np.zeros((2, 1999), np.float32), CFG)
  assert out.shape == (2, 9, 80)


def test_too_short_audio_is_refused():
  with pytest.raises(ValueError, match='too short'):
    mel_lib.log_mel(np.zeros((1, 100), np.float32), CFG)


@pytest.mark.parametrize('kwargs', [dict(win_length=2048),
                                    dict(fmax=9000.0), dict(hop_length=0)])
def test_bad_config_is_refused(kwargs):
  with pytest.raises(ValueError):
    mel_lib.MelConfig(**kwargs)


def test_value_range_bounds_every_full_scale_signal():
  """No audio in [-1, 1] gives a log-mel outside `value_range`; silence
  sits on its floor and full-scale noise / a square wave come near the top."""
  cfg = mel_lib.MelConfig()
  low, high = mel_lib.value_range(cfg)
  assert low == np.log(mel_lib.LOG_FLOOR)
  rng = np.random.default_rng(0)
  t = np.arange(8000) / cfg.sample_rate
  waves = np.stack([np.zeros_like(t), np.sign(np.sin(2 * np.pi * 220 * t)),
                    np.sign(rng.normal(size=t.size)),
                    rng.uniform(-1, 1, t.size)]).astype(np.float32)
  m = np.asarray(mel_lib.log_mel(waves, cfg))
  assert m.min() >= low - 1e-6 and m.max() <= high
  assert np.allclose(m[0], low) and m[1:].max() > high - 3.0


def test_describe_is_the_definition_log_mel_computes():
  cfg = mel_lib.MelConfig(sample_rate=22050, n_fft=1024, win_length=1024,
                      hop_length=256, fmin=0.0, fmax=8000.0)
  d = mel_lib.describe(cfg)
  assert (d['sample_rate'], d['n_fft'], d['win_length'], d['hop_length'],
          d['n_mels'], d['fmin'], d['fmax']) == (22050, 1024, 1024, 256, 80,
                                                 0.0, 8000.0)
  assert '1e-05' in d['log'] and 'slaney' in d['mel_norm']


def _hifigan_reference(y, sr, n_fft, hop, win, n_mels, fmin, fmax):
  """HiFi-GAN's meldataset.mel_spectrogram (center=False), in NumPy float64:
  reflect-pad (n_fft - hop) / 2, periodic Hann (torch.hann_window), |X| as
  sqrt(re^2 + im^2 + 1e-9), librosa's Slaney mel filters, ln clamp 1e-5."""
  p = (n_fft - hop) // 2
  y = np.pad(y.astype(np.float64), (p, p), mode='reflect')
  window = np.zeros(n_fft)
  left = (n_fft - win) // 2
  window[left:left + win] = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win) /
                                               win)
  frames = 1 + (len(y) - n_fft) // hop
  spec = np.fft.rfft(np.stack([y[k * hop:k * hop + n_fft] * window
                               for k in range(frames)]), axis=-1)
  mag = np.sqrt(spec.real ** 2 + spec.imag ** 2 + 1e-9)
  basis = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin,
                              fmax=fmax)
  return np.log(np.maximum(mag @ basis.T, 1e-5))


def test_hifigan_mel_matches_the_reference_definition():
  from experiments.configs import wavernn  # pylint: disable=g-import-not-at-top
  config = wavernn.get_config('preset=tiny,mel=hifigan')
  cfg = mel_lib.MelConfig(**config.mel.to_dict())
  assert (cfg.sample_rate, cfg.n_fft, cfg.hop_length, cfg.win_length,
          cfg.n_mels, cfg.fmin, cfg.fmax) == (22050, 1024, 256, 1024, 80, 0.0,
                                              8000.0)
  rng = np.random.default_rng(3)
  t = np.arange(40 * 256) / 22050
  y = (0.5 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t))
       / 2 + 0.05 * rng.normal(size=t.size)).astype(np.float32)
  want = _hifigan_reference(y, 22050, 1024, 256, 1024, 80, 0.0, 8000.0)
  got = np.asarray(mel_lib.log_mel(y[None], cfg))[0]
  assert got.shape == want.shape == (40, 80)
  np.testing.assert_allclose(got, want, atol=2e-3)
  # Ours differs from it: half a hop later, n_fft // 2 padding.
  ours = np.asarray(mel_lib.log_mel(y[None], mel_lib.MelConfig(
      **dict(config.mel.to_dict(), padding='center'))))[0]
  assert np.abs(ours - want).max() > 0.1
