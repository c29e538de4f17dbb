r"""Where one sampler step's time goes, dense vs block-sparse.

  python -m experiments.tools.profile_sparse_step [--hidden=896] [--sparsity=0.96]
      [--block=16x1] [--steps=4000] [--repeats=5] [--sweep=0.5,0.7,0.9]
      [--batch=16 --subscale_channels=8,16,32]

Prints one JSON line per part: µs per step (process CPU time, best of
--repeats, so other processes on the machine do not inflate it) of each
piece of the step run alone inside a `lax.scan` (its output fed back so XLA
cannot hoist it), and of the whole sampler step (`sampling.sample`).
With --batch=16 the parts run on 16 rows, as in the Subscale sampler's cell
step, and --subscale_channels adds the whole Subscale step (B = 16, F = 64,
`preset=paper`'s context options and two-sided prediction, with that
many channels per sub-tensor, R and O1..O4 pruned;
`subscale_sampling.sample`): what is not the cell is
the context net's and the schedule's.
"""

import json
import time

from absl import app
from absl import flags
import jax
import jax.numpy as jnp

from experiments.configs import wavernn
from wavernn_jax import vocoder as vocoder_lib
from wavernn_jax.models import model
from wavernn_jax.models import sparsity
from wavernn_jax.synthesis import sampling
from wavernn_jax.synthesis import sparse_sampling
from wavernn_jax.synthesis import subscale_sampling

_HIDDEN = flags.DEFINE_integer('hidden', 896, 'H.')
_SPARSITY = flags.DEFINE_float('sparsity', 0.96, 'Sparsity of the pruned '
                               'matrices.')
_BLOCK = flags.DEFINE_string('block', '16x1', 'Block BHxBW.')
_SWEEP = flags.DEFINE_list('sweep', ['0.5', '0.6', '0.7', '0.8', '0.9'],
                           'Sparsities of extra "R h, sparse" rows (where '
                           'the sparse mat-vec starts to beat the dense).')
_STEPS = flags.DEFINE_integer('steps', 4000, 'Scan steps per timed run.')
_REPEATS = flags.DEFINE_integer('repeats', 5, 'Timed runs (best kept).')
_BATCH = flags.DEFINE_integer('batch', 1, 'Rows per step (16: the Subscale '
                              'cell step).')
_SUB_CHANNELS = flags.DEFINE_list('subscale_channels', [], 'Whole Subscale '
                                  'steps with these context channels.')


def _cpu_us(fn, *args, steps: int) -> float:
  jax.block_until_ready(fn(*args))
  best = float('inf')
  for _ in range(_REPEATS.value):
    c0 = time.process_time()
    jax.block_until_ready(fn(*args))
    best = min(best, time.process_time() - c0)
  return 1e6 * best / steps


def _loop(body, steps):
  """jit(scan) of `body(w, h) -> h` for `steps` steps from h."""
  return jax.jit(lambda w, h: jax.lax.scan(
      lambda c, _: (body(w, c), None), h, None, length=steps)[0])


def _xin(v, frames: int):
  """Zero frame-rate inputs of the width `v.net.condition` gives."""
  width = v.net.apply(v.params, jnp.zeros((1, 1, v.mel_config.n_mels)), 1, 1,
                      method='condition').shape[-1]
  return jnp.zeros((1, frames, width), jnp.float32)


def main(argv):
  del argv
  h, n = _HIDDEN.value, _STEPS.value
  h2 = h // 2
  block = sparsity.parse_block(_BLOCK.value)
  voc = vocoder_lib.Vocoder.from_config(
      wavernn.get_config(f'preset=demo,hidden={h}'))
  dense = voc.weights()
  r_only = vocoder_lib.Vocoder(voc.config, voc.params).prune(
      _SPARSITY.value, block)
  both = vocoder_lib.Vocoder(voc.config, voc.params).prune(
      _SPARSITY.value, block, ('R_u', 'R_r', 'R_e', 'O1', 'O2', 'O3', 'O4'))
  sw = {name: sparse_sampling.sampler_weights(
      v.weights(), v.pruned_specs(), True)
        for name, v in (('r_only', r_only), ('both', both))}
  rows = _BATCH.value
  h0 = jnp.full((rows, h), 0.01, jnp.float32)
  u = jnp.full((rows,), 0.5, jnp.float32)

  def recur(w, c):
    return jnp.tanh(model.recur(w, c).reshape(rows, -1)[:, :h])

  def heads(w, c):
    lc = model.head(w, c[:, :h2], 'O1', 'O2')
    lf = model.head(w, c[:, h2:], 'O3', 'O4')
    return c + 1e-3 * jnp.concatenate([lc, lf], -1)[:, :1]

  def gates(w, c):
    del w
    x = jnp.broadcast_to(c.reshape(rows, 1, 2, h2), (rows, 3, 2, h2))
    return model.gru(c.reshape(rows, 2, h2), x, x).reshape(rows, h)

  def draws(w, c):
    del w
    logits = c[:, :256]
    a = sampling._draw(logits, u, 1.0)  # pylint: disable=protected-access
    b = sampling._draw(logits + 1.0, u, 1.0)  # pylint: disable=protected-access
    lp = (sampling._log_prob(logits, a) + sampling._log_prob(logits, b))  # pylint: disable=protected-access
    return c + 1e-3 * lp[:, None]

  parts = [('R h, dense', recur, dense), ('R h, sparse', recur, sw['r_only']),
           ('O1..O4 heads, dense', heads, dense),
           ('O1..O4 heads, sparse', heads, sw['both']),
           ('GRU gates (elementwise)', gates, dense),
           ('two draws + log-probs', draws, dense)]
  for z in map(float, _SWEEP.value):
    v = vocoder_lib.Vocoder(voc.config, voc.params).prune(z, block)
    w = sparse_sampling.sampler_weights(
        v.weights(), v.pruned_specs(), True)
    parts.append((f'R h, sparse at sparsity {z}', recur, w))
  for name, body, w in parts:
    us = _cpu_us(_loop(body, n), w, h0, steps=n)
    print(json.dumps(dict(part=name, hidden=h, sparsity=_SPARSITY.value,
                          block=_BLOCK.value, batch=rows,
                          us_per_step_cpu=round(us, 2))), flush=True)
  for channels in map(int, _SUB_CHANNELS.value):
    config = wavernn.get_config(f'preset=paper,variant=subscale,hidden={h},'
                                'batch_factor=16,horizon=64')
    config.subscale.update(channels=channels, lpc_order=15,
                           lpc_two_sided=True)
    sub = vocoder_lib.Vocoder.from_config(config).prune(
        _SPARSITY.value, block, ('R_u', 'R_r', 'R_e', 'O1', 'O2', 'O3', 'O4'))
    w = sparse_sampling.sampler_weights(
        sub.weights(), sub.pruned_specs(), True)
    cw = subscale_sampling._context_weights(sub.net, sub.params)  # pylint: disable=protected-access
    frames = max(16 * n // sub.hop_length, 1)
    xin = _xin(sub, frames)
    key, temp = jax.random.key(0), jnp.float32(1.0)
    fn = lambda w, cw, x: subscale_sampling.sample(
        w, cw, x, jnp.int32(frames * sub.hop_length), key, temp,
        sub.hop_length, sub.net.sub)[0]
    steps = subscale_sampling.num_steps(
        -(-frames * sub.hop_length // 16), sub.net.sub)
    us = _cpu_us(fn, w, cw, xin, steps=steps)
    print(json.dumps(dict(part='whole Subscale step, sparse R + heads',
                          context='defaults + lpc2', channels=channels,
                          hidden=h, sparsity=_SPARSITY.value,
                          block=_BLOCK.value, batch=16,
                          us_per_step_cpu=round(us, 2))), flush=True)
  frames = max(n // voc.hop_length, 1)
  xin = _xin(voc, frames)
  key, temp = jax.random.key(0), jnp.float32(1.0)
  for name, w in (('whole step, dense', dense),
                  ('whole step, sparse R', sw['r_only']),
                  ('whole step, sparse R + heads', sw['both'])):
    fn = lambda w, x: sampling.sample(w, x, key, temp, voc.hop_length)[0]
    us = _cpu_us(fn, w, xin, steps=frames * voc.hop_length)
    print(json.dumps(dict(part=name, hidden=h, sparsity=_SPARSITY.value,
                          block=_BLOCK.value, us_per_step_cpu=round(us, 2))),
          flush=True)


if __name__ == '__main__':
  app.run(main)
