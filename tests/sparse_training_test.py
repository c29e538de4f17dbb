"""Block-sparse training: same loss, gradients and training as masked dense."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments.configs import wavernn
from tests.tiny_training import config as tiny_config
from wavernn_jax import vocoder as vocoder_lib
from wavernn_jax.models import sparse_training
from wavernn_jax.models import sparsity
from wavernn_jax.training import checkpoint
from wavernn_jax.training import config_checks
from wavernn_jax.training import input_pipeline
from wavernn_jax.training import train


@pytest.fixture
def fast_compile():
  jax.config.update('jax_disable_most_optimizations', True)
  yield
  jax.config.update('jax_disable_most_optimizations', False)


def _mask(w_IxO, block, density, balance, seed=0):
  """A block mask of `w_IxO`, ranked on noise (not on w) at `density`."""
  noise = np.random.default_rng(seed).normal(size=w_IxO.shape)
  return np.asarray(sparsity.block_mask(jnp.asarray(noise), 1 - density,
                                        block, balance))


@pytest.mark.parametrize('block', [(16, 1), (4, 4), (1, 16)])
@pytest.mark.parametrize('balance', [True, False])
def test_layout_gathers_exactly_the_masked_matrix(block, balance):
  w = np.random.default_rng(1).normal(size=(64, 192)).astype(np.float32)
  mask = _mask(w, block, 0.3, balance)
  lay = sparse_training.layout(mask, block)
  if not balance:  # Padding (dead blocks, live = 0) is exercised.
    assert (lay.live == 0).any()
  m = lay.gather(jnp.asarray(w))
  np.testing.assert_array_equal(m.todense(), w * mask)
  x_BxI = jnp.asarray(np.random.default_rng(2).normal(size=(3, 64)),
                      jnp.float32)
  np.testing.assert_allclose(x_BxI @ m, x_BxI @ (w * mask), rtol=1e-5,
                             atol=1e-5)
  # The stored density counts the padding: at least the true one, and the
  # bucket adds at most 25% (or runs into the full row).
  kept = (lay.live.sum(1).max()) / lay.live.shape[1]
  assert mask.mean() <= lay.density
  assert kept > 0.75 or lay.density == 1.0


def _loss_and_grads(config, params, window, layouts, masks):
  net = vocoder_lib.make_net(config)
  mel_cfg = vocoder_lib.mel_config(config)
  ctx = input_pipeline.context_frames(config)

  def loss(params):
    if layouts is None:  # The reference: h @ (R * mask), y @ (O1 * mask) ...
      inner = dict(params['params'])
      for key, mask in masks.items():
        inner[key] = inner[key] * mask
      params = dict(params, params=inner)
    return train.window_nll(net, mel_cfg, ctx, params, window, layouts)[0]
  return jax.jit(jax.value_and_grad(loss))(params)


@pytest.mark.parametrize('variant, block, balance, keys', [
    ('sparse', (16, 1), False, ('R',)), ('sparse', (4, 4), True, ('R',)),
    ('subscale', (16, 1), False, ('R',)),
    ('sparse', (16, 1), False, ('R', 'O1', 'O2', 'O3', 'O4')),
    ('sparse', (4, 4), True, ('O1', 'O2', 'O3', 'O4')),
    ('subscale', (16, 1), True, ('R', 'O1', 'O2', 'O3', 'O4'))])
def test_loss_and_grads_equal_the_masked_dense_model(variant, block, balance,
                                                     keys, fast_compile):
  del fast_compile
  config = wavernn.get_config(f'variant={variant},preset=tiny,hidden=64,'
                              f'block={block[0]}x{block[1]},sparsity=0.5')
  config.data.batch_size = 2
  params = vocoder_lib.init_params(config, jax.random.key(0))
  masks, layouts = {}, {}
  for i, key in enumerate(keys):
    w = np.asarray(params['params'][key])
    assert (w != 0).all()  # Pruned positions are not 0: the mask must act.
    masks[key] = _mask(w, block, 0.25, balance, seed=i)
    layouts[key] = sparse_training.layout(masks[key], block)
    assert layouts[key].density < 1.0
  window = np.random.default_rng(3).integers(
      -3000, 3000, (2, input_pipeline.window_samples(config)), np.int16)
  loss, grads = _loss_and_grads(config, params, window, layouts, None)
  ref_loss, ref_grads = _loss_and_grads(config, params, window, None, masks)
  np.testing.assert_allclose(loss, ref_loss, rtol=1e-5)
  for key, mask in masks.items():
    g = grads['params'][key]
    assert (g[~mask] == 0).all()
    assert (ref_grads['params'][key][~mask] == 0).all()
    assert np.abs(g).max() > 0
  for got, want in zip(jax.tree_util.tree_leaves(grads),
                       jax.tree_util.tree_leaves(ref_grads)):
    np.testing.assert_allclose(got, want, rtol=1e-5,
                               atol=1e-6 * np.abs(want).max())


def test_auto_chooses_each_matrix_by_its_own_density():
  rng = np.random.default_rng(5)
  masks = {'R': _mask(rng.normal(size=(64, 192)), (16, 1), 0.1, True),
           'O1': _mask(rng.normal(size=(32, 32)), (16, 1), 1.0, True),
           'O2': _mask(rng.normal(size=(32, 256)), (16, 1), 0.1, True)}
  blocks = {k: (16, 1) for k in ('R', 'O1', 'O2', 'O3', 'O4')}
  got = sparse_training.choose('auto', masks, blocks)
  assert sorted(got) == ['O2', 'R']  # O1 is dense; O3, O4 have no mask.
  assert sorted(sparse_training.choose('sparse', masks, blocks)) == [
      'O1', 'O2', 'R']
  assert sparse_training.choose('dense', masks, blocks) is None
  dense = {'O1': masks['O1']}
  assert sparse_training.choose('auto', dense, blocks) is None


def test_buckets_bound_the_compiles_over_a_schedule():
  assert [sparse_training.bucket(k, 100) for k in (1, 4, 8, 9, 17, 33, 99)] \
      == [1, 4, 8, 10, 20, 40, 100]
  for k in range(1, 2000):  # Never below K; at most 25% padding.
    b = sparse_training.bucket(k, 10**6)
    assert k <= b < 1.25 * k + 1
  # R of H = 512, 16x1 blocks (C = 512 per row), pruned to 96% on the cubic
  # schedule with a mask update every step: 141 distinct K, a few buckets.
  w = jnp.asarray(np.random.default_rng(4).normal(size=(512, 1536)))
  schedule = sparsity.Schedule(start=0, ramp=200, every=1)
  mask, ks, shapes = None, set(), set()
  for t in range(0, 201, 1):
    mask = sparsity.block_mask(w, 0.96 * float(schedule.fraction(t)), (16, 1),
                               True, mask)
    lay = sparse_training.layout(np.asarray(mask), (16, 1))
    ks.add(int(np.asarray(mask).reshape(512, 96, 16)[:, 0, 0].sum()))
    shapes.add(lay.idx.shape)
  assert len(ks) > 100
  # 512 -> 21 kept blocks: log2(512 / 21) = 4.6 halvings, 4 buckets each.
  assert len(shapes) <= 4 * 5 + 1


def test_bad_train_kernel_is_one_line():
  c = wavernn.get_config('variant=sparse,preset=tiny')
  c.sparsity.train_kernel = 'fast'
  with pytest.raises(config_checks.ConfigError, match='train_kernel'):
    config_checks.validate(c)
  c.sparsity.update(train_kernel='sparse', matrices='O1,O2')
  with pytest.raises(config_checks.ConfigError, match='R_u,R_r,R_e'):
    config_checks.validate(c)


def _config(corpus, kernel, matrices='R_u,R_r,R_e'):
  c = tiny_config(corpus, steps=4, ckpt_every=2, eval_every=4,
                  grad_clip=1e-3)  # Clipping active: masked grads matter.
  c.variant = 'sparse'
  c.sparsity.update(enabled=True, target=0.75, start_step=1, ramp_steps=2,
                    update_every=2, train_kernel=kernel, matrices=matrices)
  return c


@pytest.mark.parametrize('matrices', ['R_u,R_r,R_e',
                                      'R_u,R_r,R_e,O1,O2,O3,O4'])
def test_training_with_the_kernel_matches_dense(corpus, tmp_path,
                                                monkeypatch, fast_compile,
                                                matrices):
  del fast_compile
  gathers = []
  real = sparse_training.Layout.gather
  monkeypatch.setattr(sparse_training.Layout, 'gather',
                      lambda self, *a: gathers.append(self.idx.shape) or
                      real(self, *a))
  runs = {}
  for kernel in ('dense', 'sparse'):
    workdir = str(tmp_path / kernel)
    train.train_and_evaluate(_config(corpus, kernel, matrices), workdir)
    with open(os.path.join(workdir, 'metrics.jsonl')) as f:
      rows = [json.loads(l) for l in f if '"train"' in l]
    runs[kernel] = (rows, checkpoint.Checkpointer(workdir).restore_params(4))
  (dense_rows, dense), (sparse_rows, sparse) = runs['dense'], runs['sparse']
  assert dense_rows[-1]['sparsity/R_u'] == 0.75
  if matrices == 'R_u,R_r,R_e':
    # Traced once per K: all 32 blocks per row, then 8 after the update at 3.
    assert set(gathers) == {(6, 32), (6, 8)}
  else:  # The heads too: O1 / O3 [16, 16] and O2 / O4 [16, 256], 16x1.
    assert {(1, 16), (1, 4), (16, 16), (16, 4)} <= set(gathers)
    assert dense_rows[-1]['sparsity/O2'] == 0.75
  for key in ('R', 'O1', 'O2', 'O3', 'O4'):  # The path each step took.
    want = 1.0 if key == 'R' or 'O1' in matrices else None
    assert dense_rows[-1].get(f'train_density/{key}') == want
    if want:
      assert sparse_rows[-1][f'train_density/{key}'] <= 0.25 + 1e-6
  for key in ('loss', 'grad_norm'):
    np.testing.assert_allclose([r[key] for r in sparse_rows],
                               [r[key] for r in dense_rows], rtol=1e-5)
  for got, want in zip(jax.tree_util.tree_leaves(sparse),
                       jax.tree_util.tree_leaves(dense)):
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
