"""Training loop: one jitted, data-parallel step; eval; checkpoints; logs.

`train_and_evaluate(config, workdir)` trains the model of `config` in
`workdir`, resuming from its latest checkpoint. The batch is sharded over
the `data` axis of a device mesh; parameters are replicated.
"""

import functools
import json
import math
import os
import signal
import time

from absl import logging
import flax.struct
import flax.traverse_util
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P
from tensorboardX import SummaryWriter

from wavernn_jax import vocoder as vocoder_lib
from wavernn_jax.features import mel as mel_lib
from wavernn_jax.features import quantization
from wavernn_jax.models import model as model_lib
from wavernn_jax.models import sparse_training
from wavernn_jax.models import sparsity
from wavernn_jax.models import variants
from wavernn_jax.training import checkpoint
from wavernn_jax.training import config_checks
from wavernn_jax.training import distributed
from wavernn_jax.training import input_pipeline
from wavernn_jax.training import workdir_lock
from wavernn_jax.utils import errors
from wavernn_jax.utils import history
from wavernn_jax.utils import plotting

LN2 = math.log(2.0)


class NonFiniteLossError(FloatingPointError):
  """The training loss became NaN or infinite."""


@flax.struct.dataclass
class TrainState:
  step: jax.Array
  params: dict
  opt_state: optax.OptState


def lr_schedule(config) -> optax.Schedule:
  """Linear warm-up then cosine decay to end_lr_fraction of the peak."""
  t = config.train
  warmup = max(min(t.warmup_steps, t.steps // 2), 1)
  return optax.warmup_cosine_decay_schedule(
      0.0, t.learning_rate, warmup, max(t.steps, warmup + 1),
      end_value=t.learning_rate * t.end_lr_fraction)


def make_optimizer(config) -> optax.GradientTransformation:
  tx = optax.chain(optax.clip_by_global_norm(config.train.grad_clip),
                   optax.adam(lr_schedule(config)))
  specs = sparsity.specs_from_config(config)
  if specs:  # After Adam: a pruned weight's update is "set to 0".
    tx = optax.chain(tx, sparsity.prune(
        specs, sparsity.schedule_from_config(config),
        config.sparsity.balance_rows))
  return tx


def window_nll(net, mel_cfg: mel_lib.MelConfig, ctx: int, params, window,
               layout=None, teacher=None, distill_weight: float = 0.0):
  """Mean NLL (nats) per 16-bit sample of windows [B, W], and its parts.

  With `layout`, {key: sparse_training.Layout}, the products by those
  matrices (R, O1..O4) run block-sparse over the kept blocks of the dense
  parameters (the masked products).

  With `teacher`, (net, params) of a trained model that scores the same
  targets (`load_teacher`), the first value returned is the distillation
  objective (1 - w) NLL + w CE(teacher, model), w = `distill_weight`: the
  cross-entropy of the model's coarse and fine distributions against the
  teacher's teacher-forced ones at every sample (a soft target per sample
  instead of the one drawn value). aux['nll'] is then the plain NLL.
  """
  mel = None
  if net.cfg.conditional:
    mel = mel_lib.log_mel(quantization.to_float(window), mel_cfg)
  if net.cfg.emphasis:  # The model predicts the pre-emphasised signal.
    window = quantization.emphasise(window, net.cfg.emphasis)
  if net.cfg.mulaw:  # Ablation: 8-bit mu-law codes in the coarse byte.
    window = quantization.mulaw_encode(window)
  cell_weights = None
  if layout is not None:
    cell_weights = sparse_training.gather_all(
        layout, params, jnp.dtype(net.cfg.matmul_dtype))
  # The mel's LPC and pitch features all at once, not frame by frame (the
  # dense-order model; faster, and a rounding flip apart in rare frames).
  batched = {} if hasattr(net, 'sub') else {'per_frame': False}
  if teacher is None:
    lp_c, lp_f = net.apply(params, window, mel, context_frames=ctx,
                           cell_weights=cell_weights, **batched)
  else:
    lp_c, lp_f, logits = net.apply(params, window, mel, context_frames=ctx,
                                   cell_weights=cell_weights,
                                   return_logits=True, **batched)
  nll_c, nll_f = -lp_c.mean(), -lp_f.mean()
  aux = {'nll_coarse_bits': nll_c / LN2, 'nll_fine_bits': nll_f / LN2}
  if teacher is None:
    return nll_c + nll_f, aux
  t_net, t_params = teacher
  *_, t_logits = t_net.apply(t_params, window, mel, context_frames=ctx,
                             return_logits=True)
  soft = distill_cross_entropy(jax.lax.stop_gradient(t_logits), logits)
  aux.update(nll=nll_c + nll_f, distill_bits=soft / LN2)
  return (1.0 - distill_weight) * (nll_c + nll_f) + distill_weight * soft, aux


def distill_cross_entropy(teacher_logits, logits):
  """Mean over samples of -sum_k p_teacher(k) ln p(k), coarse + fine (nats).

  Both [B, T, 2, 256] (the coarse and fine logits of every sample).
  """
  p = jax.nn.softmax(teacher_logits, axis=-1)
  ce = -(p * jax.nn.log_softmax(logits, axis=-1)).sum(-1)  # [B, T, 2].
  return ce.mean((0, 1)).sum()


def load_teacher(config):
  """(net, params) of `train.distill_from`, or None when it is empty.

  The teacher's Polyak average when it has one (as `Vocoder.restore`). It
  must score the same targets as the model trained: the same mel, the same
  signal transform (pre-emphasis, mu-law, LPC order) and the same context
  frames; both dense-cell models (the Subscale net has no per-sample logits
  in this order). Raises config_checks.ConfigError otherwise.
  """
  path = config.train.get('distill_from', '')
  if not path:
    return None
  if not variants.of(config).distillable:
    raise config_checks.ConfigError(
        'train.distill_from distils a dense or sparse WaveRNN, not Subscale; '
        'drop train.distill_from.')
  teacher = vocoder_lib.Vocoder.restore(path)
  tc = teacher.config
  if not teacher.variant.distillable:
    raise config_checks.ConfigError(
        f'train.distill_from={path} is a Subscale model; distil from a dense '
        'or sparse WaveRNN.')
  checks = [('mel', tc.mel.to_dict(), config.mel.to_dict())]
  for key in ('emphasis', 'lpc_order', 'mulaw', 'conditional'):
    checks.append((f'model.{key}', tc.model.get(key), config.model.get(key)))
  checks.append(('context frames', input_pipeline.context_frames(tc),
                 input_pipeline.context_frames(config)))
  for what, theirs, ours in checks:
    if theirs != ours:
      raise config_checks.ConfigError(
          f'train.distill_from={path} has {what} {theirs}, this run '
          f'{ours}; the teacher must score the same targets (use a teacher '
          'trained with the same mel, emphasis, LPC and conditioning).')
  logging.info('Distilling from %s (step %d%s), weight %.2f.', path,
               teacher.step, ', its average' if teacher.averaged else '',
               config.train.get('distill_weight', 0.5))
  return teacher.net, teacher.params


def train_step(net, mel_cfg, ctx, tx, state: TrainState, window, mesh,
               layout=None, teacher=None, distill_weight: float = 0.0):
  """One optimizer step; R / O1..O4 block-sparse as `layout` gives; the
  distillation objective with `teacher` = (net, params) (`window_nll`)."""
  t_net = None if teacher is None else teacher[0]

  def loss_fn(params, window, layout, t_params):
    return window_nll(net, mel_cfg, ctx, params, window, layout,
                      None if t_net is None else (t_net, t_params),
                      distill_weight)
  (loss, aux), grads = distributed.data_parallel_value_and_grad(
      loss_fn, mesh)(state.params, window, layout,
                     None if teacher is None else teacher[1])
  nll = aux.pop('nll', loss)
  masks = sparsity.find_masks(state.opt_state)
  if masks:  # The masked product's gradient, on either path (same clipping).
    grads = sparsity.apply_masks(grads, masks)
  updates, opt_state = tx.update(grads, state.opt_state, state.params)
  params = optax.apply_updates(state.params, updates)
  metrics = dict(aux, loss=loss, nll_bits=nll / LN2,
                 grad_norm=optax.tree.norm(grads))
  return TrainState(state.step + 1, params, opt_state), metrics


def ema_decay_at(decay: float, step):
  """The average's decay after `step` updates: min(decay, (1 + t) / (10 + t)).

  As tf.train.ExponentialMovingAverage with num_updates: early in a run the
  average forgets the random init quickly (at decay 0.999 a plain average
  would still hold 5 % of it after 3,000 steps).
  """
  return jnp.minimum(decay, (1.0 + step) / (10.0 + step))


def _ema_update(decay: float, ema, state: TrainState):
  """The Polyak average after a step: d * ema + (1 - d) * params.

  d = `ema_decay_at(decay, step)`. Pruned weights are 0 in the average as
  in the params (their masks), so the averaged model is exactly as sparse
  as the trained one.
  """
  d = ema_decay_at(decay, state.step.astype(jnp.float32))
  ema = optax.incremental_update(state.params, ema, 1.0 - d)
  masks = sparsity.find_masks(state.opt_state)
  return sparsity.apply_masks(ema, masks) if masks else ema


class _Preemption:
  """Turns SIGTERM into a flag the loop checks (then saves and stops)."""

  def __init__(self):
    self.requested = False
    try:
      signal.signal(signal.SIGTERM, self._handle)
    except ValueError:  # Not the main thread (e.g. some test runners).
      pass

  def _handle(self, signum, frame):
    del signum, frame
    self.requested = True


def _fmt_time(seconds: float) -> str:
  seconds = int(max(seconds, 0))
  return f'{seconds // 3600}h{seconds // 60 % 60:02d}m{seconds % 60:02d}s'


def warm_start_params(params, source):
  """`params` (a fresh init) with another run's params copied in.

  An entry of `source` with the same path and shape is copied. One that is
  smaller along some axes (a layer that gained inputs, e.g. the first
  conditioning conv when `model.pitch` appends pitch features to the mel)
  fills the leading slice, zeros the rest: the appended inputs start with
  no effect, so the warm-started model computes what the source did. Params
  the source lacks (the pitch embedding) keep their init; source params the
  model lacks are an error, as are shapes that do not nest.
  """
  flat = flax.traverse_util.flatten_dict(params)
  for path, old in flax.traverse_util.flatten_dict(source).items():
    name = '/'.join(map(str, path))
    new = flat.get(path)
    if new is None:
      raise checkpoint.CheckpointError(
          f'the warm-start source has a param {name} this model lacks; '
          'train.init_from needs a run of the same variant and cell.')
    if old.shape != new.shape and (
        old.ndim != new.ndim or any(o > n for o, n in zip(old.shape,
                                                          new.shape))):
      raise checkpoint.CheckpointError(
          f'cannot warm-start {name}: the source has shape {old.shape}, '
          f'this model {new.shape}; train.init_from needs the same cell '
          '(hidden size, inputs) as the source.')
    index = tuple(slice(0, o) for o in old.shape)
    flat[path] = jnp.zeros_like(new).at[index].set(old.astype(new.dtype))
  return flax.traverse_util.unflatten_dict(flat)


def train_and_evaluate(config, workdir: str) -> dict:
  """Trains (resuming if possible) and returns the last eval metrics.

  The run holds the workdir while it lives (`workdir_lock`): a second
  writer is refused in one line (`WorkdirBusyError`).
  """
  config_checks.validate(config)
  with workdir_lock.hold(workdir, primary=jax.process_index() == 0):
    return _train_and_evaluate(config, workdir)


def _train_and_evaluate(config, workdir: str) -> dict:
  """The loop; each piece it calls is named below it."""
  os.makedirs(workdir, exist_ok=True)
  place, tx = _Placement(config), make_optimizer(config)
  net = variants.of(config).make_net()  # WaveRNN, or SubscaleWaveRNN.
  ckpt, state, abstract = _restore_or_init(config, workdir, tx,
                                           place.replicated)
  start, t = int(state.step), config.train
  polyak = _Polyak(config, ckpt, abstract, state)
  _log_model(config, net, state)
  train_src = input_pipeline.load_split(config, 'train')
  val_src = input_pipeline.load_split(config, 'validation')
  batches = input_pipeline.train_batches(
      train_src, config, start_step=start,
      process_index=jax.process_index(), process_count=jax.process_count())
  val_windows = input_pipeline.eval_windows(val_src, config)
  steps = _Steps(config, net, tx, place)
  log = _Log(workdir, start)
  budget = _Budget(config, log.history_path, start)
  step, metrics, eval_metrics = start, None, {}
  if start >= t.steps:
    logging.info('Already trained %d steps; nothing to do.', start)
  for step in range(start + 1, t.steps + 1):
    window = jax.make_array_from_process_local_data(place.batches,
                                                    next(batches))
    state, metrics = steps(state, window, step)
    polyak.update(state)
    stop = budget.stop(step)
    _check_finite(metrics, step)
    if step % t.log_every == 0 or stop:
      log.train(step, _train_metrics(config, metrics, state, steps, budget,
                                     step))
    if step % t.eval_every == 0 or stop:
      eval_metrics = steps.validate(step, state.params, polyak.params,
                                    val_windows)
      log.validation(step, eval_metrics, config, state.params if
                     polyak.params is None else polyak.params, val_src)
    if step % t.ckpt_every == 0 or stop:
      ckpt.save(step, state, config.to_dict(), ema=polyak.params)
    if stop:
      budget.log_stop(step)
      break
  if metrics is None and ckpt.latest_step() is not None:
    eval_metrics = evaluate_windows(steps.eval_fn, state.params, val_windows,
                                    config.data.batch_size)
  log.close()
  ckpt.close()
  # preempted: stopped on SIGTERM before its end (steps or time budget);
  # callers that score a finished run (sweeps) must not score this one.
  return dict(eval_metrics, step=step, preempted=budget.preempted)


class _Placement:
  """The device mesh: the state replicated, the batches split over 'data'."""

  def __init__(self, config):
    self.mesh = jax.make_mesh((jax.device_count(),), ('data',))
    self.replicated = NamedSharding(self.mesh, P())
    self.batches = NamedSharding(self.mesh, P('data'))
    if config.data.batch_size % jax.device_count():
      raise errors.UserError(
          f'data.batch_size={config.data.batch_size} must be divisible by '
          f'the {jax.device_count()} devices.')


def _restore_or_init(config, workdir: str, tx, replicated):
  """(checkpointer, state, its abstract shape): the newest intact
  checkpoint's state, else a fresh init, with train.init_from's params
  copied in (a warm start)."""

  def init_state(key):
    params = variants.of(config).init(key)
    return TrainState(jnp.zeros((), jnp.int32), params, tx.init(params))

  root = jax.random.key(config.seed)
  abstract = jax.tree_util.tree_map(
      lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=replicated),
      jax.eval_shape(init_state, root))
  ckpt = checkpoint.Checkpointer(workdir, cleanup=True)
  if ckpt.latest_step() is not None:  # Skips damaged newer checkpoints.
    state = ckpt.restore_newest_intact(abstract, config.to_dict())
    logging.info('Resumed from step %d in %s.', int(state.step), workdir)
    return ckpt, state, abstract
  state = jax.jit(init_state, out_shardings=replicated)(root)
  if config.train.get('init_from'):  # A new run from another's params.
    checkpoint.latest_config(config.train.init_from)  # One line if none.
    source = checkpoint.Checkpointer(config.train.init_from)
    params = warm_start_params(state.params, source.restore_params())
    params = jax.device_put(params, replicated)
    state = TrainState(state.step, params, tx.init(params))
    logging.info('Warm start from the params of %s, step %d.',
                 config.train.init_from, source.latest_step())
  return ckpt, state, abstract


class _Polyak:
  """The Polyak average of the params (train.ema_decay > 0; `params` is
  None without one), saved beside the state; `Vocoder.restore` samples
  with it. A run that had none starts it from its current params."""

  def __init__(self, config, ckpt, abstract, state: TrainState):
    decay = float(config.train.get('ema_decay', 0.0))
    self.params = None
    if not decay:
      return
    start = int(state.step)
    if start and ckpt.has_ema(start):
      self.params = ckpt.restore_ema(abstract.params, start)
    else:
      self.params = jax.tree_util.tree_map(lambda x: x.copy(), state.params)
    self._update = jax.jit(functools.partial(_ema_update, decay),
                           donate_argnums=0)

  def update(self, state: TrainState) -> None:
    if self.params is not None:
      self.params = self._update(self.params, state)


def _log_model(config, net, state: TrainState) -> None:
  logging.info('Model: %s, %d parameters (%d non-zero).', config.variant,
               model_lib.param_count(state.params),
               sum(int(jnp.count_nonzero(x)) for x in
                   jax.tree_util.tree_leaves(state.params)))
  recurrence = variants.of(config).recurrence_path(net)
  if recurrence:
    logging.info('The teacher-forced recurrence runs %s (model.kernel=%s).',
                 recurrence, net.cfg.kernel)


class _Steps:
  """The jitted train step, dense or with R and the heads block-sparse
  (`sparse_training.StepChoice` picks per step; one compile per set of
  buckets of K), with the distillation teacher (train.distill_from) if any,
  and the validation NLL."""

  def __init__(self, config, net, tx, place: _Placement):
    mel_cfg = variants.of(config).mel
    ctx = input_pipeline.context_frames(config)
    teacher = load_teacher(config)
    # The teacher's params go in as an argument (None without one), its
    # module is closed over.
    t_net, self._t_params = (None, None) if teacher is None else (
        teacher[0], jax.device_put(teacher[1], place.replicated))
    weight = float(config.train.get('distill_weight', 0.5))

    def one_step(s, w, lay, tp):
      return train_step(net, mel_cfg, ctx, tx, s, w, place.mesh, lay,
                         None if t_net is None else (t_net, tp), weight)
    rep = place.replicated
    self._dense = jax.jit(
        lambda s, w, tp: one_step(s, w, None, tp),
        in_shardings=(rep, place.batches, rep), out_shardings=(rep, rep),
        donate_argnums=0)
    self._sparse = jax.jit(
        one_step, in_shardings=(rep, place.batches, rep, rep),
        out_shardings=(rep, rep), donate_argnums=0)
    self.kernel = sparse_training.StepChoice(config, rep)
    self.eval_fn = jax.jit(lambda p, w: window_nll(net, mel_cfg, ctx, p, w))
    self._batch = config.data.batch_size

  def __call__(self, state: TrainState, window, step: int):
    layout = self.kernel.layout(state.opt_state, step)
    if layout is None:
      return self._dense(state, window, self._t_params)
    return self._sparse(state, window, layout, self._t_params)

  def validate(self, step: int, params, polyak, windows) -> dict:
    """Validation NLL of the params (and of their average, on the same
    windows), and the non-zero count."""
    out = evaluate_windows(self.eval_fn, params, windows, self._batch)
    out['nonzero_params'] = sparsity.nonzero_count(params)
    if polyak is not None:
      out['nll_bits_ema'] = evaluate_windows(self.eval_fn, polyak, windows,
                                             self._batch)['nll_bits']
    logging.info('step %d  validation %.3f bits/sample%s', step,
                 out['nll_bits'],
                 '' if polyak is None else
                 f'  (average {out["nll_bits_ema"]:.3f})')
    return out


class _Budget:
  """When to stop: at train.steps, past train.max_seconds of wall time or
  train.max_cpu_seconds of this process's CPU time (both counted across
  resumes, from the history), or on SIGTERM; every process stops at the
  same step, or the others would hang. Also the ETA of the progress line."""

  def __init__(self, config, history_path: str, start: int):
    self._t, self._start = config.train, start
    self._wall0, self._cpu0 = time.time(), time.process_time()
    # Wall time spent training this workdir, across resumes (model cards).
    self.prior_seconds = history.last_value(history_path, 'train_seconds')
    self._prior_cpu = history.last_value(history_path, 'train_cpu_seconds')
    self._preempt = _Preemption()
    self.out_of_time = False

  @property
  def preempted(self) -> bool:
    return self._preempt.requested

  @property
  def wall(self) -> float:
    return time.time() - self._wall0

  @property
  def cpu_used(self) -> float:
    """CPU seconds of this process, across resumes (equal-budget A/B runs
    on a shared machine: what other jobs take does not count)."""
    return self._prior_cpu + time.process_time() - self._cpu0

  def stop(self, step: int) -> bool:
    t = self._t
    self.out_of_time = bool(t.max_seconds) and self.wall > t.max_seconds
    self.out_of_time |= bool(t.get('max_cpu_seconds')) and (
        self.cpu_used > t.max_cpu_seconds)
    return distributed.any_process(step == t.steps or self.out_of_time or
                                   self.preempted)

  def rate_and_eta(self, step: int) -> tuple[float, float]:
    t = self._t
    rate = (step - self._start) / max(self.wall, 1e-9)
    eta = (t.steps - step) / max(rate, 1e-9)
    if t.max_seconds:
      eta = min(eta, t.max_seconds - self.wall)
    if t.get('max_cpu_seconds'):  # At this run's CPU-per-wall-second.
      cpu_rate = (time.process_time() - self._cpu0) / max(self.wall, 1e-9)
      eta = min(eta, (t.max_cpu_seconds - self.cpu_used) / max(cpu_rate,
                                                               1e-9))
    return rate, eta

  def log_stop(self, step: int) -> None:
    if self.out_of_time:
      logging.info('Stopping at step %d: train.max_seconds=%s or '
                   'max_cpu_seconds=%s reached.', step, self._t.max_seconds,
                   self._t.get('max_cpu_seconds'))
    if self.preempted:
      logging.info('Stopping at step %d on SIGTERM (checkpoint saved).', step)


def _check_finite(metrics, step: int) -> None:
  loss = float(metrics['loss'])  # Checked every step: stop at the first.
  if not math.isfinite(loss):
    raise NonFiniteLossError(
        f'non-finite loss {loss} at step {step}; lower '
        'train.learning_rate or check the data.')


def _train_metrics(config, metrics, state: TrainState, steps: _Steps,
                   budget: _Budget, step: int) -> dict:
  """The progress row: losses, LR, time, and (pruning) the achieved and
  target sparsity and the step's stored densities; logs the progress line."""
  m = {k: float(v) for k, v in jax.device_get(metrics).items()}
  m['learning_rate'] = float(lr_schedule(config)(step))
  m['train_seconds'] = budget.prior_seconds + budget.wall
  m['train_cpu_seconds'] = budget.cpu_used
  specs = sparsity.specs_from_config(config)
  if specs:
    m.update(sparsity.log_metrics(specs, sparsity.schedule_from_config(config),
                                  state.params, step))
    m.update({f'train_density/{k}': v
              for k, v in steps.kernel.densities().items()})
  rate, eta = budget.rate_and_eta(step)
  logging.info('step %d/%d  loss %.3f nats  %.3f bits/sample  lr %.2e  '
               '%.2f steps/s  ETA %s', step, config.train.steps, m['loss'],
               m['nll_bits'], m['learning_rate'], rate, _fmt_time(eta))
  return m


class _Log:
  """What a run writes (process 0 only): metrics.jsonl, TensorBoard
  scalars, a validation sample per eval, and the plots at the end. Rows a
  killed run logged past the resumed checkpoint are dropped first."""

  def __init__(self, workdir: str, start: int):
    self.workdir = workdir
    self.history_path = os.path.join(workdir, 'metrics.jsonl')
    self._writer = None
    if jax.process_index() == 0:
      history.truncate(self.history_path, start)
      self._writer = SummaryWriter(os.path.join(workdir, 'tb'),
                                   purge_step=start + 1)

  def _row(self, split: str, step: int, metrics: dict) -> None:
    for k, v in metrics.items():
      self._writer.add_scalar(f'{split}/{k}', v, step)
    with open(self.history_path, 'a') as f:
      f.write(json.dumps(dict(metrics, step=step, split=split)) + '\n')

  def train(self, step: int, metrics: dict) -> None:
    if self._writer:
      self._row('train', step, metrics)

  def validation(self, step: int, metrics: dict, config, params,
                 val_src) -> None:
    if self._writer:
      self._row('validation', step, metrics)
      _write_sample(self._writer, config, params, val_src, step)

  def close(self) -> None:
    if self._writer:
      self._writer.close()
      plotting.plot_history(self.history_path,
                            os.path.join(self.workdir, 'loss.png'))
      sparsity.plot_schedule(self.history_path,
                             os.path.join(self.workdir, 'sparsity.png'))


def evaluate_windows(eval_fn, params, windows, batch_size: int) -> dict:
  """Mean validation NLL over fixed windows (bits per 16-bit sample)."""
  totals = {}
  for i in range(0, len(windows), batch_size):
    chunk = windows[i:i + batch_size]
    loss, aux = eval_fn(params, chunk)
    for k, v in dict(aux, nll_bits=loss / LN2).items():
      totals[k] = totals.get(k, 0.0) + float(v) * len(chunk)
  return {k: v / len(windows) for k, v in totals.items()}


def _write_sample(writer, config, params, val_src, step: int):
  """Generates a short validation clip; logs audio and spectrograms."""
  voc = vocoder_lib.Vocoder(config, jax.device_get(params))
  hop = voc.hop_length
  seconds = config.train.sample_seconds
  audio = np.asarray(val_src[0]['audio'])
  t = max(int(seconds * voc.sample_rate) // hop, 4) * hop
  audio = np.pad(audio, (0, max(t - len(audio), 0)))[:t]
  mel = voc.mel(audio) if voc.model_config.conditional else None
  gen, _ = voc.generate(mel, seed=step, num_samples=t)
  writer.add_audio('sample/generated', gen[0] / 32768.0, step,
                   sample_rate=voc.sample_rate)
  writer.add_audio('sample/original', audio / 32768.0, step,
                   sample_rate=voc.sample_rate)
  fig = plotting.compare_spectrograms(voc.mel(audio)[0], voc.mel(gen)[0],
                                      voc.sample_rate, hop)
  writer.add_figure('sample/spectrograms', fig, step)
