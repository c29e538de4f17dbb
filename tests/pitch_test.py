"""Pitch features from the mel (`model.pitch`, issue 11): the period of
synthetic voices of known f0, voicing of voice against noise, the lag range
by hand, and refusal of a model without mel."""

import jax.numpy as jnp
import numpy as np
import pytest

from experiments.configs import wavernn
from wavernn_jax.features import mel as mel_lib
from wavernn_jax.features import pitch
from wavernn_jax.features import quantization
from wavernn_jax.training import config_checks

CFG = mel_lib.MelConfig()  # 16 kHz, n_fft 1024: the demo's features.


def _voice(f0_hz, seconds=1.0, seed=0):
  """A pulse train at f0 through two formant resonances, plus faint noise."""
  sr = CFG.sample_rate
  n = int(seconds * sr)
  rng = np.random.default_rng(seed)
  x = np.zeros(n)
  x[(np.arange(0, n, sr / f0_hz)).astype(int)] = 1.0
  x += 0.002 * rng.normal(size=n)
  for radius, hz in ((0.97, 600.0), (0.93, 1800.0)):
    theta = 2 * np.pi * hz / sr
    a1, a2 = 2 * radius * np.cos(theta), -radius ** 2
    y = np.zeros(n)
    for t in range(n):
      y[t] = x[t] + a1 * y[t - 1] * (t > 0) + a2 * y[t - 2] * (t > 1)
    x = y
  return (0.3 * x / np.abs(x).max()).astype(np.float32)


def _features(wave):
  mel = mel_lib.log_mel(wave[None], CFG)
  period, voicing = pitch.from_mel(mel, CFG)
  middle = slice(10, -10)  # Away from the reflect-padded edges.
  return np.asarray(period)[0, middle], np.asarray(voicing)[0, middle]


@pytest.mark.parametrize('f0_hz', [110.0, 160.0, 210.0, 300.0])
def test_period_of_a_synthetic_voice(f0_hz):
  period, voicing = _features(_voice(f0_hz))
  true_period = CFG.sample_rate / f0_hz
  # Within 3 % of the true period in nine frames of ten: no octave errors
  # (half or double the period would be off by 50 % or 100 %).
  assert np.mean(np.abs(period - true_period) <= 0.03 * true_period) >= 0.9
  # Voicing grows with f0 (more mel bands per harmonic): 0.42 at 110 Hz,
  # 0.89 at 300 Hz; white noise stays below 0.3 (next test).
  assert np.median(voicing) > 0.35


def test_noise_is_unvoiced():
  rng = np.random.default_rng(1)
  noise = (0.1 * rng.normal(size=CFG.sample_rate)).astype(np.float32)
  _, voicing = _features(noise)
  _, voiced = _features(_voice(160.0))
  assert np.median(voicing) < 0.3 < np.median(voiced)


def test_lag_range_by_hand():
  # 16 kHz: 16000 / 400 = 40 to 16000 / 60 = 266 samples.
  assert pitch.lag_range(CFG) == (40, 266)
  assert pitch.num_lags(CFG) == 227
  # 24 kHz (the paper preset): 60 to 400.
  assert pitch.lag_range(mel_lib.MelConfig(
      sample_rate=24000, win_length=960, hop_length=240,
      fmax=12000.0)) == (60, 400)
  # n_fft = 256 measures lags below 128 only.
  assert pitch.lag_range(mel_lib.MelConfig(n_fft=256, win_length=256)) == (
      40, 127)


def test_features_of_int16_audio_are_those_of_its_mel():
  wave = _voice(200.0, seconds=0.5)
  audio = quantization.to_int16(wave)
  mel = mel_lib.log_mel(quantization.to_float(audio)[None], CFG)
  period, voicing = pitch.from_mel(jnp.concatenate([mel, mel]), CFG)
  assert period.dtype == jnp.int32 and voicing.dtype == jnp.float32
  assert period.shape == voicing.shape == (2, mel.shape[1])
  lo, hi = pitch.lag_range(CFG)
  assert lo <= int(period.min()) and int(period.max()) <= hi
  assert float(voicing.max()) <= 1.0 + 1e-5


def test_pitch_without_mel_is_refused_in_one_line():
  config = wavernn.get_config('preset=tiny,conditional=false')
  config.model.pitch = True
  with pytest.raises(config_checks.ConfigError) as e:
    config_checks.validate(config)
  assert 'pitch' in str(e.value) and '\n' not in str(e.value)
