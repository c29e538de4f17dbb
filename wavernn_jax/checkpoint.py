"""Orbax checkpoints of a training workdir, with auto-resume.

Layout: `<workdir>/checkpoints/<step>/{state,meta}`. `state` holds the train
state pytree (step, params, optimizer state); `meta` holds JSON: the full
experiment config, so a workdir can be restored without its config file and
a checkpoint of another model is refused. Orbax writes each step to a
temporary directory and renames it when complete, so a save interrupted by a
crash is never picked up.
"""

import os
from typing import Any

import jax
import orbax.checkpoint as ocp

# Config sections that must agree for a checkpoint to fit the model.
MODEL_SECTIONS = ('variant', 'model', 'mel')


class CheckpointError(ValueError):
  """A missing checkpoint or one that does not fit the requested model."""


def _dir(workdir) -> str:
  return os.path.join(os.path.abspath(os.fspath(workdir)), 'checkpoints')


class Checkpointer:
  """Saves and restores a workdir's checkpoints (keeps the last few)."""

  def __init__(self, workdir, max_to_keep: int = 3, cleanup: bool = False):
    """Opens (or creates) `<workdir>/checkpoints`.

    Args:
      workdir: training workdir.
      max_to_keep: newest checkpoints kept; older ones are deleted.
      cleanup: delete the temporary directories of saves cut short by a
        kill (only the training process may: a reader would delete a save in
        progress).
    """
    self._manager = ocp.CheckpointManager(
        _dir(workdir), item_handlers={'state': ocp.StandardCheckpointHandler(),
                                      'meta': ocp.JsonCheckpointHandler()},
        options=ocp.CheckpointManagerOptions(
            max_to_keep=max_to_keep, create=True,
            cleanup_tmp_directories=cleanup,
            enable_async_checkpointing=False))

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def save(self, step: int, state: Any, config_dict: dict) -> None:
    self._manager.save(step, args=ocp.args.Composite(
        state=ocp.args.StandardSave(state),
        meta=ocp.args.JsonSave({'config': config_dict, 'step': int(step)})))
    self._manager.wait_until_finished()

  def restore(self, abstract_state: Any, config_dict: dict,
              step: int | None = None):
    """Restores the state at `step` (latest if None) after checking fit."""
    step = self.latest_step() if step is None else step
    meta = self.restore_meta(step)
    check_compatible(meta['config'], config_dict)
    restored = self._manager.restore(step, args=ocp.args.Composite(
        state=ocp.args.StandardRestore(abstract_state)))
    return restored['state']

  def restore_meta(self, step: int | None = None) -> dict:
    step = self.latest_step() if step is None else step
    return self._manager.restore(step, args=ocp.args.Composite(
        meta=ocp.args.JsonRestore()))['meta']

  def restore_params(self, step: int | None = None):
    """The params of a checkpoint, on this process's first device.

    Works whatever mesh saved them (e.g. a multi-host run), as the target
    is built from the saved shapes, not their saved sharding.
    """
    step = self.latest_step() if step is None else step
    local = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
    target = jax.tree_util.tree_map(
        lambda m: jax.ShapeDtypeStruct(m.shape, m.dtype, sharding=local),
        self._manager.item_metadata(step)['state'])
    restored = self._manager.restore(step, args=ocp.args.Composite(
        state=ocp.args.StandardRestore(target)))
    return restored['state']['params']

  def close(self):
    self._manager.close()


def check_compatible(saved: dict, wanted: dict) -> None:
  """Raises CheckpointError naming the first model setting that differs."""
  for section in MODEL_SECTIONS:
    a, b = saved.get(section), wanted.get(section)
    if isinstance(a, dict) and isinstance(b, dict):
      for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
          raise CheckpointError(
              f'the checkpoint was trained with {section}.{key}='
              f'{a.get(key)!r} but the config asks for {b.get(key)!r}; use a '
              'new --workdir or the config the checkpoint was trained with.')
    elif a != b:
      raise CheckpointError(
          f'the checkpoint was trained with {section}={a!r} but the config '
          f'asks for {b!r}; use a new --workdir or the matching config.')


def latest_config(workdir) -> dict:
  """The experiment config (as a dict) of a workdir's latest checkpoint."""
  if not os.path.isdir(_dir(workdir)):
    raise CheckpointError(
        f'no checkpoint in {workdir}; train first with '
        f'`python launch.py --config=... --workdir={workdir}`.')
  ckpt = Checkpointer(workdir)
  if ckpt.latest_step() is None:
    raise CheckpointError(
        f'no complete checkpoint in {workdir}; train first with '
        f'`python launch.py --config=... --workdir={workdir}`.')
  return ckpt.restore_meta()['config']
