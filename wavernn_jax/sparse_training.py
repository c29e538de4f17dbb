"""Block-sparse recurrent product for training (issue 13).

Pruning keeps R dense in the params: the optimizer, the `prune` transform
and the checkpoints see dense arrays, and the mask in the prune state says
which blocks live. Once R is sparse enough, the training step multiplies by
R's kept blocks only, through the same cell (`model.recur` computes
`h @ w['R']`, whatever w['R'] is):

    host, when the masks may have changed:  mask [I, O] -> `Layout` (idx, live)
    jitted step:  values = R[idx] * live   (a gather from the dense R)
                  w['R'] = TrainBlockSparse(values, idx)

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

from wavernn_jax import sparse_sampling
from wavernn_jax import sparsity

# 'auto' trains with the kernel when R's stored density (padding included)
# is at most this. Measured on a loaded 2-core machine, scan of the GRU
# recurrence at H = 864, 16x1 blocks, value and gradient: the kernel wins
# below ~0.35 at batch 8 and ~0.25 at batch 32 (dense costs the same at any
# density); remeasure with `experiments/bench_training.py --densities=...`.
DENSITY_THRESHOLD = 0.25

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


def choose(mode: str, masks, block, threshold: float = DENSITY_THRESHOLD):
  """The Layout the next training steps use, or None for the dense step.

  Args:
    mode: sparsity.train_kernel, 'auto' | 'sparse' | 'dense'.
    masks: the prune state's masks (`sparsity.find_masks`), or None.
    block: R's block (`r_block`), or None.
    threshold: 'auto' uses the kernel at or below this stored density.

  Returns:
    A host-side Layout of R's current mask, or None.
  """
  if mode == 'dense' or masks is None or 'R' not in masks or block is None:
    return None
  r = masks['R']
  if isinstance(r, jax.Array):  # Replicated: any local copy will do.
    r = r.addressable_data(0)
  lay = layout(np.asarray(r), block)
  return lay if mode == 'sparse' or lay.density <= threshold else None


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
    self._block = r_block(specs)
    self._schedule = sparsity.schedule_from_config(config) if specs else None
    self._sharding = sharding
    self._layout, self._read = None, False

  def layout(self, opt_state, step: int):
    """The Layout (on device) for step `step` (1-based), or None: dense."""
    if self._mode == 'dense':
      return None
    if not self._read or self._schedule.updates_at(step - 1):
      self._read = True
      lay = choose(self._mode, sparsity.find_masks(opt_state), self._block)
      if (lay is None) != (self._layout is None) or (
          lay is not None and lay.idx.shape != self._layout.idx.shape):
        logging.info('Step %d: R trains %s.', step, 'dense' if lay is None
                     else f'block-sparse, stored density {lay.density:.3f} '
                     f'(K = {lay.idx.shape[1] // lay.block[1]} blocks/row)')
      self._layout = lay if lay is None else jax.tree_util.tree_map(
          lambda x: jax.make_array_from_process_local_data(self._sharding, x),
          lay)
    return self._layout


def prune_frozen(config, params, opt_state, density: float):
  """R pruned one-shot to `density` (benchmarks; masks frozen by the caller).

  Args:
    config: an experiment config pruning R (its block, `train_kernel`).
    params: the model parameters.
    opt_state: its optimizer state (with a `prune` state).
    density: kept fraction of each gate of R (balanced rows).

  Returns:
    (params, opt_state, layout): R zeroed and the prune state's masks set;
    the Layout `train_kernel` chooses at that density, or None.
  """
  specs = [sp for sp in sparsity.specs_from_config(config)
           if sp.name.startswith('R_')]
  if not specs:
    raise ValueError('density needs a config with sparsity.enabled and R_u,'
                     'R_r,R_e in sparsity.matrices.')
  masks = sparsity.masks_for(params, specs, [1.0 - density] * len(specs),
                             balance_rows=True)
  is_prune = lambda x: isinstance(x, sparsity.PruneState)
  opt_state = jax.tree_util.tree_map(
      lambda x: (sparsity.PruneState(x.count, dict(x.masks, **masks))
                 if is_prune(x) else x), opt_state, is_leaf=is_prune)
  layout = choose(config.sparsity.get('train_kernel', 'auto'), masks,
                  r_block(specs))
  return sparsity.apply_masks(params, masks), opt_state, layout
