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
