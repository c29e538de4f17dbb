"""Fixed shapes for any length: conditioning windows and sampler chunks.

`generate` and `stream` run the sampler on chunks of GENERATE_CHUNK_FRAMES
frames, the last one padded (its padding does not advance the sampler's
state), and the conditioning on windows of COND_WINDOW_FRAMES frames plus
their context on each side, masked outside the utterance as the
convolutions' zero padding would be, so a window's terms equal the whole
utterance's. One compiled program of each serves every length (per batch
size); issue 38, docs/RESULTS.md "Any length, one compile".
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np

# generate() and stream() sample in chunks of this many frames, the last
# one padded (its padding does not advance the sampler's state), so one
# compiled sampler serves every length (per batch size); at most
# GENERATE_CHUNK_FRAMES - 1 padding frames are drawn per utterance.
# Not yet tuned by measurement (per-call cost against padding waste): a
# chunk is 3,200 samples at hop 200, far above the per-call cost.
GENERATE_CHUNK_FRAMES = 16
# The conditioning runs on windows of this many frames plus their context
# on each side, masked outside the utterance: one compiled program for any
# length, with the terms the whole utterance would get.
COND_WINDOW_FRAMES = 64


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def conditioning(net, batch, frames, params, mel_BxFxM):
  """A whole utterance's input terms in one program (compiled per length):
  Subscale's sampler, and the reference the windows must equal."""
  return net.apply(params, mel_BxFxM, batch, frames, method='condition')


@functools.partial(jax.jit, static_argnums=(0,))
def _window_conditioning(net, params, mel_BxWxM, valid_W):
  b, width = mel_BxWxM.shape[:2]
  return net.apply(params, mel_BxWxM, b, width, valid_W, method='condition')


def window_terms(net, params, mel_BxNxM, start: int, count: int, *,
                 base: int = 0, final: bool = True, batch: int = 1):
  """Input terms of frames [start, start + count) in fixed-shape windows.

  Args:
    net, params: the model.
    mel_BxNxM: the utterance's frames [base, base + N) (None when the model
      is unconditional); frames of the window outside them count as
      before the utterance (< 0), after its end (`final`), or not yet
      received (ignored: they only reach frames at least `after` frames
      from the last received one, which the caller does not use).
    start, count: the frames wanted.
    base: the utterance index of mel's first frame.
    final: whether mel's last frame is the utterance's last.
    batch: rows (unconditional models).

  Returns:
    [B, count rounded up to COND_WINDOW_FRAMES, U] (the rounding: padding
    terms, not to be sampled as the utterance's).
  """
  c = COND_WINDOW_FRAMES
  n = -(-count // c)
  if not net.cfg.conditional:
    xin = _window_conditioning(net, params, jnp.zeros((batch, c, 1)),
                               jnp.ones((c,)))
    return jnp.tile(xin, (1, n, 1))
  before, after = net.cfg.context_frames
  mel_BxNxM = np.asarray(mel_BxNxM, np.float32)
  b, have, m = mel_BxNxM.shape
  out = []
  for k in range(n):
    lo = start + k * c - before  # Utterance index of the window's frame 0.
    idx = lo + np.arange(c + before + after)
    inside = (idx >= base) & (idx < base + have)
    window = np.zeros((b, len(idx), m), np.float32)
    window[:, inside] = mel_BxNxM[:, idx[inside] - base]
    valid = (idx >= 0) & (inside | (not final) & (idx >= base + have))
    xin = _window_conditioning(net, params, window,
                               valid.astype(np.float32))
    out.append(xin[:, before:before + c])
  return jnp.concatenate(out, 1)
