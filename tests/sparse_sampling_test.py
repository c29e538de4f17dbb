"""Block-sparse inference: the compact format and the sampler on it."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments.configs import wavernn
from wavernn_jax import vocoder as vocoder_lib
from wavernn_jax.models import sparsity
from wavernn_jax.synthesis import sampling
from wavernn_jax.synthesis import sparse_sampling


@pytest.fixture(autouse=True, scope='module')
def fast_compile():
  # Compile time dominates at these sizes.
  jax.config.update('jax_disable_most_optimizations', True)
  yield
  jax.config.update('jax_disable_most_optimizations', False)


@pytest.mark.parametrize('block', [(1, 1), (4, 4), (16, 1), (1, 16)])
def test_compress_is_exact_for_unbalanced_masks(block):
  rng = np.random.default_rng(0)
  w = rng.normal(size=(64, 96)).astype(np.float32)  # [in, out].
  w *= np.asarray(sparsity.block_mask(jnp.asarray(w), 0.8, block))
  w[:, :block[0]] = 0  # A block-row with no blocks at all (padding only).
  bs = sparse_sampling.compress(w, block)
  np.testing.assert_array_equal(bs.todense(), w)
  k = bs.cols.shape[1]
  assert k == (w.reshape(64 // block[1], block[1], 96 // block[0],
                         block[0]) != 0).any((1, 3)).sum(0).max()
  # One row (the einsum) and several (the fused product of the Subscale
  # sampler's 16 rows where BW = 1).
  for rows in (1, 3):
    x = rng.normal(size=(rows, 64)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(jnp.asarray(x) @ bs), x @ w,
                               rtol=1e-5, atol=1e-5)


def test_bfloat16_storage_rounds_only_the_values():
  rng = np.random.default_rng(0)
  w = rng.normal(size=(32, 48)).astype(np.float32)
  w *= np.asarray(sparsity.block_mask(jnp.asarray(w), 0.5, (16, 1), True))
  bs = sparse_sampling.compress(w, (16, 1), jnp.bfloat16)
  assert bs.values.dtype == jnp.bfloat16
  x = rng.normal(size=(1, 32)).astype(np.float32)
  w_bf16 = np.asarray(jnp.asarray(w, jnp.bfloat16), np.float32)
  np.testing.assert_allclose(np.asarray(jnp.asarray(x) @ bs), x @ w_bf16,
                             rtol=1e-5, atol=1e-5)


@pytest.fixture(scope='module')
def voc():
  config = wavernn.get_config('preset=tiny,hidden=64')
  v = vocoder_lib.Vocoder.from_config(config, seed=0)
  v.params = jax.tree_util.tree_map(lambda x: x * 3.0, v.params)  # peaky.
  v.prune(0.75, (16, 1), matrices=('R_u', 'R_r', 'R_e', 'O1', 'O2'))
  v.prune(0.5, (4, 4), matrices=('O3', 'O4'))
  return v


def test_sparse_sampler_equals_dense_sampler_on_same_weights(voc):
  w = voc.weights()
  sw = sparse_sampling.sampler_weights(w, voc.pruned_specs(), mode=True)
  assert all(isinstance(sw[k], sparse_sampling.BlockSparse)
             for k in ('R', 'O1', 'O2', 'O3', 'O4'))
  xin = jax.random.normal(jax.random.key(1), (2, 3, 192)) * 0.5
  key, temp = jax.random.key(2), jnp.float32(1.0)
  a_d, lp_d, (h_d, *_) = sampling.sample(w, xin, key, temp, 64)
  a_s, lp_s, (h_s, *_) = sparse_sampling.sample(sw, xin, key, temp, 64)
  np.testing.assert_array_equal(np.asarray(a_s), np.asarray(a_d))
  np.testing.assert_allclose(np.asarray(lp_s), np.asarray(lp_d), atol=1e-4)
  np.testing.assert_allclose(np.asarray(h_s), np.asarray(h_d), atol=1e-5)
  assert len(set(np.asarray(a_d).ravel().tolist())) > 20  # not degenerate.


def test_vocoder_api(voc):
  h = voc.model_config.hidden
  mats = voc.recurrent_matrices()
  r = np.asarray(voc.params['params']['R'])
  assert set(mats) == {'R_u', 'R_r', 'R_e'}
  assert all(m.shape == (h, h) for m in mats.values())
  # Rows = outputs: R_r[o, i] is the weight from h[i] to gate r's unit o,
  # and the 16x1 blocks run down columns (16 consecutive outputs).
  np.testing.assert_array_equal(mats['R_r'][5, 7], r[7, h + 5])
  blocks = mats['R_e'].reshape(h // 16, 16, h)
  assert ((blocks != 0).all(1) == (blocks != 0).any(1)).all()
  report = voc.sparsity_report()
  assert report['R_u'] == {'shape': [64, 64], 'block': [16, 1],
                           'density': 0.25}
  assert report['O4'] == {'shape': [256, 32], 'block': [4, 4],
                          'density': 0.5}
  with pytest.raises(vocoder_lib.InputError, match='tile'):
    voc.prune(0.5, (5, 1))
  with pytest.raises(vocoder_lib.InputError, match=r'\[0, 1\)'):
    voc.prune(1.2)


def _is_sparse(w) -> bool:
  return any(isinstance(v, sparse_sampling.BlockSparse) for v in w.values())


def test_generate_picks_the_kernel_by_density(voc, monkeypatch):
  w = voc.weights()
  auto = sparse_sampling.sampler_weights(w, voc.pruned_specs())
  # R is 25% dense (below the threshold); O3/O4 at 50% stay dense.
  assert isinstance(auto['R'], sparse_sampling.BlockSparse)
  assert not isinstance(auto['O3'], sparse_sampling.BlockSparse)
  dense = vocoder_lib.Vocoder.from_config(voc.config)
  assert not _is_sparse(sparse_sampling.sampler_weights(
      dense.weights(), ()))
  seen = []
  for name in ('sample', 'sample_fused'):  # XLA or the fused CPU sampler.
    real = getattr(sampling, name)
    monkeypatch.setattr(sampling, name, lambda w, *a, real=real: (
        seen.append(_is_sparse(w)), real(w, *a))[1])
  mel = voc.mel(np.zeros((4 * voc.hop_length,), np.float32))
  a_auto, _ = voc.generate(mel, seed=3)
  voc.sparse_kernel = False
  try:
    a_dense, _ = voc.generate(mel, seed=3)
  finally:
    voc.sparse_kernel = None
  assert seen == [True, False]
  np.testing.assert_array_equal(a_auto, a_dense)
