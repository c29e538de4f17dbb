"""Reading, writing and screening audio files.

Every reader returns mono int16 samples `[T]` at the requested sample rate, so
the dataset builders store one format whatever the source (wav/flac/ogg via
soundfile, raw G.722 via the `G722` C extension).

A bad file raises `AudioFileError` with one line naming the file, what is
wrong with it and how to mend it; builders catch it to skip and count.
"""

import math
import os
import tempfile

import G722
import numpy as np
import soundfile as sf

from wavernn_jax.utils import errors

G722_SAMPLE_RATE = 16000  # Hz; G.722 is wideband 16 kHz audio.
_G722_BIT_RATE = 64000  # bit/s, as the Asterisk prompts: 2 samples per byte

# Silence/tone screening thresholds (see `is_silent_or_tone`).
_FRAME_SECONDS = 0.032  # analysis frame (non-overlapping), s
_SILENT_RMS_DBFS = -50.0  # whole-file RMS below this is silence, dBFS
_ACTIVE_FRAME_DBFS = -45.0  # a frame above this level counts as active, dBFS
_MIN_ACTIVE_SECONDS = 0.2  # fewer active seconds than this is silence, s
_LINE_SEARCH_HZ = 10.0  # look this far around the last frame's peak, Hz
_LINE_TOLERANCE_HZ = 1.0  # a peak that moved less than this persisted, Hz
_LINE_MIN_POWER = 0.1  # ...and has at least this share of the frame's max power
_TONE_PERSISTENT_FRACTION = 0.5  # this share of persisting frame pairs: a tone


class AudioFileError(errors.UserError):
  """An audio file that cannot be used; the message is one line."""


def _fail(path, problem: str, fix: str) -> AudioFileError:
  return AudioFileError(f'{path}: {problem}; {fix}')


def decode_g722(path) -> np.ndarray:
  """Decodes a raw (headerless) 64 kbit/s G.722 file.

  Args:
    path: file of raw G.722 bytes, e.g. an Asterisk `.g722` prompt.

  Returns:
    int16 samples `[T]` at 16 kHz, T = 2 * file size in bytes.

  Raises:
    AudioFileError: if the file cannot be read or is empty.
  """
  try:
    with open(path, 'rb') as f:
      data = f.read()
  except OSError as e:
    raise _fail(path, f'cannot read G.722 file ({e.strerror})',
                'check the path and its permissions') from e
  if not data:
    raise _fail(path, 'empty G.722 file (0 bytes)', 'delete or replace it')
  # A fresh codec per file: G.722 is stateful (ADPCM predictors).
  codec = G722.G722(G722_SAMPLE_RATE, _G722_BIT_RATE)
  # decode() returns array('h'), or a numpy array if G722-numpy is installed.
  return np.asarray(codec.decode(data), dtype=np.int16)


def encode_g722(audio_int16: np.ndarray) -> bytes:
  """Encodes 16 kHz int16 samples as raw 64 kbit/s G.722 (for test corpora).

  Args:
    audio_int16: int16 samples `[T]` at 16 kHz.

  Returns:
    T // 2 bytes of raw G.722.
  """
  codec = G722.G722(G722_SAMPLE_RATE, _G722_BIT_RATE)
  return codec.encode(np.ascontiguousarray(audio_int16, dtype=np.int16))


def _read_soundfile(path) -> tuple[np.ndarray, int]:
  """Returns float64 samples `[T, C]` in [-1, 1] and the file's rate in Hz."""
  if not os.path.isfile(path):  # libsndfile would only say 'System error'
    raise _fail(path, 'no such file', 'check the path')
  if os.path.getsize(path) == 0:  # libsndfile: 'Format not recognised'
    raise _fail(path, 'empty file (0 bytes)', 'delete or replace it')
  try:
    audio_TxC, rate = sf.read(path, dtype='float64', always_2d=True)
  except (sf.LibsndfileError, RuntimeError, TypeError) as e:
    # libsndfile puts the reason after the path; keep its one-line reason.
    reason = str(e).splitlines()[0] if str(e) else type(e).__name__
    raise _fail(path, f'cannot decode audio ({reason})',
                'check the file is a valid wav/flac/ogg or re-encode it') from e
  except OSError as e:
    raise _fail(path, f'cannot read audio file ({e.strerror})',
                'check the path and its permissions') from e
  return audio_TxC, rate


def _to_int16(audio: np.ndarray) -> np.ndarray:
  """Float in [-1, 1] to int16 with clipping and rounding."""
  return np.clip(np.round(audio * 32768.0), -32768, 32767).astype(np.int16)


def resample(audio: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
  """Polyphase resampling by the rational factor rate_out / rate_in.

  Args:
    audio: float samples `[T]`.
    rate_in: sample rate of `audio`, Hz.
    rate_out: wanted sample rate, Hz.

  Returns:
    float samples `[ceil(T * rate_out / rate_in)]`.
  """
  if rate_in == rate_out:
    return audio
  g = math.gcd(rate_in, rate_out)
  import scipy.signal  # pylint: disable=g-import-not-at-top
  # Imported here: 1-3 s of every launch.py start otherwise (issue 38).
  return scipy.signal.resample_poly(audio, rate_out // g, rate_in // g)


def read_audio(path, sample_rate: int) -> np.ndarray:
  """Reads an audio file as mono int16 at `sample_rate`.

  wav/flac/ogg (anything libsndfile reads) go through soundfile; `.g722`
  files are raw G.722 at 16 kHz. Channels are averaged to mono.

  Args:
    path: audio file.
    sample_rate: wanted sample rate, Hz.

  Returns:
    int16 samples `[T]` at `sample_rate`.

  Raises:
    AudioFileError: unreadable, corrupt, empty or non-finite audio.
  """
  if os.fspath(path).lower().endswith('.g722'):
    audio_T = decode_g722(path).astype(np.float64) / 32768.0
    rate = G722_SAMPLE_RATE
  else:
    audio_TxC, rate = _read_soundfile(path)
    if audio_TxC.shape[0] == 0:
      raise _fail(path, 'no audio samples (0 frames)', 'delete or replace it')
    audio_T = audio_TxC.mean(axis=1)
  if not np.all(np.isfinite(audio_T)):
    raise _fail(path, 'audio contains NaN or Inf samples',
                're-export it as 16-bit PCM wav')
  audio_T = resample(audio_T, rate, sample_rate)
  return _to_int16(audio_T)


def write_wav(path, audio_int16: np.ndarray, sample_rate: int) -> None:
  """Writes a 16-bit PCM wav atomically (temp file in the same dir + rename).

  A reader never sees a half-written file, even if the writer is killed.

  Args:
    path: destination `.wav` path; its directory must exist.
    audio_int16: int16 samples `[T]`.
    sample_rate: Hz.

  Raises:
    AudioFileError: if the directory is missing or not writable.
  """
  path = os.fspath(path)
  directory = os.path.dirname(os.path.abspath(path))
  try:
    fd, tmp_path = tempfile.mkstemp(
        dir=directory, prefix='.' + os.path.basename(path) + '.', suffix='.tmp')
  except OSError as e:
    raise _fail(path, f'cannot write to directory {directory} ({e.strerror})',
                'create it or choose a writable output directory') from e
  try:
    with os.fdopen(fd, 'wb') as f:
      sf.write(f, np.asarray(audio_int16, dtype=np.int16), sample_rate,
               format='WAV', subtype='PCM_16')
    os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes it private.
    os.replace(tmp_path, path)
  except BaseException:
    os.unlink(tmp_path)
    raise


def _umask() -> int:
  mask = os.umask(0)
  os.umask(mask)
  return mask


def _frames(audio: np.ndarray, frame: int) -> np.ndarray:
  """Non-overlapping frames `[N, frame]` (the ragged tail is dropped)."""
  n = len(audio) // frame
  return audio[:n * frame].reshape(n, frame)


def _peak_hz(power_NxK: np.ndarray, k_N: np.ndarray, bin_hz: float):
  """Peak frequency refined by a parabola through the log power at k-1..k+1."""
  k_N = np.clip(k_N, 1, power_NxK.shape[1] - 2)
  rows = np.arange(len(k_N))
  l, c, r = (np.log(power_NxK[rows, k_N + d] + 1e-30) for d in (-1, 0, 1))
  curvature = l - 2 * c + r
  safe = np.where(curvature == 0, 1.0, curvature)
  delta = np.where(curvature == 0, 0.0, 0.5 * (l - r) / safe)
  return (k_N + delta) * bin_hz


def persistent_line_fraction(audio_int16: np.ndarray,
                             sample_rate: int) -> tuple[float | None, float]:
  """Share of consecutive active frame pairs whose spectral peak persists.

  For each pair of consecutive active frames, the strongest peak of the
  first frame persists if the second has a local maximum within 1 Hz of it
  holding at least 10% of its own maximum power. Synthetic tones (one or more
  fixed lines) persist in nearly every pair; speech does not, since its pitch
  glides by several Hz per frame, nor does noise.

  Args:
    audio_int16: int16 samples `[T]`.
    sample_rate: Hz.

  Returns:
    (fraction in [0, 1], or None if there are no active frame pairs;
     active duration in seconds).
  """
  audio = np.asarray(audio_int16, dtype=np.float64) / 32768.0
  frame = int(round(_FRAME_SECONDS * sample_rate))
  frames_NxF = _frames(audio, frame)
  frame_db_N = 10 * np.log10(np.mean(frames_NxF**2, axis=1) + 1e-20)
  active_N = frame_db_N > _ACTIVE_FRAME_DBFS
  active_seconds = float(active_N.sum()) * frame / sample_rate
  pair_N = active_N[:-1] & active_N[1:]
  if not pair_N.any():
    return None, active_seconds
  # 4x zero-padding: the parabolic refinement then resolves well under 1 Hz,
  # and its bias is the same in both frames of a steady line.
  nfft = 4 * 2**int(np.ceil(np.log2(frame)))
  bin_hz = sample_rate / nfft
  frames_NxF = frames_NxF - frames_NxF.mean(axis=1, keepdims=True)
  power_NxK = np.abs(np.fft.rfft(frames_NxF * np.hanning(frame), n=nfft,
                                 axis=1))**2
  power1_PxK = power_NxK[:-1][pair_N]  # first frame of each active pair
  power2_PxK = power_NxK[1:][pair_N]  # second frame
  num_bins = power_NxK.shape[1]
  k_P = np.argmax(power1_PxK, axis=1)
  f_P = _peak_hz(power1_PxK, k_P, bin_hz)
  # Strongest bin of the second frame within +-_LINE_SEARCH_HZ of k.
  w = int(np.ceil(_LINE_SEARCH_HZ / bin_hz))
  window_PxW = np.clip(k_P[:, None] + np.arange(-w, w + 1), 1, num_bins - 2)
  rows_P = np.arange(len(k_P))
  j_P = window_PxW[rows_P, np.argmax(
      np.take_along_axis(power2_PxK, window_PxW, axis=1), axis=1)]
  p_P = power2_PxK[rows_P, j_P]
  is_local_max_P = ((p_P >= power2_PxK[rows_P, j_P - 1]) &
                    (p_P >= power2_PxK[rows_P, j_P + 1]))
  strong_P = p_P >= _LINE_MIN_POWER * power2_PxK.max(axis=1)
  close_P = np.abs(_peak_hz(power2_PxK, j_P, bin_hz) - f_P) < _LINE_TOLERANCE_HZ
  return float(np.mean(is_local_max_P & strong_P & close_P)), active_seconds


def is_silent_or_tone(audio_int16: np.ndarray, sample_rate: int) -> bool:
  """Flags files that are silence only, or steady tones/beeps, not speech.

  Silence: whole-file RMS below -50 dBFS, or under 0.2 s of 32 ms frames
  above -45 dBFS. Tone: in at least half of the consecutive active frame
  pairs the strongest spectral line stays within 1 Hz (see
  `persistent_line_fraction`). On the Asterisk prompts tones score >= 0.75
  and speech <= 0.25. A noisy, wobbling buzzer (Asterisk `beeperr`) is not
  caught; builders that have transcripts drop such sound effects by text.

  Args:
    audio_int16: int16 samples `[T]`.
    sample_rate: Hz.

  Returns:
    True if the audio is silence or a tone and should be dropped.
  """
  audio = np.asarray(audio_int16, dtype=np.float64) / 32768.0
  if audio.size == 0:
    return True
  if 10 * np.log10(np.mean(audio**2) + 1e-20) < _SILENT_RMS_DBFS:
    return True
  fraction, active_seconds = persistent_line_fraction(audio_int16, sample_rate)
  if active_seconds < _MIN_ACTIVE_SECONDS or fraction is None:
    return True
  return fraction >= _TONE_PERSISTENT_FRACTION
