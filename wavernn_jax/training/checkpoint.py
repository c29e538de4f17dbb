"""Orbax checkpoints of a training workdir, with auto-resume.

Layout: `<workdir>/checkpoints/<step>/{state,meta}`. `state` holds the train
state pytree (step, params, optimizer state); `meta` holds JSON: the full
experiment config, so a workdir can be restored without its config file and
a checkpoint of another model is refused. Orbax writes each step to a
temporary directory and renames it when complete, so a save interrupted by a
crash is never picked up. A complete checkpoint whose files were damaged
later (a bad disk, a copy cut short) raises DamagedCheckpointError when read;
`restore_newest_intact` falls back to an older one and moves the damaged
ones to `<workdir>/checkpoints/damaged/<step>`.
"""

import dataclasses
import logging as std_logging
import os
import re
import sys
from typing import Any

from absl import logging
import jax
import orbax.checkpoint as ocp

from wavernn_jax.features import mel as mel_lib
from wavernn_jax.models import model as model_lib
from wavernn_jax.models import subscale as subscale_lib
from wavernn_jax.utils import errors

# The config that must agree for a checkpoint to resume: what changes the
# meaning of the parameters or of the optimizer state. A section (all of
# its fields) or the named fields of one; `sparsity`'s only where either
# side prunes (its schedule may change on resume: it only prunes further).
MODEL_FIELDS = {'variant': None, 'model': None, 'mel': None,
                'subscale': None,
                'sparsity': ('enabled', 'matrices', 'block', 'balance_rows')}


class CheckpointError(errors.UserError):
  """A missing checkpoint or one that does not fit the requested model."""


class DamagedCheckpointError(CheckpointError):
  """A complete checkpoint whose files do not read back."""

  def __init__(self, message: str, step: int):
    super().__init__(message)
    self.step = step


# Where a training run moves the damaged checkpoints it skipped, under
# `<workdir>/checkpoints/` (orbax's "to delete" folder: not a step).
DAMAGED_SUBDIR = 'damaged'


def _reason(error: Exception) -> str:
  """The gist of a read error, in one short line.

  Orbax wraps TensorStore's error; the innermost one says what is wrong at
  the end of a long message ('...: ZSTD_decompressStream() failed: Data
  corruption detected; at byte 0 [tensorstore_spec=...]').
  """
  while True:  # The innermost error, as Python's traceback chains them.
    inner = error.__cause__ or (None if error.__suppress_context__
                                else error.__context__)
    if inner is None:
      break
    error = inner
  lines = str(error).strip().splitlines() or ['']
  text = lines[0].split(' [tensorstore_spec=')[0]
  text = f'{type(error).__name__}: ' + re.split(r'": ', text)[-1].split('; ')[0]
  return text if len(text) <= 240 else text[:237] + '...'


def _dir(workdir) -> str:
  return os.path.join(os.path.abspath(os.fspath(workdir)), 'checkpoints')


# What orbax's array reads, abandoned when one fails, leave behind.
_ABANDONED_READ = '_read_array_index_and_device_put'


def _silence_abandoned_reads() -> None:
  """Drops the tracebacks of the array reads orbax abandons on an error.

  When one array of a checkpoint fails to read, orbax closes its event loop
  with the reads of the others in flight. Each then prints a traceback
  after our one-line error: TensorStore's callbacks find the loop closed
  (`sys.unraisablehook`); at exit, Python closes the pending reads (orbax
  turns that into an exception, as it catches BaseException), and asyncio
  logs the tasks whose exception nobody retrieved.
  """
  previous = sys.unraisablehook
  if getattr(previous, 'silences_abandoned_reads', False):
    return

  def hook(unraisable):
    closed = (isinstance(unraisable.exc_value, RuntimeError) and
              str(unraisable.exc_value) == 'Event loop is closed')
    name = getattr(unraisable.object, '__qualname__', '')
    if not closed and name != _ABANDONED_READ:
      previous(unraisable)

  hook.silences_abandoned_reads = True
  sys.unraisablehook = hook
  std_logging.getLogger('asyncio').addFilter(
      lambda record: _ABANDONED_READ not in record.getMessage())


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
                                      'ema': ocp.StandardCheckpointHandler(),
                                      'meta': ocp.JsonCheckpointHandler()},
        options=ocp.CheckpointManagerOptions(
            max_to_keep=max_to_keep, create=True,
            cleanup_tmp_directories=cleanup,
            enable_async_checkpointing=False))

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def all_steps(self) -> list[int]:
    """The steps of the complete checkpoints, oldest first."""
    return sorted(self._manager.all_steps())

  def _check_step(self, step: int | None) -> int:
    """The step, if it has a complete checkpoint.

    Raises:
      CheckpointError: none at all (train first), or not that step (the
        message lists the steps there are).
    """
    steps = self.all_steps()
    if not steps:
      raise CheckpointError(
          f'no checkpoint in {self._manager.directory}; train first.')
    if step is None:
      return steps[-1]
    if step not in steps:
      raise CheckpointError(
          f'no checkpoint of step {step} in {self._manager.directory}; it '
          f'has steps {", ".join(map(str, steps))}.')
    return step

  def _read(self, step: int, read):
    """`read()` (an orbax restore of `step`); a failure means damaged files.

    Callers check first what is not damage: the step exists
    (`_check_step`) and the tree fits (`_check_tree`).

    Raises:
      DamagedCheckpointError: naming the step's folder, with what to do.
    """
    _silence_abandoned_reads()
    try:
      return read()
    except Exception as e:  # pylint: disable=broad-except
      path = os.path.join(os.fspath(self._manager.directory), str(step))
      older = [s for s in self.all_steps() if s < step]
      fix = (f'move that folder away to use the previous checkpoint (step '
             f'{older[-1]}), or ' if older else '')
      raise DamagedCheckpointError(
          f'checkpoint {path} (step {step}) is damaged: {_reason(e)}; {fix}'
          're-download or re-train the model (training resumes from the '
          'previous checkpoint by itself).', step) from e

  def save(self, step: int, state: Any, config_dict: dict,
           ema: Any = None) -> None:
    """Saves `state` and the config (and `ema`, averaged params, if given)."""
    items = dict(state=ocp.args.StandardSave(state),
                 meta=ocp.args.JsonSave({'config': config_dict,
                                         'step': int(step)}))
    if ema is not None:
      items['ema'] = ocp.args.StandardSave(ema)
    self._manager.save(step, args=ocp.args.Composite(**items))
    self._manager.wait_until_finished()

  def has_ema(self, step: int) -> bool:
    """Whether checkpoint `step` holds averaged params (train.ema_decay)."""
    return os.path.isdir(os.path.join(os.fspath(self._manager.directory),
                                      str(step), 'ema'))

  def _check_tree(self, step: int, item: str, abstract: Any) -> None:
    """Raises CheckpointError where the saved `item` has other arrays.

    The config check names a changed setting; this catches what it cannot
    (a config the check does not cover), so that a model of other shapes is
    never reported as damaged files.
    """
    saved = ocp.tree.to_flat_dict(self._read(
        step, lambda: self._manager.item_metadata(step))[item])
    wanted = ocp.tree.to_flat_dict(abstract)

    def shape(leaf):
      return 'absent' if leaf is None else f'of shape {tuple(leaf.shape)}'
    # The params first: the plainest name of what differs.
    for key in sorted(set(saved) | set(wanted),
                      key=lambda k: (k[0] != 'params', str(k))):
      a, b = saved.get(key), wanted.get(key)
      if a is None or b is None or tuple(a.shape) != tuple(b.shape):
        path = os.path.join(os.fspath(self._manager.directory), str(step))
        raise CheckpointError(
            f'checkpoint {path} holds another model: {item}/'
            f'{"/".join(map(str, key))} is {shape(a)} there, {shape(b)} in '
            'this config; use the config it was trained with '
            '(checkpoint.latest_config) or a new --workdir.')

  def restore_ema(self, abstract_params: Any, step: int):
    """The averaged params of checkpoint `step`, laid out as given."""
    step = self._check_step(step)
    self._check_tree(step, 'ema', abstract_params)
    return self._read(step, lambda: self._manager.restore(
        step, args=ocp.args.Composite(
            ema=ocp.args.StandardRestore(abstract_params))))['ema']

  def restore(self, abstract_state: Any, config_dict: dict,
              step: int | None = None):
    """Restores the state at `step` (latest if None) after checking fit.

    Raises:
      CheckpointError: no such step, or a config that differs (naming the
        first field) or a state of other shapes.
      DamagedCheckpointError: the files do not read back.
    """
    step = self._check_step(step)
    meta = self.restore_meta(step)
    check_compatible(meta['config'], config_dict)
    self._check_tree(step, 'state', abstract_state)
    restored = self._read(step, lambda: self._manager.restore(
        step, args=ocp.args.Composite(
            state=ocp.args.StandardRestore(abstract_state))))
    return restored['state']

  def restore_newest_intact(self, abstract_state: Any, config_dict: dict):
    """Restores the newest checkpoint that reads back (for resuming).

    Damaged newer checkpoints are logged, with a warning each, and moved to
    `checkpoints/damaged/<step>` (training will save those steps again).

    Raises:
      CheckpointError: no checkpoint reads back (none is moved then), or
        they are of another model config.
    """
    damaged = []
    for step in reversed(self.all_steps()):
      try:
        state = self.restore(abstract_state, config_dict, step)
      except DamagedCheckpointError as e:
        damaged.append(e)
        continue
      for e in damaged:
        logging.warning(
            'Checkpoint step %d is damaged (%s); resuming from step %d and '
            'moving it to %s.', e.step, _reason(e), step,
            os.path.join(os.fspath(self._manager.directory), DAMAGED_SUBDIR,
                         str(e.step)))
      self._set_aside([e.step for e in damaged])
      return state
    if not damaged:
      raise CheckpointError(
          f'no checkpoint in {self._manager.directory}; train first.')
    steps = ', '.join(str(e.step) for e in reversed(damaged))
    raise CheckpointError(
        f'no checkpoint in {self._manager.directory} reads back (steps '
        f'{steps} are damaged, step {damaged[0].step} with '
        f'{_reason(damaged[0])}); restore them from a backup, or re-train in '
        'a new --workdir.') from damaged[0]

  def _set_aside(self, steps: list[int]) -> None:
    """Moves checkpoints to `checkpoints/damaged/` (orbax's soft delete)."""
    if not steps:
      return
    mover = ocp.CheckpointManager(
        self._manager.directory, options=ocp.CheckpointManagerOptions(
            todelete_subdir=DAMAGED_SUBDIR, enable_async_checkpointing=False))
    for step in steps:
      mover.delete(step)
    mover.close()
    self._manager.reload()

  def restore_meta(self, step: int | None = None) -> dict:
    step = self._check_step(step)
    return self._read(step, lambda: self._manager.restore(
        step, args=ocp.args.Composite(meta=ocp.args.JsonRestore())))['meta']

  def restore_params(self, step: int | None = None, average: bool = True):
    """The params of a checkpoint, on this process's first device.

    Works whatever mesh saved them (e.g. a multi-host run), as the target
    is built from the saved shapes, not their saved sharding.

    Args:
      step: the checkpoint (latest if None).
      average: the averaged params (train.ema_decay) where the checkpoint
        has them; else, and for False, the trained params.
    """
    step = self._check_step(step)
    local = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
    item = 'ema' if average and self.has_ema(step) else 'state'

    def read():
      target = jax.tree_util.tree_map(
          lambda m: jax.ShapeDtypeStruct(m.shape, m.dtype, sharding=local),
          self._manager.item_metadata(step)[item])
      return self._manager.restore(step, args=ocp.args.Composite(
          **{item: ocp.args.StandardRestore(target)}))

    restored = self._read(step, read)[item]
    return restored if item == 'ema' else restored['params']

  def close(self):
    self._manager.close()


# An option a config lacks (a checkpoint saved before the option existed)
# means its default, as `ModelConfig.from_config` and
# `SubscaleConfig.from_config` read it.
_DEFAULTS = {
    'model': {f.name: f.default
              for f in dataclasses.fields(model_lib.ModelConfig)},
    'subscale': {f.name: f.default
                 for f in dataclasses.fields(subscale_lib.SubscaleConfig)},
    'sparsity': {'balance_rows': False},
    'mel': {f.name: f.default for f in dataclasses.fields(mel_lib.MelConfig)},
}


def _normal(value):
  """Lists and tuples alike (JSON has no tuples)."""
  return list(value) if isinstance(value, (list, tuple)) else value


def check_compatible(saved: dict, wanted: dict) -> None:
  """Raises CheckpointError naming the first setting that differs.

  The settings are `MODEL_FIELDS`: those that change what the saved
  parameters or optimizer state mean.
  """
  for section, fields in MODEL_FIELDS.items():
    a, b = saved.get(section), wanted.get(section)
    if isinstance(a, dict) and isinstance(b, dict):
      if section == 'sparsity' and not (a.get('enabled') or b.get('enabled')):
        continue
      defaults = _DEFAULTS.get(section, {})
      for key in fields or sorted(set(a) | set(b)):
        was, asked = (_normal(c.get(key, defaults.get(key))) for c in (a, b))
        if was != asked:
          raise CheckpointError(
              f'the checkpoint was trained with {section}.{key}='
              f'{was!r} but the config asks for {asked!r}; use a '
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
