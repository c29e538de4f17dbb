"""16-bit samples as a coarse byte and a fine byte (PAPER.md §1).

A signed 16-bit sample s is offset to u = s + 32768 in [0, 65535] and split
into c = u // 256 (high byte) and f = u % 256 (low byte). Both bytes enter the
network scaled from [0, 255] to [-1, 1]. Digital silence (s = 0) is c = 128,
f = 0.
"""

import functools

import jax
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


# ------------------------------------------------------------ pre-emphasis --
# Integer pre-emphasis e_t = x_t - round(alpha x_{t-1}) (x_{-1} = 0), the
# signal the model predicts with `emphasis` = alpha > 0 (noise shaping, as
# LPCNet). Both directions round the same float32 product and wrap the sum
# modulo 2^16 into int16 (`wrap`), so the map is a bijection of int16
# sequences on every input, full scale and clipping audio included:
# de-emphasis returns x exactly, and the NLL of e equals the NLL of x under
# the model the sampler draws from. (A clip instead of the wrap breaks
# this: x and x' past full scale give the same e.)


def wrap(v):
  """int32 values modulo 2^16 into [-32768, 32767] (int32).

  The one rule both directions of pre-emphasis and of the LPC residual
  use: for a fixed prediction p, x -> wrap(x - p) and e -> wrap(e + p) are
  inverse permutations of the int16 range.
  """
  return ((v + 32768) & 0xFFFF) - 32768


def _predict(x, alpha):
  return jnp.round(jnp.float32(alpha) * x.astype(jnp.float32)).astype(jnp.int32)


def emphasise(audio_BxT, alpha: float):
  """int16 [..., T] audio -> its integer pre-emphasis (int16, `wrap`ped)."""
  x = audio_BxT.astype(jnp.int32)
  prev = jnp.pad(x, [(0, 0)] * (x.ndim - 1) + [(1, 0)])[..., :-1]
  return wrap(x - _predict(prev, alpha)).astype(jnp.int16)


_DEEMPHASIS_BUCKET = 16384  # samples; lengths are padded to a multiple.


def deemphasise(emph_BxT, alpha: float, prev=None):
  """Inverse of `emphasise`: x_t = wrap(e_t + round(alpha x_{t-1})).

  A sequential scan from x_{-1} = `prev` (the batch's previous samples, as
  when a stream continues; None: 0); inputs are zero-padded at the end to a
  multiple of `_DEEMPHASIS_BUCKET` samples (padding never changes earlier
  outputs), so utterances of any length share a few compiled programs.
  """
  emph_BxT = jnp.asarray(emph_BxT)
  t = emph_BxT.shape[-1]
  padded = -(-max(t, 1) // _DEEMPHASIS_BUCKET) * _DEEMPHASIS_BUCKET
  pad = [(0, 0)] * (emph_BxT.ndim - 1) + [(0, padded - t)]
  if prev is None:
    prev = jnp.zeros(emph_BxT.shape[:-1], jnp.int32)
  return _deemphasise(jnp.pad(emph_BxT, pad), float(alpha),
                      jnp.asarray(prev, jnp.int32))[..., :t]


@functools.partial(jax.jit, static_argnums=(1,))
def _deemphasise(emph_BxT, alpha: float, prev_B):
  def step(prev_B, e_B):
    x_B = wrap(e_B.astype(jnp.int32) + _predict(prev_B, alpha))
    return x_B, x_B
  e_TxB = jnp.moveaxis(jnp.asarray(emph_BxT), -1, 0)
  _, x_TxB = jax.lax.scan(step, prev_B, e_TxB)
  return jnp.moveaxis(x_TxB, 0, -1).astype(jnp.int16)


# ------------------------------------------------------------ 8-bit mu-law --
# An ablation beside the paper (issue 11; fatchord's 8-bit "RAW" output):
# with `mulaw`, the model predicts 8-bit mu-law codes (mu = 255, as G.711
# without its segments) in the coarse byte and a fine byte that is always 0,
# so the cell, its heads and every sampler stay as they are: training
# learns the fine head's constant at once, and decoding reads the coarse
# byte only. NLL is then in bits per mu-law code, not per 16-bit sample.

MU = 255


def mulaw_encode(audio):
  """int16 audio -> int16 whose coarse byte is its 8-bit mu-law code."""
  x = audio.astype(jnp.float32) / 32768.0
  y = jnp.sign(x) * jnp.log1p(MU * jnp.abs(x)) / jnp.log1p(jnp.float32(MU))
  code = jnp.clip(jnp.round((y + 1.0) * 127.5), 0, NUM_CLASSES - 1)
  return combine(code.astype(jnp.int32), jnp.zeros_like(code, jnp.int32))


def mulaw_decode(coded):
  """Inverse of `mulaw_encode` up to its quantization (fine byte ignored)."""
  code, _ = split(jnp.asarray(coded))
  y = code.astype(jnp.float32) / 127.5 - 1.0
  x = jnp.sign(y) * jnp.expm1(jnp.abs(y) * jnp.log1p(jnp.float32(MU))) / MU
  return jnp.clip(jnp.round(x * 32768.0), -32768, 32767).astype(jnp.int16)
