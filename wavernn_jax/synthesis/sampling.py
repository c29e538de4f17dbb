"""The WaveRNN sampler: one jitted `lax.scan` over mel frames and samples.

Per step (PAPER.md §1): compute R h once; the coarse half of the GRU and the
coarse softmax; draw c_t; the fine half with c_t; draw f_t. Draws use inverse
CDF sampling with uniforms made once per frame by `fold_in(key, frame)`, so
no key is split inside the inner loop. The same cell functions as training
(`model.recur/coarse/fine`) compute the distribution.

Shapes: B batch, F frames, P hop, T = F * P samples, G = 3H.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from wavernn_jax.features import lpc
from wavernn_jax.features import quantization
from wavernn_jax.kernels import cpu_kernels
from wavernn_jax.models import model
from wavernn_jax.utils import errors


def _draw(logits_Bx256, u_B, temperature):
  """Inverse-CDF draw from softmax(logits / temperature)."""
  probs = jax.nn.softmax(logits_Bx256 / temperature, axis=-1)
  cdf = jnp.cumsum(probs, axis=-1)
  idx = jnp.sum(cdf <= u_B[:, None] * cdf[:, -1:], axis=-1)
  return jnp.minimum(idx, 255).astype(jnp.int32)


def _log_prob(logits_Bx256, idx_B):
  lp = jax.nn.log_softmax(logits_Bx256, axis=-1)
  return jnp.take_along_axis(lp, idx_B[:, None], axis=1)[:, 0]


def initial_carry(batch: int, hidden: int, lpc_order: int = 0):
  """Sampler state before the first sample: zero state, silent previous.

  The last item holds the signal's previous `lpc_order` samples (LPC).
  """
  silence_c, silence_f = quantization.split(jnp.zeros((batch,), jnp.int16))
  return (jnp.zeros((batch, hidden), jnp.float32), silence_c, silence_f,
          jnp.zeros((batch, lpc_order), jnp.int32))


@functools.partial(jax.jit, static_argnames=('hop',))
def sample(w: model.Weights, xin_BxFxG, key, temperature, hop: int,
           carry=None, first_frame=0, valid_frames=None):
  """Generates audio from frame-rate input terms, continuing from `carry`.

  Long utterances are generated in chunks of frames (same shapes, so one
  compile), passing the returned carry and `first_frame` on.

  Args:
    w: the cell weights (`WaveRNN.weights()`).
    xin_BxFxG: conditioning + bias per frame (`WaveRNN.condition`).
    key: PRNG key; frame k's draws use fold_in(key, first_frame + k).
    temperature: scalar > 0 dividing the logits of both softmaxes.
    hop: P, samples per frame.
    carry: state from `initial_carry` or a previous call (None: initial).
    first_frame: index of the first frame in the utterance.
    valid_frames: frames (from the first) that advance the carry; the rest
      are padding of a fixed-shape chunk, whose samples are discarded (None:
      all). A traced value: any count shares one compile.

  Returns:
    audio int16 [B, T], ln P of each drawn sample under the model
    (temperature 1) float32 [B, T], and the carry after the last sample.
  """
  b, f, _ = xin_BxFxG.shape
  if carry is None:
    order = split_order(w, xin_BxFxG)
    carry = initial_carry(b, w['R'].shape[0], order)

  def sample_step(carry, u_Bx2, xin_BxG, a_BxK):
    h, pc, pf, hist_BxK = carry
    sig = p = None
    if a_BxK is not None:  # LPC: draw the excitation e_t, output s_t.
      p = lpc.predict(a_BxK, hist_BxK)
      sig = model.lpc_inputs(hist_BxK[:, 0], p)
    rh = model.recur(w, h)
    x = model.input_term(w, xin_BxG, pc, pf, sig)
    yc, logits_c = model.coarse(w, h, rh, x)
    c = _draw(logits_c, u_Bx2[:, 0], temperature)
    yf, logits_f = model.fine(w, h, rh, x, c)
    fi = _draw(logits_f, u_Bx2[:, 1], temperature)
    lp = _log_prob(logits_c, c) + _log_prob(logits_f, fi)
    h = jnp.concatenate([yc, yf], axis=-1)
    out = quantization.combine(c, fi)
    if a_BxK is not None:
      s, hist_BxK = lpc.advance(hist_BxK, out, p)
      out = s.astype(jnp.int16)
    return (h, c, fi, hist_BxK), (out, lp)

  def frame_step(carry, frame_inputs):
    index, xin_BxU = frame_inputs
    if valid_frames is None:
      return sample_frame(carry, index, xin_BxU)
    new, out = sample_frame(carry, index, xin_BxU)
    keep = index - first_frame < valid_frames
    return jax.tree_util.tree_map(lambda n, o: jnp.where(keep, n, o), new,
                                  carry), out

  def sample_frame(carry, index, xin_BxU):
    u_PxBx2 = jax.random.uniform(jax.random.fold_in(key, index), (hop, b, 2))
    xin_BxU, a_BxK = model.split_lpc(w, xin_BxU)
    if a_BxK is not None:  # Integer coefficients once per frame.
      a_BxK = lpc.fixed_point(a_BxK)
    # Upsampled once per frame, outside the per-sample step.
    xin = model.frame_inputs(w, xin_BxU, hop)
    if xin.ndim == 3:  # [P, B, G]: one row per sample.
      return jax.lax.scan(lambda c, ux: sample_step(c, *ux, a_BxK), carry,
                          (u_PxBx2, xin))
    return jax.lax.scan(lambda c, u: sample_step(c, u, xin, a_BxK), carry,
                        u_PxBx2)

  carry, (audio, lp) = jax.lax.scan(
      frame_step, carry,
      (first_frame + jnp.arange(f), jnp.swapaxes(xin_BxFxG, 0, 1)))
  to_bt = lambda x: x.reshape(f * hop, b).T
  return to_bt(audio), to_bt(lp), carry


def fused_unsupported(w: model.Weights) -> str | None:
  """Why the fused CPU sampler cannot run these weights; None if it can.

  It covers the dense-order cell with scalar byte inputs (the flagship's
  `model.embed_inputs=False`), with or without LPC, and float32 or
  block-sparse (`sparse_sampling.BlockSparse`) R and heads.
  """
  if 'I_prev' not in w:
    return 'embedded byte inputs (model.embed_inputs=True)'
  for name in ('R', 'O1', 'O2', 'O3', 'O4'):
    if not hasattr(w[name], 'idx') and w[name].dtype != jnp.float32:
      return f'{name} in {w[name].dtype} (model.matmul_dtype)'
  return None


def pick_fused(w: model.Weights, kernel: str) -> bool:
  """Whether `model.kernel` = kernel samples these weights on the fused CPU
  sampler: 'auto' where the kernels are built and it covers them, 'fused'
  the same (weights it does not cover fall back to XLA, with one log line),
  'xla' never."""
  if not cpu_kernels.use_fused(kernel):
    return False
  why = fused_unsupported(w)
  if why is not None:
    _xla_sampler_once(why)
  return why is None


@functools.cache
def _xla_sampler_once(why: str):
  from absl import logging  # pylint: disable=g-import-not-at-top
  logging.info('The fused CPU sampler does not cover %s; the XLA sampler '
               'runs.', why)


@functools.partial(jax.jit, static_argnames=('hop',))
def sample_fused(w: model.Weights, xin_BxFxG, key, temperature, hop: int,
                 carry=None, first_frame=0, valid_frames=None,
                 u_FxPxBx2=None):
  """`sample` on the fused CPU kernel (`cpu_kernels.sample_frames`): the
  same signature, the same uniforms, the same cell; a chunk's steps in one
  call. Weights: those `fused_unsupported` accepts; block-sparse ones stored
  in float16 run from half-precision storage. `u_FxPxBx2` replaces the
  uniforms drawn from `key` (tests).

  Float order differs from the XLA sampler's (sums, tanh, exp), so a draw
  whose uniform falls within rounding of a CDF step may differ, and the
  sample paths part from there; tests bound how often.
  """
  b, f, _ = xin_BxFxG.shape
  xin_BxFxU, a_BxFxK = model.split_lpc(w, xin_BxFxG)
  if carry is None:
    order = 0 if a_BxFxK is None else a_BxFxK.shape[-1]
    carry = initial_carry(b, w['R'].shape[0], order)
  if a_BxFxK is None:
    a_q = jnp.zeros((b, f, 0), jnp.int32)
    w_in = w['I_prev']
  else:
    a_q = lpc.fixed_point(a_BxFxK)
    w_in = jnp.concatenate([w['I_prev'], w['I_lpc']], axis=0)
  frames = first_frame + jnp.arange(f)
  if u_FxPxBx2 is None:
    u_FxPxBx2 = jax.vmap(lambda i: jax.random.uniform(
        jax.random.fold_in(key, i), (hop, b, 2)))(frames)
  kept = {n: cpu_kernels.kept_blocks(w[n]) for n in
          ('R', 'O1', 'O2', 'O3', 'O4')}
  kept.update({n: w[n] for n in ('b_O1', 'b_O2', 'b_O3', 'b_O4')})
  valid = f if valid_frames is None else valid_frames
  half = [n for n in ('R', 'O1', 'O2', 'O3', 'O4')  # Stored in float16.
          if getattr(w[n], 'values', w[n]).dtype == jnp.float16]
  audio, lp, carry = cpu_kernels.sample_frames(
      jnp.swapaxes(xin_BxFxU, 0, 1), jnp.swapaxes(a_q, 0, 1), u_FxPxBx2,
      w_in, w['I_c'], kept, carry, temperature, valid, half)
  to_bt = lambda x: x.reshape(f * hop, b).T
  return to_bt(audio), to_bt(lp), carry


def sample_chunks(w: model.Weights, xin_BxFxG, key, temperature, hop: int,
                  chunk: int, carry=None, first_frame: int = 0,
                  frames: int | None = None, progress=None,
                  fused: bool = False):
  """`sample` over fixed-shape chunks of `chunk` frames: one compile for
  any length (per batch size). xin holds whole chunks (F a multiple of
  `chunk`); only its first `frames` frames (default all) advance the carry
  and are returned. `fused`: `sample_fused` (see `pick_fused`).

  Returns:
    audio int16 [B, frames * hop] and ln P float32 (numpy), and the carry.
  """
  b, f, _ = xin_BxFxG.shape
  frames = f if frames is None else frames
  if f % chunk or not 0 < frames <= f:
    raise ValueError(f'xin has {f} frames: whole chunks of {chunk} holding '
                     f'the {frames} frames to sample are needed.')
  if carry is None:
    carry = initial_carry(b, w['R'].shape[0], split_order(w, xin_BxFxG))
  audio, lp = [], []
  sampler = sample_fused if fused else sample
  for start in range(0, frames, chunk):
    valid = jnp.int32(min(chunk, frames - start))
    a, l, carry = sampler(w, xin_BxFxG[:, start:start + chunk], key,
                         temperature, hop, carry, jnp.int32(first_frame + start),
                         valid)
    audio.append(np.asarray(a))
    lp.append(np.asarray(l))
    if progress:
      progress(min(start + chunk, frames), frames)
  t = frames * hop
  return (np.concatenate(audio, 1)[:, :t], np.concatenate(lp, 1)[:, :t],
          carry)


def split_order(w: model.Weights, xin_BxFxU) -> int:
  """K, the LPC coefficients per frame that `xin` carries (0 without LPC)."""
  _, a = model.split_lpc(w, xin_BxFxU)
  return 0 if a is None else a.shape[-1]


def fold(xin_1xFxG, target: int, overlap: int):
  """Splits one utterance's frames into overlapping segments (a batch).

  Segment k covers frames [k * target - overlap, (k + 1) * target + overlap),
  edge-padded at the ends, so neighbours share 2 * overlap frames.

  Returns:
    [K, target + 2 * overlap, G] with K = ceil(F / target).
  """
  f = xin_1xFxG.shape[1]
  k = -(-f // target)
  padded = jnp.pad(xin_1xFxG[0],
                   ((overlap, k * target - f + overlap), (0, 0)), mode='edge')
  idx = (np.arange(k)[:, None] * target +
         np.arange(target + 2 * overlap)[None, :])
  return padded[idx]


def crossfade_weights(target: int, overlap: int, hop: int) -> np.ndarray:
  """Per-sample weights of one segment [(target + 2 * overlap) * hop].

  In each shared stretch of 2 * overlap frames the later segment is silent
  for the first half (its state is still warming up) and fades in linearly
  over the second half while the earlier one fades out (fatchord's scheme).
  """
  o = overlap * hop
  ramp = np.linspace(0.0, 1.0, o, endpoint=False) + 0.5 / o if o else []
  fade_in = np.concatenate([np.zeros(o), ramp])
  fade_out = 1.0 - fade_in
  core = np.ones(target * hop - 2 * o) if target * hop >= 2 * o else None
  if core is None:
    raise errors.UserError(f'fold target ({target} frames) must be at least '
                           f'twice the overlap ({overlap} frames); raise the '
                           'target.')
  return np.concatenate([fade_in, core, fade_out]).astype(np.float32)


def unfold(seg_KxS, target: int, overlap: int, hop: int, frames: int):
  """Overlap-adds segments made by `fold` (weighted) back to [1, F * P]."""
  k, s = seg_KxS.shape
  step = target * hop
  wts = crossfade_weights(target, overlap, hop)
  out = np.zeros((k - 1) * step + s, np.float32)
  norm = np.zeros_like(out)
  for i in range(k):
    out[i * step:i * step + s] += wts * seg_KxS[i]
    norm[i * step:i * step + s] += wts
  start = overlap * hop
  out = out[start:start + frames * hop] / np.maximum(
      norm[start:start + frames * hop], 1e-6)
  return out[None]
