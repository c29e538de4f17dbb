"""Tests for wavernn_jax.utils.audio_io."""

import os

import numpy as np
import pytest
import soundfile as sf

from tests import fake_corpus
from wavernn_jax.utils import audio_io

ASTERISK_DIR = '/usr/share/asterisk/sounds/en_US_f_Allison'
ASTERISK_SPEECH = f'{ASTERISK_DIR}/auth-thankyou.g722'
ASTERISK_BEEP = f'{ASTERISK_DIR}/beep.g722'


def _sine(freq_hz, seconds, sample_rate, amplitude=0.25):
  t = np.arange(int(seconds * sample_rate)) / sample_rate
  return amplitude * np.sin(2 * np.pi * freq_hz * t)


def _dominant_hz(audio, sample_rate):
  spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
  return np.argmax(spectrum) * sample_rate / len(audio)


def test_read_int16_wav_is_exact(tmp_path):
  audio = (_sine(300, 0.5, 16000) * 32767).astype(np.int16)
  path = tmp_path / 'a.wav'
  sf.write(path, audio, 16000, subtype='PCM_16')
  out = audio_io.read_audio(path, 16000)
  assert out.dtype == np.int16
  np.testing.assert_array_equal(out, audio)


def test_read_float_stereo_wav_is_mixed_to_mono(tmp_path):
  left = _sine(300, 0.5, 16000, amplitude=0.5)
  right = -0.5 * left
  path = tmp_path / 'stereo.wav'
  sf.write(path, np.stack([left, right], axis=1), 16000, subtype='FLOAT')
  out = audio_io.read_audio(path, 16000)
  assert out.shape == left.shape
  np.testing.assert_allclose(out / 32768, 0.25 * left, atol=1e-4)


def test_resampling_keeps_duration_and_frequency(tmp_path):
  audio = _sine(1000, 1.0, 22050)
  path = tmp_path / 'a.flac'
  sf.write(path, audio, 22050)
  out = audio_io.read_audio(path, 16000)
  assert len(out) == 16000
  assert abs(_dominant_hz(out / 32768, 16000) - 1000) <= 1.0


def test_corrupt_file_raises_one_line_error(tmp_path):
  path = tmp_path / 'corrupt.wav'
  path.write_bytes(b'RIFF\x00\x00not really a wav file at all')
  with pytest.raises(audio_io.AudioFileError) as e:
    audio_io.read_audio(path, 16000)
  assert str(path) in str(e.value)
  assert '\n' not in str(e.value)


@pytest.mark.parametrize('name', ['empty.wav', 'empty.g722'])
def test_zero_byte_file_raises(tmp_path, name):
  path = tmp_path / name
  path.write_bytes(b'')
  with pytest.raises(audio_io.AudioFileError, match='empty|0 bytes|decode'):
    audio_io.read_audio(path, 16000)


def test_wav_without_samples_raises(tmp_path):
  path = tmp_path / 'no_frames.wav'
  sf.write(path, np.zeros(0, np.int16), 16000)
  with pytest.raises(audio_io.AudioFileError, match='0 frames'):
    audio_io.read_audio(path, 16000)


def test_non_finite_samples_raise(tmp_path):
  audio = _sine(300, 0.1, 16000).astype(np.float32)
  audio[10] = np.nan
  path = tmp_path / 'nan.wav'
  sf.write(path, audio, 16000, subtype='FLOAT')
  with pytest.raises(audio_io.AudioFileError, match='NaN'):
    audio_io.read_audio(path, 16000)


@pytest.mark.parametrize('name', ['missing.wav', 'missing.g722'])
def test_missing_file_raises(tmp_path, name):
  with pytest.raises(audio_io.AudioFileError, match=f'{name}: .*[Nn]o such'):
    audio_io.read_audio(tmp_path / name, 16000)


@pytest.mark.parametrize('make', [
    lambda: np.zeros(16000, np.int16),
    lambda: (np.random.default_rng(0).standard_normal(16000) * 30).astype(
        np.int16),  # noise floor at about -60 dBFS
    lambda: np.concatenate(  # 0.1 s of speech in 2 s of silence
        [fake_corpus.syllables(0.1, 16000), np.zeros(30400, np.int16)]),
    lambda: np.zeros(0, np.int16),
])
def test_silence_is_flagged(make):
  assert audio_io.is_silent_or_tone(make(), 16000)


@pytest.mark.parametrize('make', [
    lambda: _sine(440, 1.0, 16000),
    lambda: np.concatenate([_sine(440, 0.5, 16000), _sine(880, 0.5, 16000)]),
    lambda: _sine(697, 1.0, 16000) + _sine(1209, 1.0, 16000),  # DTMF '1'
    lambda: _sine(1000, 1.0, 16000) + 0.01 * np.random.default_rng(0)
    .standard_normal(16000),  # 25 dB SNR
])
def test_tones_are_flagged(make):
  audio = (make() * 32767).astype(np.int16)
  assert audio_io.is_silent_or_tone(audio, 16000)


@pytest.mark.parametrize('sample_rate', [16000, 22050, 24000])
@pytest.mark.parametrize('seed', [0, 1, 2])
def test_speech_like_audio_is_kept(sample_rate, seed):
  audio = fake_corpus.syllables(2.0, sample_rate, seed)
  assert not audio_io.is_silent_or_tone(audio, sample_rate)
  quiet = (audio * 0.03).astype(np.int16)  # about -35 dBFS
  assert not audio_io.is_silent_or_tone(quiet, sample_rate)


def test_white_noise_is_kept():
  noise = np.random.default_rng(0).standard_normal(16000) * 3000
  assert not audio_io.is_silent_or_tone(noise.astype(np.int16), 16000)


def test_write_wav_round_trips_and_replaces(tmp_path):
  path = tmp_path / 'out.wav'
  path.write_bytes(b'old contents')
  audio = fake_corpus.syllables(0.5, 24000)
  audio_io.write_wav(path, audio, 24000)
  out, rate = sf.read(path, dtype='int16')
  assert rate == 24000
  np.testing.assert_array_equal(out, audio)
  assert os.listdir(tmp_path) == ['out.wav']  # no temp file left behind


def test_write_wav_failure_keeps_old_file(tmp_path, monkeypatch):
  path = tmp_path / 'out.wav'
  path.write_bytes(b'old contents')

  def failing_write(f, *args, **kwargs):
    f.write(b'partial')
    raise RuntimeError('disk full')

  monkeypatch.setattr(audio_io.sf, 'write', failing_write)
  with pytest.raises(RuntimeError, match='disk full'):
    audio_io.write_wav(path, np.zeros(10, np.int16), 16000)
  assert path.read_bytes() == b'old contents'
  assert os.listdir(tmp_path) == ['out.wav']


def test_write_wav_to_unwritable_dir_raises(tmp_path):
  not_a_dir = tmp_path / 'file.txt'
  not_a_dir.write_text('x')  # a file as parent fails even for root
  with pytest.raises(audio_io.AudioFileError, match='cannot write') as e:
    audio_io.write_wav(not_a_dir / 'out.wav', np.zeros(10, np.int16), 16000)
  assert '\n' not in str(e.value)


def test_g722_round_trip_keeps_a_sine(tmp_path):
  audio = (_sine(500, 1.0, 16000) * 32767).astype(np.int16)
  path = tmp_path / 'a.g722'
  path.write_bytes(audio_io.encode_g722(audio))
  assert path.stat().st_size == len(audio) // 2  # 64 kbit/s: 2 samples/byte
  out = audio_io.read_audio(path, 16000)
  assert len(out) == len(audio)
  assert abs(_dominant_hz(out / 32768, 16000) - 500) <= 1.0
  # G.722 delays the signal by a few samples; compare after alignment.
  lag = np.argmax(np.correlate(out[:2000] / 1.0, audio[:1000] / 1.0, 'valid'))
  error = out[lag:lag + 8000] - audio[:8000].astype(np.float64)
  assert np.sqrt(np.mean(error**2)) < 0.05 * np.sqrt(np.mean(audio**2.0))


@pytest.mark.skipif(not os.path.exists(ASTERISK_SPEECH),
                    reason='asterisk-core-sounds-en-g722 not installed')
def test_decode_real_asterisk_g722():
  speech = audio_io.decode_g722(ASTERISK_SPEECH)
  assert speech.dtype == np.int16
  assert len(speech) == 2 * os.path.getsize(ASTERISK_SPEECH)
  rms_dbfs = 10 * np.log10(np.mean((speech / 32768)**2))
  assert -35 < rms_dbfs < -6
  assert not audio_io.is_silent_or_tone(speech, 16000)
  beep = audio_io.decode_g722(ASTERISK_BEEP)
  assert abs(_dominant_hz(beep / 32768, 16000) - 700) < 5
  assert audio_io.is_silent_or_tone(beep, 16000)
