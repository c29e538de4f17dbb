"""Streaming synthesis: mel frames in as they arrive, int16 audio out.

`Vocoder.stream(chunks)` takes an iterable of mel chunks ([n, n_mels] float
arrays, any n >= 1) and yields 1-D int16 audio as soon as the conditioning
allows: frame k's input terms depend on mel frames k - radius .. k + radius
(radius = cond_layers * (cond_kernel // 2), one more ahead with
upsample='linear'; LPC and pitch are per frame), so after a chunk arrives
every frame up to `received - lookahead_frames(config)` is final and is
sampled; the rest follows with the next chunk, or when the iterable ends.

What is carried across chunks: the cell state, the previous sample's bytes
and the LPC history (the sampler's carry), the last de-emphasised sample,
and the mel frames that later frames still need as context. Draws depend
on the frame index only (`sampling.sample`), so with the same seed the
concatenated stream is `generate`'s output bit for bit, whatever the
chunking (`tests/streaming_test.py`).

Compiles: the conditioning runs on fixed-shape windows and the frames are
sampled in fixed-shape chunks, as `generate` does (`windows.window_terms`,
`sampling.sample_chunks`), so a stream of any chunking reuses the same two
programs as `generate`.
"""

import jax
import jax.numpy as jnp
import numpy as np

from wavernn_jax.features import quantization
from wavernn_jax.synthesis import sampling
from wavernn_jax.synthesis import windows
from wavernn_jax.utils import errors

def radius_frames(model_config) -> int:
  """Mel frames on each side that one frame's conditioning reads."""
  return model_config.context_frames[0]


def lookahead_frames(model_config) -> int:
  """Frames after frame k that must have arrived before k is sampled."""
  return model_config.context_frames[1]


def stream(voc, chunks, seed: int = 0, temperature: float = 1.0):
  """Yields int16 [n * hop] audio for the mel chunks of one utterance.

  See the module docstring; `Vocoder.stream` is the user's entry point.
  """
  cfg = voc.model_config
  if not voc.variant.streams:
    raise errors.InputError(
        'stream() runs the dense or sparse WaveRNN; a Subscale model samples '
        'a whole utterance at once: use generate().')
  if not cfg.conditional:
    raise errors.InputError(
        'stream() needs a conditional model (mel frames in); an '
        'unconditional one generates with generate(num_samples=...).')
  if not temperature > 0:
    raise errors.InputError(f'temperature={temperature} must be > 0.')
  hop, radius, look = voc.hop_length, radius_frames(cfg), lookahead_frames(cfg)
  w = voc.sampler_weights()
  fused = sampling.pick_fused(w, cfg.kernel)
  key, temp = jax.random.key(seed), jnp.float32(temperature)
  carry = sampling.initial_carry(1, cfg.hidden, cfg.lpc_order)
  alpha = float(cfg.emphasis)
  prev = np.zeros((1,), np.int32)  # The last de-emphasised sample.
  mel = np.zeros((0, voc.n_mels), np.float32)
  base = 0  # Utterance index of mel[0] (older frames are dropped).
  emitted = received = 0

  def emit(upto: int, final: bool):
    nonlocal carry, prev, mel, base, emitted
    xin = windows.window_terms(voc.net, voc.params, mel[None], emitted,
                                   upto - emitted, base=base, final=final)
    chunk = windows.GENERATE_CHUNK_FRAMES
    whole = -(-(upto - emitted) // chunk) * chunk
    audio, _, carry = sampling.sample_chunks(
        w, xin[:, :whole], key, temp, hop, chunk, carry, emitted,
        upto - emitted, fused=fused)
    if cfg.mulaw:
      audio = np.asarray(quantization.mulaw_decode(audio))
    if alpha:
      audio = np.asarray(quantization.deemphasise(audio, alpha, prev))
      prev = audio[:, -1].astype(np.int32)
    emitted = upto
    keep = max(0, emitted - radius)  # Context the next window still reads.
    mel, base = mel[keep - base:], keep
    return audio[0]

  for chunk in chunks:
    chunk = _check_chunk(voc, chunk, received)
    mel = np.concatenate([mel, chunk])
    received += len(chunk)
    if received - look > emitted:
      yield emit(received - look, final=False)
  if received == 0:
    raise errors.InputError('stream() got no mel frames; pass an '
                                 'iterable of [n, n_mels] arrays.')
  if received > emitted:
    yield emit(received, final=True)


def _check_chunk(voc, chunk, received: int) -> np.ndarray:
  """A chunk as float32 [n, n_mels]; one line naming what is wrong."""
  chunk = np.asarray(chunk)
  where = f'mel chunk at frame {received}'
  if chunk.ndim != 2 or chunk.shape[1] != voc.n_mels or not len(chunk):
    raise errors.InputError(
        f'{where} has shape {chunk.shape}; give [n, {voc.n_mels}] frames '
        'with n >= 1 (voc.mel(wave)[0] split along its first axis).')
  if not np.issubdtype(chunk.dtype, np.floating):
    raise errors.InputError(f'{where} must be float, got {chunk.dtype}.')
  if not np.isfinite(chunk).all():
    raise errors.InputError(f'{where} has NaN or infinite values; '
                                 'recompute it from clean audio.')
  voc.check_range(chunk, where)
  return chunk.astype(np.float32)
