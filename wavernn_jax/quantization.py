"""16-bit samples as a coarse byte and a fine byte (PAPER.md §1).

A signed 16-bit sample s is offset to u = s + 32768 in [0, 65535] and split
into c = u // 256 (high byte) and f = u % 256 (low byte). Both bytes enter the
network scaled from [0, 255] to [-1, 1]. Digital silence (s = 0) is c = 128,
f = 0.
"""

import jax.numpy as jnp
import numpy as np

NUM_CLASSES = 256  # Values of one byte: the size of each softmax.


def split(audio):
  """Splits int16 audio into (coarse, fine) int32 bytes, same shape."""
  u = audio.astype(jnp.int32) + 32768
  return u // 256, u % 256


def combine(coarse, fine):
  """Inverse of `split`: int16 audio from coarse and fine bytes."""
  return (coarse.astype(jnp.int32) * 256 + fine.astype(jnp.int32) -
          32768).astype(jnp.int16)


def scale(byte):
  """Maps a byte in [0, 255] to [-1, 1] (float32), the network's input."""
  return byte.astype(jnp.float32) / 127.5 - 1.0


def to_int16(wave):
  """Float audio in [-1, 1] (or int16, returned as is) to int16 numpy."""
  wave = np.asarray(wave)
  if wave.dtype == np.int16:
    return wave
  if not np.issubdtype(wave.dtype, np.floating):
    raise TypeError(f'audio must be int16 or float in [-1, 1], got {wave.dtype}'
                    '; convert with np.asarray(x, np.float32) / 32768.')
  return np.clip(np.round(wave * 32768.0), -32768, 32767).astype(np.int16)


def to_float(audio):
  """int16 (or float, returned as float32) audio to float32 in [-1, 1)."""
  audio = jnp.asarray(audio)
  if audio.dtype == jnp.int16:
    return audio.astype(jnp.float32) / 32768.0
  return audio.astype(jnp.float32)
