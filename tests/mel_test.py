"""The JAX log-mel against librosa (test-only dependency)."""

import librosa
import numpy as np
import pytest

from wavernn_jax import mel as mel_lib

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
