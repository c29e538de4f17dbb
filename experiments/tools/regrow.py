r"""Grows a trained block-sparse run to a lower sparsity: a denser cell that
keeps everything the sparser one learned.

The pruning masks only ever drop blocks (`sparsity.block_mask`), so a run
cannot become denser by lowering its target. This tool makes the branch
point of a long run that does: it restores a run's full training state
(parameters, optimizer state with the masks, step, Polyak average), keeps
every block the masks keep, and adds, in every block-row, the dropped blocks
whose dense gradient is largest (mean |dL/dw| over the block, summed over
--windows training windows; RigL's criterion, Evci et al. 2020) until each
matrix is at --sparsity. The new blocks start at zero, with zero Adam
moments (a pruned weight's gradient is masked to 0), so the branch's first
step is the parent's model exactly. It writes the state, with the config of
the long run --name (experiments/configs/long_runs.py, which must ask for
that sparsity), and the parent's metrics.jsonl (its CPU seconds go on) into
runs/NAME/, where `experiments/tools/long_run.sh NAME ...` resumes it.

  PYTHONPATH=. python experiments/tools/regrow.py \
      --source=runs/sparse896_z95_long3 --name=sparse896_z90_grow
"""

import json
import os
import shutil
import sys

from absl import app
from absl import flags
from absl import logging
import jax
import jax.numpy as jnp

from experiments.configs import long_runs
from wavernn_jax.models import sparsity
from wavernn_jax.models import variants
from wavernn_jax.training import checkpoint
from wavernn_jax.training import input_pipeline
from wavernn_jax.training import train

_SOURCE = flags.DEFINE_string('source', None, 'the parent run: a workdir or '
                              'runs/NAME holding checkpoints/.')
_NAME = flags.DEFINE_string('name', None, 'the branch: a run of '
                            'experiments/configs/long_runs.py.')
_WINDOWS = flags.DEFINE_integer('windows', 16, 'training windows (batches) '
                                'whose dense gradient ranks the new blocks.',
                                lower_bound=1)
_OUT = flags.DEFINE_string('out', None, 'where to write (default runs/NAME).')


def _with_masks(opt_state, masks):
  """opt_state with the PruneState's masks replaced."""
  def swap(x):
    if isinstance(x, sparsity.PruneState):
      return x._replace(masks=masks)
    return x
  return jax.tree_util.tree_map(
      swap, opt_state, is_leaf=lambda x: isinstance(x, sparsity.PruneState))


def _fail(message: str):
  print(f'error: {message}', file=sys.stderr)
  sys.exit(1)


def main(argv):
  del argv
  if not _SOURCE.value or not _NAME.value:
    _fail('--source and --name are needed; see the module docstring.')
  try:
    config = long_runs.get_config(_NAME.value)
  except ValueError as e:
    _fail(str(e))
  out = _OUT.value or os.path.join('runs', _NAME.value)
  if os.path.isdir(os.path.join(out, 'checkpoints')):
    _fail(f'{out}/checkpoints exists; the branch is made once (remove it to '
          'make it again).')
  try:
    parent = checkpoint.latest_config(_SOURCE.value)
  except checkpoint.CheckpointError as e:
    _fail(str(e))
  specs = sparsity.specs_from_config(config)
  tx = train.make_optimizer(config)

  def init_state(key):
    params = variants.of(config).init(key)
    return train.TrainState(jnp.zeros((), jnp.int32), params, tx.init(params))
  one = jax.sharding.SingleDeviceSharding(jax.devices()[0])
  abstract = jax.tree_util.tree_map(
      lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=one),
      jax.eval_shape(init_state, jax.random.key(0)))
  src = checkpoint.Checkpointer(_SOURCE.value)
  step = src.latest_step()
  state = src.restore(abstract, parent, step)  # Checks the parent's config.
  ema = src.restore_ema(abstract.params, step) if src.has_ema(step) else None
  old = sparsity.find_masks(state.opt_state)

  # The dense gradient of the loss on training windows the parent has not
  # used yet (its data stream from step + 1 on).
  net = variants.of(config).make_net()
  mel_cfg = variants.of(config).mel
  ctx = input_pipeline.context_frames(config)
  grad_fn = jax.jit(jax.grad(
      lambda p, w: train.window_nll(net, mel_cfg, ctx, p, w)[0]))
  batches = input_pipeline.train_batches(
      input_pipeline.load_split(config, 'train'), config, start_step=step,
      process_index=0, process_count=1)
  total = None
  for k in range(_WINDOWS.value):
    g = grad_fn(state.params, next(batches))
    g = {key: jnp.abs(g['params'][key]) for key in old}
    total = g if total is None else jax.tree_util.tree_map(jnp.add, total, g)
    logging.info('window %d/%d', k + 1, _WINDOWS.value)

  masks, report = dict(old), {}
  for sp in specs:
    key, third = sparsity.MATRICES[sp.name]
    h = old[key].shape[0]
    cols = slice(None) if third is None else slice(third * h, (third + 1) * h)
    grown = sparsity.grow_mask(old[key][:, cols], total[key][:, cols],
                               sp.target, sp.block)
    masks[key] = (grown if third is None else
                  masks[key].at[:, cols].set(grown))
    report[sp.name] = dict(kept_before=float(old[key][:, cols].mean()),
                           kept_after=float(grown.mean()))
  state = train.TrainState(state.step, state.params,
                           _with_masks(state.opt_state, masks))
  # The weights are unchanged: the new blocks are zero and so is their Adam
  # state, which the masked gradients kept at 0.
  ckpt = checkpoint.Checkpointer(out)
  ckpt.save(step, state, config.to_dict(), ema=ema)
  ckpt.close()
  shutil.copy(os.path.join(_SOURCE.value, 'metrics.jsonl'),
              os.path.join(out, 'metrics.jsonl'))
  print(json.dumps(dict(source=_SOURCE.value, step=step, out=out,
                        windows=_WINDOWS.value, matrices=report)))


if __name__ == '__main__':
  app.run(main)
