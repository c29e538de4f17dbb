"""A tiny synthetic speech-like corpus on disk, in LJSpeech layout."""

import gzip
import os
import pathlib

import numpy as np
import soundfile as sf

from wavernn_jax.utils import audio_io


def speech_like(rng, seconds: float, sample_rate: int) -> np.ndarray:
  """Harmonic 'vowels' with a wandering pitch and noisy onsets (int16)."""
  t = np.arange(int(seconds * sample_rate)) / sample_rate
  f0 = 120 + 30 * np.sin(2 * np.pi * rng.uniform(0.5, 2) * t)
  phase = 2 * np.pi * np.cumsum(f0) / sample_rate
  voice = sum(np.sin(k * phase) / k for k in range(1, 8))
  envelope = np.clip(np.sin(2 * np.pi * rng.uniform(1, 3) * t), 0, None)
  wave = 0.2 * voice * envelope + 0.01 * rng.normal(size=t.shape)
  return np.round(np.clip(wave, -1, 1) * 32767).astype(np.int16)


def make_ljspeech(root: str, n: int = 24, sample_rate: int = 16000,
                  seed: int = 0) -> str:
  """Writes n utterances of 0.4-1.2 s to root/{metadata.csv,wavs/}."""
  rng = np.random.default_rng(seed)
  os.makedirs(os.path.join(root, 'wavs'), exist_ok=True)
  lines = []
  for i in range(n):
    name = f'utt{i:03d}'
    audio = speech_like(rng, rng.uniform(0.4, 1.2), sample_rate)
    sf.write(os.path.join(root, 'wavs', name + '.wav'), audio, sample_rate,
             subtype='PCM_16')
    lines.append(f'{name}|text {i}|text {i}')
  with open(os.path.join(root, 'metadata.csv'), 'w') as f:
    f.write('\n'.join(lines) + '\n')
  return root


def syllables(seconds, sample_rate, seed=0):
  """Voiced harmonics with gliding pitch, 4 Hz syllables and noise bursts."""
  rng = np.random.default_rng(seed)
  t = np.arange(int(seconds * sample_rate)) / sample_rate
  f0 = 170 + 40 * np.sin(2 * np.pi * 0.7 * t + seed) + 15 * np.sin(
      2 * np.pi * 5.3 * t)
  phase = 2 * np.pi * np.cumsum(f0) / sample_rate
  voiced = sum(np.sin(k * phase) / k for k in range(1, 20))
  syllables = np.maximum(0, np.sin(2 * np.pi * 4 * t))
  bursts = rng.standard_normal(len(t)) * (np.sin(2 * np.pi * 4 * t) < -0.7)
  audio = 0.3 * voiced * syllables + 0.1 * bursts
  return (audio / np.abs(audio).max() * 0.5 * 32767).astype(np.int16)


# Prompts of every fake voice: speech0 and digits/speech2 train, speech12
# validation, speech30 test (GOLDEN_SPLITS / md5); 'effect' is a sound effect.
VOICE_PROMPTS = ('speech0', 'digits/speech2', 'speech12', 'speech30')


def make_asterisk_voices(root, names=None):
  """Fake Debian layout of asterisk_voices: (sounds root, doc root).

  Each voice (default: all) gets VOICE_PROMPTS, a sound effect and a
  silent file, in root/sounds/<folder>/ and root/doc/<package>/.
  """
  from data.asterisk_voices import asterisk_voices_dataset_builder as voices
  names = names or tuple(voices.VOICES)
  root = pathlib.Path(root)
  for k, name in enumerate(names):
    voice = voices.VOICES[name]
    folder = root / 'sounds' / voice.folder
    for i, prompt in enumerate(VOICE_PROMPTS + ('effect',)):
      path = folder / f'{prompt}.g722'
      path.parent.mkdir(parents=True, exist_ok=True)
      path.write_bytes(audio_io.encode_g722(
          syllables(0.5, 16000, seed=10 * k + i)))
    (folder / 'silence.g722').write_bytes(
        audio_io.encode_g722(np.zeros(8000, np.int16)))
    transcript = voice.transcript(str(root / 'doc'))
    package = root / 'doc' / f'asterisk-core-sounds-{voice.language}'
    package.mkdir(parents=True, exist_ok=True)
    with gzip.open(transcript, 'wt', encoding='utf-8') as f:
      f.write(f'; Core Asterisk Sounds ({name})\n\n')
      f.writelines(f'{p}: {name} {p}\n' for p in VOICE_PROMPTS)
      f.write('effect: [sound of a beep]\n')
  return root / 'sounds', root / 'doc'
