"""The Subscale WaveRNN sampler: one jitted `lax.scan`, S samples per step.

Schedule (PAPER.md §3): at global step n, sub-tensor s draws its sample
i_s = n - s * (horizon + 1), so sub-tensor s + 1 starts once s is
horizon + 1 samples ahead. After the warm-up of (S - 1) * (horizon + 1)
steps all S sub-tensors advance together: one batched WaveRNN step (batch
B * S) emits S samples per utterance. At step n, sample (s, i_s) needs
(z < s, k <= i_s + horizon); sub-tensor z drew i_s + horizon + (s - z - 1) *
(horizon + 1) >= i_s + horizon at step n - 1, so it is always there.

The context network is evaluated incrementally: each step computes, for
every sub-tensor, only the column i_s of every layer, reading earlier
columns (and other groups' columns) from per-layer history buffers. Inputs
and activations are kept for the whole utterance ([B, rows, S, C]), so each
group can read its own, skewed, time.

Shapes: B batch, S sub-tensors, N folded steps, C channels, G = 3H.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from wavernn_jax.features import quantization
from wavernn_jax.models import model
from wavernn_jax.models import subscale

# Utterances are padded to a multiple of this many frames (one compile per
# bucket); the padding is generated after the real samples and dropped.
BUCKET_FRAMES = 32


def _draw(logits_Bx256, u_B, temperature):
  """Inverse-CDF draw from softmax(logits / temperature)."""
  cdf = jnp.cumsum(jax.nn.softmax(logits_Bx256 / temperature, -1), -1)
  idx = jnp.sum(cdf <= u_B[:, None] * cdf[:, -1:], axis=-1)
  return jnp.minimum(idx, 255).astype(jnp.int32)


def _log_prob(logits_Bx256, idx_B):
  lp = jax.nn.log_softmax(logits_Bx256, axis=-1)
  return jnp.take_along_axis(lp, idx_B[:, None], axis=1)[:, 0]


def num_steps(n: int, sub: subscale.SubscaleConfig) -> int:
  """Sequential steps to generate N folded steps: N + (S - 1)(horizon + 1)."""
  return n + (sub.batch_factor - 1) * (sub.horizon + 1)


def _context_step(cw, sub, xs, hbufs, j_S, write_S):
  """Column j_s of every context-net layer for every group s.

  Args:
    cw: context-net weights from `_context_weights` (kernels [S, K, S_in,
      C_in, C]).
    sub: subscale hyper-parameters.
    xs: inputs, [B, rows, S, 2]; sample (z, k) at row k + lookback.
    hbufs: per-layer activations, [B, rows, S, C]; (z, j) at row j + lookback.
    j_S: the folded time of each group this step.
    write_S: the row each group writes (a spare row when inactive).

  Returns:
    The output [B, S, G] and the updated buffers.
  """
  s_idx = jnp.arange(sub.batch_factor)
  rows = xs.shape[1]
  buf, base, new_bufs = xs, sub.horizon, []
  group_dot = lambda g_SxBxM, k_SxMxC: jnp.moveaxis(jax.lax.dot_general(
      g_SxBxM, k_SxMxC, (((2,), (1,)), ((0,), (0,)))), 0, 1)
  for l, d in enumerate(sub.dilations):
    taps = np.arange(sub.kernel) * d
    read_SxK = jnp.clip(j_S[:, None] - taps + base + sub.lookback, 0, rows - 1)
    g_SxBxM = jnp.moveaxis(buf[:, read_SxK], 1, 0).reshape(
        sub.batch_factor, buf.shape[0], -1)  # M = K * S_in * C_in.
    acc = cw['biases'][l] + group_dot(g_SxBxM, cw['kernels'][l])
    if l == 0 and 'now' in cw:  # Column j_s itself of the earlier groups.
      now_S = jnp.clip(j_S + sub.lookback, 0, rows - 1)
      acc = acc + group_dot(jnp.moveaxis(xs[:, now_S], 1, 0).reshape(
          sub.batch_factor, xs.shape[0], -1), cw['now'])
    h = jax.nn.relu(acc) if l == 0 else h + jax.nn.relu(acc)
    buf = hbufs[l].at[:, write_S, s_idx].set(h)
    base = 0
    new_bufs.append(buf)
  return h @ cw['out'], tuple(new_bufs)


@functools.partial(jax.jit, static_argnames=('hop', 'sub'))
def sample(w: model.Weights, cw: dict, xin_BxFxG, length, key, temperature,
           hop: int, sub: subscale.SubscaleConfig):
  """Generates audio with the subscale schedule.

  Args:
    w: the WaveRNN cell weights.
    cw: the context-net weights (`_context_weights`: kernels group-major).
    xin_BxFxG: conditioning + bias per frame (`WaveRNN.condition`).
    length: samples of the utterance (<= F * hop; positions past it are
      treated as padding, as in `subscale.log_probs`).
    key: PRNG key of the draws.
    temperature: scalar > 0 dividing the logits of both softmaxes.
    hop: P, samples per frame.
    sub: subscale hyper-parameters.

  Returns:
    audio int16 [B, N * S] and ln P of each drawn sample (temperature 1)
    float32 [B, N * S], in time order, N = ceil(F * hop / S).
  """
  factor, horizon = sub.batch_factor, sub.horizon
  xin_BxFxG, a_BxFxSxW = subscale.split_lpc(sub, xin_BxFxG)
  b, frames, _ = xin_BxFxG.shape
  keep_drawn = 'left' in cw or a_BxFxSxW is not None
  _, tap_z_SxW, tap_di_SxW = subscale.predictor_taps(sub)
  hidden = w['R'].shape[0]
  n = -(-frames * hop // factor)
  steps = num_steps(n, sub)
  rows = sub.lookback + n + horizon + 1
  spare = rows - 1  # Written by inactive groups, read by no active one.
  s_idx = jnp.arange(factor)
  silence_c, silence_f = quantization.split(jnp.zeros((b, factor), jnp.int16))
  carry = (jnp.zeros((b * factor, hidden), jnp.float32), silence_c, silence_f,
           jnp.zeros((b, rows, factor, 2), jnp.float32),
           tuple(jnp.zeros((b, rows, factor, sub.channels), jnp.float32)
                 for _ in sub.dilations),
           # The drawn bytes (of the signal), for `left_input` and the
           # prediction ((s, j) at row j + lookback).
           jnp.zeros((b, rows, factor, 2) if keep_drawn else (0,),
                     jnp.int32))

  def step(carry, inputs):
    index, u_BxSx2 = inputs
    h, pc, pf, xs, hbufs, drawn = carry
    j_S = index - s_idx * (horizon + 1)
    active_S = (j_S >= 0) & (j_S < n)
    write_S = jnp.where(active_S, j_S + sub.lookback, spare)
    ctx_BxSxG, hbufs = _context_step(cw, sub, xs, hbufs, j_S, write_S)
    frame_S = jnp.clip((factor * j_S + s_idx) // hop, 0, frames - 1)
    xin_BxSxG = xin_BxFxG[:, frame_S] + ctx_BxSxG
    if 'sub_bias' in cw:  # The gate bias of each sub-tensor.
      xin_BxSxG = xin_BxSxG + cw['sub_bias'][None]
    row_S = jnp.clip(j_S + sub.lookback, 0, rows - 1)
    if 'left' in cw:  # (s - k, j_s), drawn k (F + 1) steps or more ago.
      lefts = [drawn[:, row_S, jnp.maximum(s_idx - k, 0)]
               for k in range(1, sub.left_samples + 1)]
      xin_BxSxG = xin_BxSxG + subscale.left_term(
          cw, [(x[..., 0], x[..., 1]) for x in lefts], s_idx)
    if a_BxFxSxW is not None:  # p from the slots' samples, all drawn.
      # One gather: (s - k, j_s) (k F + k steps ago), with two-sided
      # prediction also (z < s, j_s + 1) (at least F steps ago).
      hist_BxSxWx2 = drawn[:, row_S[:, None] + tap_di_SxW, tap_z_SxW]
      hist_BxSxW = quantization.combine(hist_BxSxWx2[..., 0],
                                        hist_BxSxWx2[..., 1])
      pred_BxS = subscale.predict(a_BxFxSxW, frame_S, hist_BxSxW)
      xin_BxSxG = xin_BxSxG + subscale.lpc_term(cw, pred_BxS)
    xin = xin_BxSxG.reshape(b * factor, -1)
    flat = lambda x: x.reshape(b * factor)
    rh = model.recur(w, h)
    x = model.input_term(w, xin, flat(pc), flat(pf))
    yc, logits_c = model.coarse(w, h, rh, x)
    u = u_BxSx2.reshape(b * factor, 2)
    c = _draw(logits_c, u[:, 0], temperature)
    yf, logits_f = model.fine(w, h, rh, x, c)
    fi = _draw(logits_f, u[:, 1], temperature)
    lp = (_log_prob(logits_c, c) + _log_prob(logits_f, fi)).reshape(b, factor)
    active_flat = jnp.tile(active_S, b)[:, None]
    h = jnp.where(active_flat, jnp.concatenate([yc, yf], -1), h)
    c, fi = c.reshape(b, factor), fi.reshape(b, factor)
    if a_BxFxSxW is not None:  # The signal: x = wrap(e + p).
      c, fi = quantization.split(quantization.wrap(
          quantization.combine(c, fi).astype(jnp.int32) + pred_BxS).astype(
              jnp.int16))
    pc, pf = jnp.where(active_S, c, pc), jnp.where(active_S, fi, pf)
    valid_S = active_S & (factor * j_S + s_idx < length)
    xs = xs.at[:, write_S, s_idx].set(subscale.features(c, fi, valid_S))
    if sub.lpc_two_sided:  # Read from the next column: past the end, silence,
      # as `subscale.log_probs` reads (the other readers look back only).
      c_kept, f_kept = (jnp.where(valid_S, c, silence_c),
                        jnp.where(valid_S, fi, silence_f))
    else:
      c_kept, f_kept = c, fi
    if keep_drawn:
      drawn = drawn.at[:, write_S, s_idx].set(jnp.stack([c_kept, f_kept], -1))
    return (h, pc, pf, xs, hbufs, drawn), (quantization.combine(c, fi), lp)

  uniforms = jax.random.uniform(key, (steps, b, factor, 2))
  _, (audio_XxBxS, lp_XxBxS) = jax.lax.scan(
      step, carry, (jnp.arange(steps), uniforms))
  # Un-skew: folded (i, s) was drawn at step i + s * (horizon + 1).
  at_NxS = np.arange(n)[:, None] + np.arange(factor)[None] * (horizon + 1)
  unskew = lambda x: subscale.unfold(
      jnp.moveaxis(x[at_NxS, :, np.arange(factor)[None]], 2, 0), n * factor)
  return unskew(audio_XxBxS), unskew(lp_XxBxS)


def generate(net, params, w, xin_BxFxG, seed: int, temperature: float,
             hop: int):
  """Samples utterances from frame-rate conditioning (for `Vocoder`).

  Args:
    net: the `SubscaleWaveRNN`.
    params: its parameters (for the context network).
    w: the cell weights to sample with (dense, or with `BlockSparse`
      matrices from `sparse_sampling.sampler_weights`).
    xin_BxFxG: conditioning + bias per frame.
    seed: PRNG seed of the draws.
    temperature: > 0, divides the logits.
    hop: P, samples per frame.

  Returns:
    audio int16 [B, F * hop] and ln P per sample float32 [B, F * hop].
  """
  b, frames, _ = xin_BxFxG.shape
  # Short inputs: the next power of two, so few shapes are ever compiled.
  bucket = min(BUCKET_FRAMES, 1 << (frames - 1).bit_length())
  padded = -(-frames // bucket) * bucket
  xin_BxFxG = jnp.pad(xin_BxFxG, ((0, 0), (0, padded - frames), (0, 0)),
                      mode='edge')
  cw = _context_weights(net, params)
  length = frames * hop
  audio, lp = sample(w, cw, xin_BxFxG, jnp.int32(length), jax.random.key(seed),
                     jnp.float32(temperature), hop, net.sub)
  return np.asarray(audio)[:, :length], np.asarray(lp)[:, :length]


@functools.partial(jax.jit, static_argnums=(0,))
def _context_weights(net, params):
  """The context net's weights, kernels stored [S, K, S_in, C_in, C].

  Each group s contracts its own kernel slice with its own gathered inputs,
  so the group axis leads (a batch axis of the per-step dot). Stored as
  trained ([K, S_in, C_in, S, C]), XLA transposed every kernel inside the
  loop at every step: 2 MB per layer per step at `preset=paper`.
  """
  cw = net.apply(params, method='context_weights')
  kernels = [k.transpose(3, 0, 1, 2, 4).reshape(k.shape[3], -1, k.shape[4])
             for k in cw['kernels']]
  if 'now' in cw:  # [S_in, 2, S, C] -> [S, S_in * 2, C].
    now = cw['now']
    cw = dict(cw, now=now.transpose(2, 0, 1, 3).reshape(now.shape[2], -1,
                                                         now.shape[3]))
  return dict(cw, kernels=kernels)
