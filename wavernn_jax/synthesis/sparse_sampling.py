"""Block-sparse weights for the sampler (PAPER.md §2, inference).

A pruned matrix, stored [I inputs, O outputs] like every weight here, is
compressed block-row by block-row: block-row j is the paper's BH consecutive
outputs (our columns j*BH ... j*BH+BH-1); it keeps K blocks of BW inputs
each (K = the largest count of non-zero blocks over the block-rows; shorter
rows are padded with zero blocks, so a balanced pruning wastes nothing):

    idx     [J, M] int32     J = O / BH, M = K * BW: input index of every
                             kept weight column (K blocks of BW consecutive
                             inputs; `cols` [J, K] = idx[:, ::BW] // BW)
    values  [J, BH, M]       (or [J, M, BH] when BW = 1) float32 or bf16

`x @ BlockSparse` (through `__rmatmul__`) gathers x[idx] ([B, J, M], one
gather of scalars) and contracts it with `values` per block-row (one batched
dot). Gathering single elements with precomputed indices and contracting
over the minor axis is what XLA-CPU runs fast (a 4x4 block gather with a
[J, K, 4, 4] contraction was 6x slower; docs/RESULTS.md). Because the sampler's cell (`model.recur`, `model.head`) only
ever computes `x @ w[name]`, the dense sampler `sampling.sample` runs
unchanged on a weights dict whose R / O1..O4 are `BlockSparse`: the same
cell math, the same draws; only the mat-vecs touch fewer weights.
"""

import jax
import jax.numpy as jnp
import numpy as np

from wavernn_jax.synthesis import sampling

# Matrices the sampler may run block-sparse.
SPARSE_CAPABLE = ('R', 'O1', 'O2', 'O3', 'O4')

# At or below this density (non-zero fraction of the stored matrix) the
# block-sparse mat-vec beats the dense one: for R at H = 896 (16x1) the two
# cross near density 0.45 (`python -m experiments.tools.profile_sparse_step`,
# docs/RESULTS.md "Sparse WaveRNN"); 0.4 leaves a margin.
DENSITY_THRESHOLD = 0.4

# How `BlockSparse` multiplies more than one row with BW = 1 blocks:
# 'multiply_sum' (one fused loop) or 'einsum' (J small batched matmuls; the
# reference row of experiments/tools/bench_sampling.py). One row always
# takes the einsum.
ROWS_PRODUCT = 'multiply_sum'


@jax.tree_util.register_pytree_node_class
class BlockSparse:
  """A [I, O] matrix as K blocks of BW x BH per block-row of BH outputs.

  Stored for the kernel: `idx` [J, M] the input index of each kept weight
  column (M = K * BW; block k covers idx[:, k*BW:(k+1)*BW], consecutive
  inputs), and `values` [J, BH, M] (output-major, so the contraction runs
  over the minor axis) or, for BW = 1, [J, M, BH] (XLA-CPU is fastest with
  these; docs/RESULTS.md).
  """

  def __init__(self, values, idx_JxM, shape, block):
    self.values = values
    self.idx = idx_JxM
    self.shape = tuple(int(s) for s in shape)  # (I, O), stored orientation.
    self.block = tuple(int(b) for b in block)  # (BH, BW), paper orientation.

  def tree_flatten(self):
    return (self.values, self.idx), (self.shape, self.block)

  @classmethod
  def tree_unflatten(cls, aux, children):
    return cls(*children, *aux)

  @property
  def dtype(self):
    """The compute dtype (values may be stored in bfloat16)."""
    return jnp.float32

  @property
  def cols(self):
    """[J, K] input-block index of each kept block."""
    return self.idx[:, ::self.block[1]] // self.block[1]

  @property
  def density(self) -> float:
    """Stored (kept) fraction of the matrix, padding included."""
    return self.idx.size * self.block[0] / (self.shape[0] * self.shape[1])

  def __rmatmul__(self, x_BxI):
    lead = x_BxI.shape[:-1]
    x_BxI = x_BxI.reshape(-1, self.shape[0])
    g_BxJxM = x_BxI[:, self.idx]  # One gather of all kept inputs.
    vals = self.values.astype(x_BxI.dtype)
    if (self.block[1] == 1 and x_BxI.shape[0] > 1 and
        ROWS_PRODUCT == 'multiply_sum'):
      # Rows > 1 (the Subscale sampler's 16): one fused multiply-and-sum.
      # The einsum becomes J tiny batched matmuls there, 1.2-1.5x slower
      # over the whole Subscale step (docs/RESULTS.md, "Sampling speed").
      out = (g_BxJxM[..., None] * vals[None]).sum(2)
    else:
      spec = 'bjm,jmh->bjh' if self.block[1] == 1 else 'bjm,jhm->bjh'
      out = jnp.einsum(spec, g_BxJxM, vals)
    return out.reshape(lead + (self.shape[1],))

  def todense(self) -> np.ndarray:
    """The dense [I, O] float32 matrix (tests, reports)."""
    i, o = self.shape
    bh = self.block[0]
    vals = np.asarray(self.values, np.float32)
    if self.block[1] != 1:
      vals = vals.swapaxes(1, 2)  # -> [J, M, BH].
    idx = np.asarray(self.idx)
    out = np.zeros((i, o // bh, bh), np.float32)
    for j in range(idx.shape[0]):
      np.add.at(out[:, j], idx[j], vals[j])
    return out.reshape(i, o)


def compress(w_IxO, block, dtype=np.float32) -> BlockSparse:
  """The block-sparse form of a (pruned) matrix; exact for any zero pattern.

  Args:
    w_IxO: stored matrix [inputs, outputs].
    block: (BH outputs, BW inputs); blocks with any non-zero are kept.
    dtype: storage dtype of the values (float32 or jnp.bfloat16).

  Returns:
    A `BlockSparse` with K = the most non-zero blocks of any block-row
    (shorter rows padded with zero blocks).
  """
  w = np.asarray(w_IxO, np.float32)
  i, o = w.shape
  bh, bw = block
  if i % bw or o % bh:
    raise ValueError(f'block {bh}x{bw} does not tile a [{o}, {i}] matrix '
                     '(outputs x inputs).')
  blocks_JxCxBWxBH = w.reshape(i // bw, bw, o // bh, bh).transpose(2, 0, 1, 3)
  alive_JxC = np.any(blocks_JxCxBWxBH != 0, axis=(2, 3))
  k = max(int(alive_JxC.sum(1).max()), 1)
  # Alive blocks first, each row in input order; padding takes dead ones.
  cols_JxK = np.argsort(~alive_JxC, axis=1, kind='stable')[:, :k]
  vals = np.take_along_axis(blocks_JxCxBWxBH, cols_JxK[:, :, None, None],
                            axis=1)
  vals *= np.take_along_axis(alive_JxC, cols_JxK, 1)[:, :, None, None]
  j = o // bh
  vals_JxMxBH = vals.reshape(j, k * bw, bh)
  if bw != 1:
    vals_JxMxBH = vals_JxMxBH.swapaxes(1, 2)  # -> [J, BH, M].
  idx = (cols_JxK[:, :, None] * bw + np.arange(bw)).reshape(j, k * bw)
  return BlockSparse(jnp.asarray(vals_JxMxBH, dtype),
                     jnp.asarray(idx, jnp.int32), (i, o), (bh, bw))


def sparse_weights(w, blocks: dict, threshold: float = DENSITY_THRESHOLD,
                   dtype=np.float32):
  """The cell weights with every sparse-enough matrix made `BlockSparse`.

  Args:
    w: the dense cell weights (`model.WaveRNN.weights()`).
    blocks: {param key: (BH, BW)} for the matrices that may be compressed
      ('R', 'O1'..'O4').
    threshold: compress a matrix only if its density is at most this
      (above it the dense mat-vec is faster).
    dtype: storage dtype of the compressed values.

  Returns:
    A new weights dict for `sampling.sample` / `sample`.
  """
  out = dict(w)
  for key, block in blocks.items():
    m = np.asarray(w[key])
    if np.mean(m != 0) <= threshold:
      out[key] = compress(m, block, dtype)
  return out


def sampler_weights(w, specs, mode=None, dtype=np.float32):
  """The weights `generate` samples with: dense, or block-sparse where it pays.

  Args:
    w: the dense cell weights.
    specs: `sparsity.Spec`s of the pruned matrices (their blocks); R uses
      the block of its gates; without specs R is tried with 16x1 blocks.
    mode: None = automatic (compress a matrix when its density is at most
      `DENSITY_THRESHOLD`), True = always compress, False = never.
    dtype: storage dtype of compressed values.

  Returns:
    A weights dict for `sampling.sample`.
  """
  if mode is False:
    return w
  blocks = {'R': (16, 1)}
  for sp in specs:
    key = 'R' if sp.name.startswith('R_') else sp.name
    blocks[key] = tuple(sp.block)
  if w['R'].shape[0] % blocks['R'][1] or w['R'].shape[1] % blocks['R'][0]:
    del blocks['R']
  threshold = 1.0 if mode else DENSITY_THRESHOLD
  return sparse_weights(jax.device_get(w), blocks, threshold, dtype)


def sample(w, xin_BxFxG, key, temperature, hop: int, carry=None,
           first_frame=0):
  """`sampling.sample` on weights from `sparse_weights` (same signature)."""
  return sampling.sample(w, xin_BxFxG, key, temperature, hop, carry,
                         first_frame)
