"""Block magnitude pruning as an Optax transform (PAPER.md §2).

    tx = optax.chain(optax.adam(lr), prune(specs, schedule))

`prune` keeps binary masks in its state (so they are checkpointed with the
optimizer state), recomputes them every N steps from the current weights
following the cubic schedule z(t) = Z (1 - (1 - (t - t0) / S)^3), and turns
every update of a pruned weight into "set it to exactly zero": the update is
`where(mask, u, -w)`. Placed after the optimizer, this drops whatever Adam's
moments would add to a pruned weight, so a pruned weight never comes back;
masks only ever lose blocks (pruned blocks rank last), so the sparsity is
monotone.

Orientation: block shapes are given as the paper writes them, (BH, BW) =
BH consecutive outputs of BW inputs (16x1 = 16 outputs of one input). Our
matrices are stored [inputs, outputs], so a block is BW rows x BH columns of
the stored array. The three gates R_u, R_r, R_e are the column thirds of the
stored `R` [H, 3H] and are pruned each to its own target.
"""

import dataclasses
import json
import math
import os
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from wavernn_jax.utils import errors

# sparsity.train_kernel: how training multiplies by the pruned R
# (sparse_training.py): block-sparse once sparse enough, always, or never.
TRAIN_KERNELS = ('auto', 'sparse', 'dense')

# Prunable matrices: name -> (parameter key, third of the columns or None).
# Biases, I_prev, I_c and the conditioner are never pruned.
MATRICES = {'R_u': ('R', 0), 'R_r': ('R', 1), 'R_e': ('R', 2),
            'O1': ('O1', None), 'O2': ('O2', None), 'O3': ('O3', None),
            'O4': ('O4', None)}


@dataclasses.dataclass(frozen=True)
class Spec:
  """One pruned matrix: its name, block (paper orientation), final target."""
  name: str
  target: float  # Z, final fraction of zero weights.
  block: tuple[int, int] = (16, 1)  # (BH outputs, BW inputs).


@dataclasses.dataclass(frozen=True)
class Schedule:
  """Cubic sparsity schedule (Zhu & Gupta 2017), in optimizer steps."""
  start: int = 1000  # t0: the last step at sparsity 0.
  ramp: int = 200_000  # S: steps from 0 to the final target.
  every: int = 500  # N: steps between mask updates.

  def updates_at(self, t):
    """Whether the masks are recomputed at step t (1-based; ints or arrays)."""
    return (t >= self.start) & ((t - self.start) % self.every == 0)

  def fraction(self, t):
    """1 - (1 - (t - t0)/S)^3 clipped to [0, 1]; works on ints and arrays."""
    x = jnp.clip((jnp.asarray(t, jnp.float32) - self.start) / self.ramp,
                 0.0, 1.0)
    return 1.0 - (1.0 - x) ** 3


def parse_block(text: str) -> tuple[int, int]:
  """'16x1' -> (16, 1); raises ValueError with the expected format."""
  parts = str(text).lower().split('x')
  if len(parts) != 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
    raise errors.UserError(
        f'block={text!r} must be BHxBW with positive integers, '
        'e.g. 16x1, 4x4, 1x16 or 1x1.')
  return int(parts[0]), int(parts[1])


def paper_shape(name: str, hidden: int) -> tuple[int, int]:
  """[outputs, inputs] of a prunable matrix (the paper's orientation)."""
  h2 = hidden // 2
  return {'O1': (h2, h2), 'O3': (h2, h2), 'O2': (256, h2),
          'O4': (256, h2)}.get(name, (hidden, hidden))


def specs_from_config(config) -> tuple[Spec, ...]:
  """The pruned matrices of an experiment config (empty when disabled)."""
  s = config.get('sparsity')
  if s is None or not s.enabled:
    return ()
  names = [n.strip() for n in s.matrices.split(',') if n.strip()]
  overrides = {}
  for item in filter(None, (x.strip() for x in s.targets.split(','))):
    key, _, value = item.partition('=')
    overrides[key.strip()] = float(value)
  block = parse_block(s.block)
  return tuple(Spec(n, overrides.get(n, s.target), block) for n in names)


def check_config(config) -> None:
  """Raises ValueError (one line) on a bad `config.sparsity` section."""
  s, hidden = config.sparsity, config.model.hidden
  names = [n.strip() for n in s.matrices.split(',') if n.strip()]
  for n in names:
    if n not in MATRICES:
      raise errors.UserError(
          f'sparsity.matrices has {n!r}; prunable matrices are '
          f'{sorted(MATRICES)} (biases, inputs and the '
          'conditioner are never pruned).')
  if not names:
    raise errors.UserError('sparsity.matrices is empty; e.g. R_u,R_r,R_e.')
  try:
    specs = specs_from_config(config)
  except ValueError as e:
    raise errors.UserError(f'sparsity: {e}') from None
  for item in filter(None, (x.strip() for x in s.targets.split(','))):
    if item.partition('=')[0].strip() not in names:
      raise errors.UserError(f'sparsity.targets has {item!r}, but only '
                             f'{names} are pruned (sparsity.matrices).')
  check_specs(specs, hidden)
  for key in ('ramp_steps', 'update_every'):
    if s[key] <= 0:
      raise errors.UserError(f'sparsity.{key}={s[key]} must be > 0 (steps).')
  if s.start_step < 0:
    raise errors.UserError(f'sparsity.start_step={s.start_step} must be >= 0.')
  kernel = s.get('train_kernel', 'auto')
  if kernel not in TRAIN_KERNELS:
    raise errors.UserError(
        f'sparsity.train_kernel={kernel!r} is unknown; use one '
        f'of {TRAIN_KERNELS}.')
  density = s.get('train_kernel_density', 0.0)
  if not 0.0 <= density <= 1.0:
    raise errors.UserError(
        f'sparsity.train_kernel_density={density} must be in '
        '[0, 1] (0: the defaults of sparse_training.py).')
  if kernel == 'sparse' and not any(n.startswith('R_') for n in names):
    raise errors.UserError(
        'sparsity.train_kernel=sparse multiplies by a pruned R; '
        'add R_u,R_r,R_e to sparsity.matrices or use auto.')


def check_specs(specs, hidden: int) -> None:
  """Raises ValueError (one line) on a bad target, name or block."""
  for sp in specs:
    if sp.name not in MATRICES:
      raise errors.UserError(f'{sp.name!r} is not prunable; use names of '
                             f'{sorted(MATRICES)}.')
    if not 0.0 <= sp.target < 1.0:
      raise errors.UserError(
          f'sparsity target {sp.target} of {sp.name} must be in '
          '[0, 1), e.g. 0.96.')
    out, inp = paper_shape(sp.name, hidden)
    bh, bw = sp.block
    if out % bh or inp % bw:
      raise errors.UserError(
          f'block {bh}x{bw} does not tile {sp.name} of shape '
          f'[{out}, {inp}] (outputs x inputs) at hidden={hidden}; '
          'pick a block (or hidden) that divides it.')


def schedule_from_config(config) -> Schedule:
  s = config.sparsity
  return Schedule(s.start_step, s.ramp_steps, s.update_every)


# ----------------------------------------------------------------- masks --


def block_mask(w_IxO, sparsity, block, balance_rows: bool = False,
               keep_IxO=None):
  """Keeps the blocks of largest mean |w|; the rest (a `sparsity` share) go.

  Args:
    w_IxO: a stored matrix [inputs, outputs].
    sparsity: fraction of blocks to drop (a scalar, may be traced).
    block: (BH outputs, BW inputs), the paper's orientation.
    balance_rows: drop the same number of blocks from every block-row (BH
      outputs), so each keeps the same count K (what the sparse kernel
      wants); otherwise rank all blocks of the matrix together.
    keep_IxO: the current mask; blocks it already dropped rank last and stay
      dropped.

  Returns:
    bool mask [inputs, outputs], constant on every block.
  """
  bh, bw = block
  i, o = w_IxO.shape
  scores = jnp.abs(w_IxO).reshape(i // bw, bw, o // bh, bh).mean((1, 3))
  if keep_IxO is not None:
    alive = keep_IxO.reshape(i // bw, bw, o // bh, bh).any((1, 3))
    scores = jnp.where(alive, scores, -1.0)
  flat = scores if balance_rows else scores.reshape(-1)
  n = flat.shape[0]
  # Rank 0 = largest score; ties go to the lower index (stable sort).
  order = jnp.argsort(-flat, axis=0, stable=True)
  ranks = jnp.argsort(order, axis=0, stable=True)
  n_keep = n - jnp.round(sparsity * n).astype(jnp.int32)
  keep = (ranks < n_keep).reshape(scores.shape)
  if keep_IxO is not None:
    keep &= alive
  keep = jnp.broadcast_to(keep[:, None, :, None], (i // bw, bw, o // bh, bh))
  return keep.reshape(i, o)


def grow_mask(keep_IxO, score_IxO, target: float, block) -> jnp.ndarray:
  """`keep` plus, per block-row, the dropped blocks of largest `score`,
  until the matrix keeps what `block_mask` keeps at `target` with balanced
  rows (n - round(target n) blocks of each block-row): regrowth to a lower
  sparsity (`experiments/tools/regrow.py`; scores: mean |dL/dw| per block,
  RigL's criterion).

  Raises:
    ValueError: `keep` already keeps more blocks than that in a block-row.
  """
  bh, bw = block
  i, o = keep_IxO.shape
  alive = keep_IxO.reshape(i // bw, bw, o // bh, bh).any((1, 3))  # [I', J]
  score = jnp.abs(score_IxO).reshape(i // bw, bw, o // bh, bh).mean((1, 3))
  n = alive.shape[0]
  n_keep = n - int(np.round(target * n))
  have = np.asarray(alive.sum(0))
  if (have > n_keep).any():
    raise ValueError(f'a block-row keeps {int(have.max())} blocks, more than '
                     f'the {n_keep} of sparsity {target}: regrow lowers it.')
  # Alive blocks rank first; then the dropped ones by score (ties: lower
  # index, as block_mask).
  rank_score = jnp.where(alive, jnp.inf, score)
  order = jnp.argsort(-rank_score, axis=0, stable=True)
  ranks = jnp.argsort(order, axis=0, stable=True)
  keep = ranks < n_keep
  return jnp.broadcast_to(keep[:, None, :, None],
                          (i // bw, bw, o // bh, bh)).reshape(i, o)


def _matrix(params, name):
  key, third = MATRICES[name]
  w = params['params'][key]
  if third is None:
    return w
  h = w.shape[0]
  return w[:, third * h:(third + 1) * h]


def masks_for(params, specs, sparsities, balance_rows=False, masks=None):
  """Masks {param key: bool array} for `specs` at per-spec `sparsities`."""
  parts = {}
  for sp, z in zip(specs, sparsities):
    key, third = MATRICES[sp.name]
    old = None
    if masks is not None:
      old = masks[key]
      if third is not None:
        h = old.shape[0]
        old = old[:, third * h:(third + 1) * h]
    parts.setdefault(key, {})[third] = block_mask(
        _matrix(params, sp.name), z, sp.block, balance_rows, old)
  out = {}
  for key, thirds in parts.items():
    w = params['params'][key]
    if None in thirds:
      out[key] = thirds[None]
    else:
      h = w.shape[0]
      full = [thirds.get(j, jnp.ones((h, h), bool)) if masks is None else
              thirds.get(j, masks[key][:, j * h:(j + 1) * h]) for j in range(3)]
      out[key] = jnp.concatenate(full, axis=1)
  return out


def apply_masks(params, masks):
  """Params (or grads) with every masked weight set to 0 (a new nested dict).

  On gradients it gives the gradient of the masked product h @ (R * mask):
  what the block-sparse training kernel computes (sparse_training.py), so
  the dense and sparse steps clip (by global norm) and update alike.
  """
  inner = dict(params['params'])
  for key, m in masks.items():
    inner[key] = jnp.where(m, inner[key], 0).astype(inner[key].dtype)
  return dict(params, params=inner)


# ------------------------------------------------------------- transform --


class PruneState(NamedTuple):
  count: jax.Array  # updates applied so far (the step number t - 1).
  masks: dict  # param key -> bool mask of the stored matrix.


def prune(specs, schedule: Schedule, balance_rows: bool = False
          ) -> optax.GradientTransformation:
  """Optax transform: cubic-schedule block pruning with masks in the state.

  Chain it after the optimizer, `optax.chain(optax.adam(lr), prune(...))`;
  `update` needs `params`. At step t (1-based) with t >= t0 and
  (t - t0) % N == 0 the masks are recomputed from the current weights at
  sparsity z(t); every step the update of a pruned weight w becomes -w, so
  it is exactly 0 after `optax.apply_updates`.

  Args:
    specs: the `Spec`s of the pruned matrices.
    schedule: t0, S and N.
    balance_rows: same number of kept blocks in every block-row.

  Returns:
    An optax.GradientTransformation.
  """
  specs = tuple(specs)

  def init(params):
    masks = {MATRICES[sp.name][0]: jnp.ones_like(params['params'][
        MATRICES[sp.name][0]], bool) for sp in specs}
    return PruneState(jnp.zeros((), jnp.int32), masks)

  def update(updates, state, params=None):
    if params is None:
      raise ValueError('prune needs params: call tx.update(g, s, params).')
    t = state.count + 1
    frac = schedule.fraction(t)
    due = schedule.updates_at(t)
    masks = jax.lax.cond(
        due, lambda: masks_for(params, specs, [sp.target * frac for sp in specs],
                               balance_rows, state.masks),
        lambda: state.masks)
    inner = dict(updates['params'])
    for key, m in masks.items():
      inner[key] = jnp.where(m, inner[key], -params['params'][key])
    return dict(updates, params=inner), PruneState(t, masks)

  return optax.GradientTransformation(init, update)


def find_masks(opt_state):
  """The masks of the `prune` state inside an optimizer state, or None."""
  found = [x for x in jax.tree_util.tree_leaves(
      opt_state, is_leaf=lambda x: isinstance(x, PruneState))
           if isinstance(x, PruneState)]
  return found[0].masks if found else None


def targets_at(specs, schedule: Schedule, step: int) -> dict:
  """The scheduled sparsity of each spec at `step` (at its last update)."""
  last = step if step < schedule.start else (
      schedule.start + (step - schedule.start) // schedule.every *
      schedule.every)
  return {sp.name: float(sp.target * schedule.fraction(last)) for sp in specs}


# --------------------------------------------------------------- counts --


def matrix_sparsity(params, specs) -> dict:
  """Achieved fraction of zero weights of each pruned matrix."""
  return {sp.name: float(jnp.mean(_matrix(params, sp.name) == 0))
          for sp in specs}


def nonzero_count(params) -> int:
  """Non-zero parameters of a pytree."""
  return sum(int(jnp.count_nonzero(x))
             for x in jax.tree_util.tree_leaves(params))


def cell_nonzero(hidden: int, sparsity: float,
                 matrices=('R_u', 'R_r', 'R_e')) -> int:
  """Non-zero weights of the WaveRNN cell (no conditioner) at `sparsity`.

  Args:
    hidden: H.
    sparsity: fraction of zeros in each matrix of `matrices`.
    matrices: the pruned matrices (names of `MATRICES`).

  Returns:
    R, O1..O4, I_prev, I_c and all biases, counting pruned matrices at
    density 1 - sparsity (as `block_mask` rounds, to whole weights).
  """
  h2 = hidden // 2
  total = 0
  for name in MATRICES:
    out, inp = paper_shape(name, hidden)
    size = out * inp
    total += size - round(sparsity * size) if name in matrices else size
  small = 2 * 3 * hidden + 3 * h2 + 3 * hidden + 2 * h2 + 2 * 256
  return total + small


def hidden_for_budget(nonzero: int, sparsity: float,
                      matrices=('R_u', 'R_r', 'R_e'), multiple: int = 16
                      ) -> int:
  """Largest H (a multiple of `multiple`) whose cell has <= `nonzero` weights.

  E.g. the paper's comparison at ~3M non-zero weights:
  `hidden_for_budget(cell_nonzero(896, 0.0), 0.96)`.
  """
  if not 0.0 <= sparsity < 1.0:
    raise errors.UserError(f'sparsity={sparsity} must be in [0, 1).')
  if cell_nonzero(multiple, sparsity, matrices) > nonzero:
    raise errors.UserError(
        f'a budget of {nonzero} non-zero weights is below the '
        f'smallest cell (H={multiple}).')
  lo, hi = multiple, multiple
  while cell_nonzero(hi, sparsity, matrices) <= nonzero:
    lo, hi = hi, hi * 2
  while hi - lo > multiple:  # cell_nonzero grows with H: bisect.
    mid = (lo + hi) // 2 // multiple * multiple
    if cell_nonzero(mid, sparsity, matrices) <= nonzero:
      lo = mid
    else:
      hi = mid
  return lo


# --------------------------------------------------------------- logging --


def log_metrics(specs, schedule, params, step: int) -> dict:
  """Scalars for TensorBoard / metrics.jsonl: achieved and target sparsity."""
  out = {f'sparsity/{k}': v for k, v in matrix_sparsity(params, specs).items()}
  out.update({f'sparsity_target/{k}': v
              for k, v in targets_at(specs, schedule, step).items()})
  return out


def plot_schedule(jsonl_path: str, png_path: str) -> bool:
  """Target vs achieved sparsity per matrix from metrics.jsonl; a PNG."""
  from wavernn_jax.utils import plotting  # pylint: disable=g-import-not-at-top
  if not os.path.exists(jsonl_path):
    return False
  rows = []
  with open(jsonl_path) as f:
    for line in f:
      row = json.loads(line)
      if row.get('split') == 'train' and any(k.startswith('sparsity/')
                                             for k in row):
        rows.append(row)
  if not rows:
    return False
  rows.sort(key=lambda r: r['step'])
  fig, ax = plotting.pyplot().subplots(figsize=(8, 4))
  steps = [r['step'] for r in rows]
  names = sorted(k.split('/', 1)[1] for k in rows[-1]
                 if k.startswith('sparsity/'))
  for name in names:
    line, = ax.plot(steps, [r.get(f'sparsity/{name}', math.nan)
                            for r in rows], label=f'{name} achieved')
    ax.plot(steps, [r.get(f'sparsity_target/{name}', math.nan) for r in rows],
            '--', color=line.get_color(), label=f'{name} target')
  ax.set_xlabel('step')
  ax.set_ylabel('sparsity (fraction of zero weights)')
  ax.grid(alpha=0.3)
  ax.legend(fontsize='small')
  fig.tight_layout()
  plotting.save_figure(fig, png_path)
  return True


@jax.jit(static_argnames=('specs', 'balance_rows'))
def _prune_jit(params, specs, balance_rows):
  masks = masks_for(params, specs, [sp.target for sp in specs], balance_rows)
  return apply_masks(params, masks), masks


def prune_params(params, specs, balance_rows: bool = False):
  """One-shot pruning of `params` to each spec's target; (params, masks)."""
  return _prune_jit(params, tuple(specs), balance_rows)
