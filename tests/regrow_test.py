"""sparsity.grow_mask (experiments/tools/regrow.py): a pruned matrix grown to
a lower sparsity."""

import jax.numpy as jnp
import numpy as np
import pytest

from wavernn_jax.models import sparsity


def test_grow_keeps_every_live_block_and_adds_the_largest_gradients():
  # [I=8, O=4] in (BH=2, BW=1) blocks: 8 input blocks x 2 block-rows.
  keep = np.zeros((8, 4), bool)
  keep[[1, 6], 0:2] = True  # Block-row 0 keeps inputs 1 and 6.
  keep[[0, 3], 2:4] = True  # Block-row 1 keeps inputs 0 and 3.
  score = np.zeros((8, 4), np.float32)
  score[:, 0:2] = np.array([9, 0, 1, 5, 2, 0, 7, 3])[:, None]
  score[:, 2:4] = np.array([0, 4, 8, 0, 8, 1, 2, 6])[:, None]
  score[5, 3] = 100.0  # A block's mean |g|: (1 + 100) / 2 = 50.5.
  grown = np.asarray(sparsity.grow_mask(jnp.asarray(keep), jnp.asarray(score),
                                      0.5, (2, 1)))  # 4 of 8 per block-row.
  want = np.zeros((8, 4), bool)
  want[[1, 6, 0, 3], 0:2] = True  # Live 1, 6; then scores 9 (0), 5 (3).
  want[[0, 3, 5, 2], 2:4] = True  # Live 0, 3; then 50.5 (5), 8 (2 < 4).
  np.testing.assert_array_equal(grown, want)
  # What block_mask keeps at that sparsity from the grown mask: all of it.
  w = np.where(grown, 1.0, 0.0).astype(np.float32)
  again = sparsity.block_mask(jnp.asarray(w), 0.5, (2, 1), True,
                              jnp.asarray(grown))
  np.testing.assert_array_equal(np.asarray(again), grown)


def test_grow_refuses_a_higher_sparsity():
  keep = np.ones((8, 4), bool)
  with pytest.raises(ValueError, match='regrow lowers it'):
    sparsity.grow_mask(jnp.asarray(keep), jnp.zeros((8, 4)), 0.5, (2, 1))
