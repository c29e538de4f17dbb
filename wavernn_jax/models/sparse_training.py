"""Block-sparse products for training: R (issue 13) and O1..O4 (issue 23).

Pruning keeps every matrix dense in the params: the optimizer, the `prune`
transform and the checkpoints see dense arrays, and the masks in the prune
state say which blocks live. Once a pruned matrix is sparse enough, the
training step multiplies by its kept blocks only, through the same cell
(`model.recur` computes `h @ w['R']`, `model.head` `y @ w['O1']` ...,
whatever those are):

    host, when the masks may have changed:
        mask [I, O] of each pruned matrix -> `Layout` (idx, live)
    jitted step:  values = W[idx] * live   (a gather from the dense W)
                  w[name] = TrainBlockSparse(values, idx)

A step's cost then follows all of its non-zeros: R's in the recurrence, the
heads' in the per-frame products over the P new states.

The step then computes the masked product h @ (R * mask) and its gradient:
the gather's transpose adds the gradient into the dense R at the kept
positions only, once per step, outside the time loop. The dense step masks
its gradients the same way (`sparsity.apply_masks` on the grads), so
switching from one step to the other mid-run changes only the speed.

Notation (the stored orientation, as everywhere): I = H inputs, O = 3H
outputs of R, blocks (BH outputs, BW inputs), J = O / BH block-rows,
C = I / BW blocks per block-row, K kept blocks per block-row (the most of
any row, padded with dead blocks, rounded up to a bucket), M = K * BW.
"""

import dataclasses
import functools
from typing import Any

from absl import logging
import jax
import jax.numpy as jnp
import numpy as np

from wavernn_jax.models import sparsity
from wavernn_jax.synthesis import sparse_sampling

# 'auto' trains with the kernel when R's stored density (padding included)
# is at most this. Measured on a loaded 2-core machine, scan of the GRU
# recurrence at H = 864, 16x1 blocks, value and gradient: the kernel wins
# below ~0.35 at batch 8 and ~0.25 at batch 32 (dense costs the same at any
# density); remeasure with `experiments/tools/bench_training.py --densities=...`.
DENSITY_THRESHOLD = 0.25
# The same for O1..O4, whose products run on all P states of a frame at
# once (B * P rows), where the dense product uses the core better than R's
# [B, H] one does (bench_training.py --mode=sparse --heads).
HEAD_DENSITY_THRESHOLD = 0.25
SPARSE_KEYS = ('R', 'O1', 'O2', 'O3', 'O4')

# K is rounded up to q * 2^e with q in [4, 8): at most 25% padding, and
# about 4 distinct shapes (jit compiles) per halving of the density.
_BUCKET_MANTISSA = 4


def bucket(k: int, blocks: int) -> int:
  """K rounded up to the next q * 2^e (4 <= q < 8), at most `blocks` (C)."""
  k = max(int(k), 1)
  e = max(k.bit_length() - _BUCKET_MANTISSA.bit_length(), 0)
  return min(-(-k // 2**e) * 2**e, blocks)


@functools.partial(jax.checkpoint, static_argnums=(3,))
def _product(x_BxI, values, idx_JxM, bw: int):
  """x @ the block-sparse matrix: [B, J * BH].

  Gathers x's columns as [J, M, B] rows (B contiguous floats each) and runs
  one batched dot over the J block-rows, [J, B, BH] out: forward alone at
  batch 8, H = 864, 1.25x (density 0.1) to 1.5x (0.5) faster than the
  sampler's [B, J, M] gather or a [B, J, BH] output. `jax.checkpoint`: the backward
  pass gathers again instead of keeping a [J, M, B] residual per time step
  (1.2-1.3x faster, and memory stays at the dense model's level).
  """
  spec = 'jmb,jmh->jbh' if bw == 1 else 'jmb,jhm->jbh'
  x_IxB = x_BxI.T
  if values.dtype != jnp.float32:  # bfloat16 products, float32 sums.
    x_IxB = x_IxB.astype(values.dtype)
  out_JxBxBH = jnp.einsum(spec, x_IxB[idx_JxM], values,
                          preferred_element_type=jnp.float32)
  return jnp.swapaxes(out_JxBxBH, 0, 1).reshape(x_BxI.shape[0], -1)


@jax.tree_util.register_pytree_node_class
class TrainBlockSparse(sparse_sampling.BlockSparse):
  """`BlockSparse` (same layout) with a product shaped for training.

  `x @ m` runs `_product`: batched, rematerialised in the backward pass.
  """

  def __rmatmul__(self, x_BxI):
    lead = x_BxI.shape[:-1]
    out = _product(x_BxI.reshape(-1, self.shape[0]), self.values, self.idx,
                   self.block[1])
    return out.reshape(lead + (self.shape[1],))


@jax.tree_util.register_pytree_node_class
@dataclasses.dataclass(frozen=True)
class Layout:
  """Where R's kept blocks are: the part of a `TrainBlockSparse` that the
  host computes from the mask. A pytree: idx and live are jit arguments
  (new masks, same bucket: no recompile); shape and block are static.
  """
  idx: Any  # [J, M] int32, input index of every kept weight column.
  live: Any  # [J, M] float32, 0 on the padding (dead blocks).
  shape: tuple[int, int]  # (I, O), the stored matrix.
  block: tuple[int, int]  # (BH, BW), the paper's orientation.

  def tree_flatten(self):
    return (self.idx, self.live), (self.shape, self.block)

  @classmethod
  def tree_unflatten(cls, aux, children):
    return cls(*children, *aux)

  @property
  def density(self) -> float:
    """Stored fraction of the matrix (padding included): what the step
    costs follows."""
    return self.idx.size * self.block[0] / (self.shape[0] * self.shape[1])

  def gather(self, w_IxO, dtype=jnp.float32) -> TrainBlockSparse:
    """The kept blocks of the dense `w_IxO` (traced) as a TrainBlockSparse.

    Exactly the masked matrix: padding blocks are multiplied by 0, so the
    product and its gradient do not depend on w outside the mask.
    """
    bh, bw = self.block
    j = self.idx.shape[0]
    cols_JxBH = jnp.arange(j)[:, None] * bh + jnp.arange(bh)
    if bw == 1:  # [J, M, BH].
      vals = w_IxO[self.idx[:, :, None], cols_JxBH[:, None, :]]
      vals = vals * self.live[:, :, None]
    else:  # [J, BH, M].
      vals = w_IxO[self.idx[:, None, :], cols_JxBH[:, :, None]]
      vals = vals * self.live[:, None, :]
    return TrainBlockSparse(vals.astype(dtype), self.idx, self.shape,
                            self.block)


def layout(mask_IxO, block) -> Layout:
  """The `Layout` of a block mask (host side, NumPy).

  Args:
    mask_IxO: bool mask of the stored matrix, constant on blocks.
    block: (BH outputs, BW inputs).

  Returns:
    A Layout with K = `bucket`(the most live blocks of any block-row); each
    row lists its live blocks in input order, then dead ones (live = 0).
  """
  mask = np.asarray(mask_IxO, bool)
  i, o = mask.shape
  bh, bw = block
  alive_JxC = mask.reshape(i // bw, bw, o // bh, bh).any((1, 3)).T
  k = bucket(alive_JxC.sum(1).max(), alive_JxC.shape[1])
  cols_JxK = np.argsort(~alive_JxC, axis=1, kind='stable')[:, :k]
  live_JxK = np.take_along_axis(alive_JxC, cols_JxK, 1)
  idx = (cols_JxK[:, :, None] * bw + np.arange(bw)).reshape(len(cols_JxK), -1)
  live = np.repeat(live_JxK, bw, axis=1).astype(np.float32)
  return Layout(idx.astype(np.int32), live, (i, o), (bh, bw))


def r_block(specs):
  """The block of R's gates (they share one), or None when R is unpruned."""
  blocks = {tuple(sp.block) for sp in specs if sp.name.startswith('R_')}
  if len(blocks) > 1:
    raise ValueError(f'R_u, R_r, R_e have different blocks {sorted(blocks)}; '
                     'the training kernel needs one.')
  return blocks.pop() if blocks else None


def blocks_of(specs) -> dict:
  """{parameter key: block} of the pruned matrices (R's gates share one)."""
  out = {}
  r = r_block(specs)
  if r is not None:
    out['R'] = r
  for sp in specs:
    if not sp.name.startswith('R_'):
      out[sparsity.MATRICES[sp.name][0]] = tuple(sp.block)
  return out


def _threshold(key: str, threshold) -> float:
  if threshold is not None:
    return threshold
  return DENSITY_THRESHOLD if key == 'R' else HEAD_DENSITY_THRESHOLD


def choose(mode: str, masks, blocks, threshold: float | None = None):
  """The Layouts the next training steps use, or None for the dense step.

  Args:
    mode: sparsity.train_kernel, 'auto' | 'sparse' | 'dense'.
    masks: the prune state's masks (`sparsity.find_masks`), or None.
    blocks: {parameter key: block} of the pruned matrices (`blocks_of`).
    threshold: 'auto' uses the kernel for a matrix at or below this stored
      density (None: DENSITY_THRESHOLD for R, HEAD_DENSITY_THRESHOLD for
      O1..O4).

  Returns:
    {parameter key: host-side Layout} of the matrices that train
    block-sparse (at least one), or None.
  """
  if mode == 'dense' or masks is None:
    return None
  out = {}
  for key, block in blocks.items():
    if key not in masks:
      continue
    m = masks[key]
    if isinstance(m, jax.Array):  # Replicated: any local copy will do.
      m = m.addressable_data(0)
    lay = layout(np.asarray(m), block)
    if mode == 'sparse' or lay.density <= _threshold(key, threshold):
      out[key] = lay
  return out or None


def gather_all(layouts, params, dtype=jnp.float32) -> dict:
  """{key: TrainBlockSparse} of the dense params' kept blocks (traced)."""
  return {key: lay.gather(params['params'][key], dtype)
          for key, lay in layouts.items()}


def describe(layouts) -> str:
  """One line of which matrices train block-sparse, and how dense."""
  if not layouts:
    return 'dense'
  return 'block-sparse ' + ', '.join(
      f'{k} {lay.density:.3f} (K = {lay.idx.shape[1] // lay.block[1]})'
      for k, lay in sorted(layouts.items()))


def _shapes(layouts):
  return None if layouts is None else {k: v.idx.shape
                                       for k, v in layouts.items()}


class StepChoice:
  """Which step trains R, per step: dense, or block-sparse with the masks.

  Decided on the host from the prune state's masks, read (one device
  transfer) only when they can have changed: before the first step of a
  run or resume, and after each step that updates them.
  """

  def __init__(self, config, sharding):
    """Args: an experiment config; the (replicated) sharding of layouts."""
    specs = sparsity.specs_from_config(config)
    self._mode = config.sparsity.get('train_kernel', 'auto') if specs else (
        'dense')
    self._blocks = blocks_of(specs)
    self._threshold = config.sparsity.get('train_kernel_density', 0.0) or None
    self._schedule = sparsity.schedule_from_config(config) if specs else None
    self._sharding = sharding
    self._layout, self._read = None, False
    self.description = 'dense'  # Of the current layouts (progress lines).

  def layout(self, opt_state, step: int):
    """{key: Layout} (on device) for step `step` (1-based), or None: dense."""
    if self._mode == 'dense':
      return None
    if not self._read or self._schedule.updates_at(step - 1):
      self._read = True
      lay = choose(self._mode, sparsity.find_masks(opt_state), self._blocks,
                   self._threshold)
      if _shapes(lay) != _shapes(self._layout):
        self.description = describe(lay)
        logging.info('Step %d: the cell trains %s.', step, self.description)
      self._layout = lay if lay is None else jax.tree_util.tree_map(
          lambda x: jax.make_array_from_process_local_data(self._sharding, x),
          lay)
    return self._layout

  def densities(self) -> dict:
    """{key: stored density the step multiplies by} of the pruned matrices
    (1.0 where the product is dense): what a step's cost follows."""
    lay = self._layout or {}
    return {k: float(lay[k].density) if k in lay else 1.0
            for k in self._blocks}


def prune_frozen(config, params, opt_state, density: float):
  """The pruned matrices cut one-shot to `density` (benchmarks; masks frozen
  by the caller).

  Args:
    config: an experiment config pruning R (its block, `train_kernel`) and
      possibly O1..O4 (sparsity.matrices).
    params: the model parameters.
    opt_state: its optimizer state (with a `prune` state).
    density: kept fraction of each pruned matrix (balanced rows).

  Returns:
    (params, opt_state, layouts): the pruned weights zeroed and the prune
    state's masks set; the Layouts `train_kernel` chooses at that density,
    or None.
  """
  specs = list(sparsity.specs_from_config(config))
  if not any(sp.name.startswith('R_') for sp in specs):
    raise ValueError('density needs a config with sparsity.enabled and R_u,'
                     'R_r,R_e in sparsity.matrices.')
  masks = sparsity.masks_for(params, specs, [1.0 - density] * len(specs),
                             balance_rows=True)
  is_prune = lambda x: isinstance(x, sparsity.PruneState)
  opt_state = jax.tree_util.tree_map(
      lambda x: (sparsity.PruneState(x.count, dict(x.masks, **masks))
                 if is_prune(x) else x), opt_state, is_leaf=is_prune)
  layouts = choose(config.sparsity.get('train_kernel', 'auto'), masks,
                   blocks_of(specs))
  return sparsity.apply_masks(params, masks), opt_state, layouts
