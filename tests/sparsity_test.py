"""Block pruning: schedule, mask structure, the Optax transform, training."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from experiments.configs import wavernn
from wavernn_jax import vocoder as vocoder_lib
from wavernn_jax.models import model as model_lib
from wavernn_jax.models import sparsity
from wavernn_jax.training import checkpoint
from wavernn_jax.training import config_checks
from wavernn_jax.training import train


def test_schedule_at_hand_computed_points():
  s = sparsity.Schedule(start=1000, ramp=200_000, every=500)
  z = 0.96
  assert float(z * s.fraction(0)) == 0.0
  assert float(z * s.fraction(1000)) == 0.0  # t0.
  assert float(z * s.fraction(101_000)) == pytest.approx(0.96 * 0.875)
  assert float(z * s.fraction(201_000)) == pytest.approx(0.96)  # t0 + S.
  assert float(z * s.fraction(900_000)) == pytest.approx(0.96)
  # Logged targets hold the value of the last mask update.
  spec = sparsity.Spec('R_u', z)
  assert sparsity.targets_at([spec], s, 101_499)['R_u'] == pytest.approx(
      0.96 * 0.875)


def test_block_mask_hand_computed_16x1_paper_orientation():
  # Stored [in=2, out=32]; 16x1 = 16 consecutive outputs of one input, i.e.
  # one stored row x 16 columns. Block means: row 0: 1, 3; row 1: 2, 4.
  w = np.zeros((2, 32), np.float32)
  w[0, :16], w[0, 16:], w[1, :16], w[1, 16:] = 1, -3, 2, 4
  mask = np.asarray(sparsity.block_mask(jnp.asarray(w), 0.5, (16, 1)))
  expected = np.zeros((2, 32), bool)
  expected[0, 16:] = expected[1, 16:] = True  # the two largest: 3 and 4.
  np.testing.assert_array_equal(mask, expected)
  # Balanced: each block-row (16 outputs) keeps its larger input block.
  mask = np.asarray(sparsity.block_mask(jnp.asarray(w), 0.5, (16, 1), True))
  expected = np.zeros((2, 32), bool)
  expected[1, :16] = expected[1, 16:] = True  # 2 > 1 and 4 > 3.
  np.testing.assert_array_equal(mask, expected)


def test_block_mask_hand_computed_4x4_uses_mean_magnitude():
  # One big weight (mean 9/16) loses to a block of moderate ones (mean 1).
  w = np.zeros((8, 4), np.float32)
  w[0, 0] = 9.0
  w[4:, :] = -1.0
  mask = np.asarray(sparsity.block_mask(jnp.asarray(w), 0.5, (4, 4)))
  np.testing.assert_array_equal(mask[:4], False)
  np.testing.assert_array_equal(mask[4:], True)


@pytest.mark.parametrize('block', [(1, 1), (4, 4), (16, 1), (1, 16)])
@pytest.mark.parametrize('balance', [False, True])
def test_block_mask_structure(block, balance):
  bh, bw = block
  rng = np.random.default_rng(0)
  w = rng.normal(size=(64, 96)).astype(np.float32)  # [in, out].
  mask = np.asarray(sparsity.block_mask(jnp.asarray(w), 0.75, block, balance))
  blocks = mask.reshape(64 // bw, bw, 96 // bh, bh)
  # Constant on every block (BW stored rows x BH stored columns).
  assert (blocks.all((1, 3)) == blocks.any((1, 3))).all()
  assert mask.mean() == pytest.approx(0.25)
  kept = blocks.any((1, 3))
  means = np.abs(w).reshape(blocks.shape).mean((1, 3))
  if balance:  # Same K per block-row, and the best of each row kept.
    assert (kept.sum(0) == kept.sum(0)[0]).all()
    assert all(means[kept[:, j], j].min() >= means[~kept[:, j], j].max()
               for j in range(kept.shape[1]))
  else:
    assert means[kept].min() >= means[~kept].max()


def _toy_params(h=16):
  rng = np.random.default_rng(1)
  return {'params': {'R': jnp.asarray(rng.normal(size=(h, 3 * h)), jnp.float32),
                     'O1': jnp.asarray(rng.normal(size=(h // 2, h // 2)),
                                       jnp.float32),
                     'b_I': jnp.zeros((3 * h,), jnp.float32)}}


def test_pruned_weights_stay_zero_through_100_adam_steps():
  specs = [sparsity.Spec('R_u', 0.5, (4, 1)), sparsity.Spec('R_r', 0.75, (4, 1)),
           sparsity.Spec('R_e', 0.875, (4, 1)), sparsity.Spec('O1', 0.5, (2, 2))]
  sched = sparsity.Schedule(start=5, ramp=40, every=10)
  tx = optax.chain(optax.adam(0.05), sparsity.prune(specs, sched))
  params = _toy_params()
  # The loss pulls every weight towards 1: pruned weights feel a gradient
  # (and Adam builds moments for them) for all 100 steps.
  loss = lambda p: sum(jnp.sum((x - 1.0) ** 2)
                       for x in jax.tree_util.tree_leaves(p))
  state = tx.init(params)
  step = jax.jit(lambda p, s: _adam_step(tx, loss, p, s))
  zeros_before = {k: np.zeros(v.shape, bool) for k, v in params['params'].items()}
  for t in range(1, 101):
    params, state = step(params, state)
    prune_state = state[1]
    for key, m in prune_state.masks.items():
      w = np.asarray(params['params'][key])
      m = np.asarray(m)
      assert (w[~m] == 0).all(), (t, key)  # exactly zero.
      assert not (zeros_before[key] & m).any(), (t, key)  # never regrows.
      zeros_before[key] = ~m
  got = sparsity.matrix_sparsity(params, specs)
  assert got == {'R_u': 0.5, 'R_r': 0.75, 'R_e': 0.875, 'O1': 0.5}
  assert (np.asarray(params['params']['b_I']) != 0).all()  # never pruned.


def _adam_step(tx, loss, params, state):
  grads = jax.grad(loss)(params)
  updates, state = tx.update(grads, state, params)
  return optax.apply_updates(params, updates), state


def test_nonzero_budget_helper():
  # The cell count matches the model (everything but the conditioner).
  net = model_lib.WaveRNN(model_lib.ModelConfig(hidden=32, n_mels=16,
                                                conditional=False))
  params = jax.eval_shape(net.init, jax.random.key(0),
                          jnp.zeros((1, 200), jnp.int16))
  assert sparsity.cell_nonzero(32, 0.0) == model_lib.param_count(params)
  dense_896 = sparsity.cell_nonzero(896, 0.0)
  assert 3.0e6 < dense_896 < 3.1e6  # the paper's "about 3M".
  h = sparsity.hidden_for_budget(dense_896, 0.96)
  assert h % 16 == 0
  assert sparsity.cell_nonzero(h, 0.96) <= dense_896
  assert sparsity.cell_nonzero(h + 16, 0.96) > dense_896
  assert sparsity.hidden_for_budget(dense_896, 0.0) == 896
  with pytest.raises(ValueError, match='sparsity'):
    sparsity.hidden_for_budget(1000, 1.0)


def test_config_variants_and_bad_values():
  c = wavernn.get_config('variant=sparse,sparsity=0.96,block=16x1,preset=tiny')
  assert c.sparsity.enabled and c.sparsity.target == 0.96
  config_checks.validate(c)
  assert not wavernn.get_config('preset=tiny').sparsity.enabled
  assert wavernn.get_config('variant=subscale,sparsity=0.5,'
                            'preset=tiny').sparsity.enabled
  for arg, match in [('sparsity=1.0', r'\[0, 1\)'), ('block=5x1', 'tile'),
                     ('block=16', 'BHxBW'), ('block=1x3', 'tile')]:
    c = wavernn.get_config(f'variant=sparse,preset=tiny,{arg}')
    with pytest.raises(config_checks.ConfigError, match=match):
      config_checks.validate(c)
  c = wavernn.get_config('variant=sparse,preset=tiny')
  c.sparsity.matrices = 'R_u,I_prev'
  with pytest.raises(config_checks.ConfigError, match='never pruned'):
    config_checks.validate(c)


def _sparse_config(corpus, steps):
  c = wavernn.get_config('variant=sparse,sparsity=0.75,block=16x1,'
                         'preset=tiny')
  c.data.update(name='wav_folder', manual_dir=os.path.join(corpus, 'lj'),
                data_dir=os.path.join(corpus, 'tfds'))
  c.sparsity.update(start_step=1, ramp_steps=4, update_every=2,
                    targets='R_e=0.875')
  c.train.update(steps=steps, ckpt_every=3, eval_every=6)
  return c


@pytest.fixture
def fast_compile():
  # Compile time dominates these tiny runs (two trainings, evals, samples).
  jax.config.update('jax_disable_most_optimizations', True)
  yield
  jax.config.update('jax_disable_most_optimizations', False)


def test_sparse_training_follows_schedule_and_resumes(corpus, tmp_path,
                                                      fast_compile):
  del fast_compile
  workdir = str(tmp_path / 'wd')
  train.train_and_evaluate(_sparse_config(corpus, 3), workdir)
  ckpt = checkpoint.Checkpointer(workdir)
  masks3 = ckpt._manager.restore(3)['state']['opt_state'][1]['masks']  # pylint: disable=protected-access
  ckpt.close()
  # Masks of step 3 (updated at t = 1, 3: z = 0, Z (1 - (1/2)^3)).
  r3 = np.asarray(masks3['R'])
  assert 1 - r3[:, :32].mean() == pytest.approx(0.75 * 0.875, abs=1 / 32)
  result = train.train_and_evaluate(_sparse_config(corpus, 6), workdir)
  assert result['step'] == 6 and result['nonzero_params'] > 0
  with open(os.path.join(workdir, 'metrics.jsonl')) as f:
    rows = [json.loads(l) for l in f if '"train"' in l]
  assert [r['step'] for r in rows] == [1, 2, 3, 4, 5, 6]
  for r in rows:  # Achieved = target (to one 16-block of 32x32 = 1/64).
    for name in ('R_u', 'R_r', 'R_e'):
      assert r[f'sparsity/{name}'] == pytest.approx(
          r[f'sparsity_target/{name}'], abs=1 / 64), (r['step'], name)
  last = rows[-1]
  assert (last['sparsity/R_u'], last['sparsity/R_e']) == (0.75, 0.875)
  # Resume restored the masks: no block pruned at step 3 came back.
  voc = vocoder_lib.Vocoder.restore(workdir)
  r6 = np.asarray(voc.params['params']['R'])
  assert (r6[~r3] == 0).all()
  assert os.path.exists(os.path.join(workdir, 'sparsity.png'))
  report = voc.sparsity_report()
  assert report['R_e'] == {'shape': [32, 32], 'block': [16, 1],
                           'density': 0.125}
