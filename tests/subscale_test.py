"""Subscale WaveRNN: folding, the exact dependency structure, train/sample
agreement, and training through the common loop."""

import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments.configs import wavernn
from tests import fake_corpus
from wavernn_jax import vocoder as vocoder_lib
from wavernn_jax.models import subscale
from wavernn_jax.synthesis import sparse_sampling
from wavernn_jax.training import config_checks
from wavernn_jax.training import train

S, HORIZON = 4, 2  # Sub-tensors and future horizon of the small model.


def _vocoder(batch_factor=S, horizon=HORIZON, now_tap=False,
             left_input=False, left_samples=1, sub_bias=False, lpc_order=0,
             two_sided=False):
  config = wavernn.get_config(f'preset=tiny,variant=subscale,batch_factor='
                              f'{batch_factor},horizon={horizon}')
  config.subscale.update(now_tap=now_tap, left_input=left_input,
                         left_samples=left_samples, sub_bias=sub_bias,
                         lpc_order=lpc_order, lpc_two_sided=two_sided)
  v = vocoder_lib.Vocoder.from_config(config, seed=0)
  # Larger weights than the init: peaky distributions, so any mismatch shows.
  v.params = jax.tree_util.tree_map(lambda x: x * 3.0, v.params)
  if sub_bias:  # Initialised at zero: make each sub-tensor's bias its own.
    context = v.params['params']['context']
    context['b_sub'] = jax.random.normal(jax.random.key(7),
                                         context['b_sub'].shape)
  return v


@pytest.fixture(scope='module', params=[(False, False, 0), (True, False, 0),
                                        (False, True, 0), (True, True, 3),
                                        (False, False, -2)],
                ids=['', 'now_tap', 'left_input_sub_bias', 'lpc',
                     'lpc_two_sided'])
def voc(request):
  """params: now_tap, left_input, lpc_order (negative: two-sided)."""
  order = request.param[2]
  return _vocoder(now_tap=request.param[0], left_input=request.param[1],
                  sub_bias=request.param[1] and not order,
                  lpc_order=abs(order), two_sided=order < 0)


def _mel(voc, frames, batch=1, seed=0):
  rng = np.random.default_rng(seed)
  wave = 0.3 * rng.normal(size=(batch, frames * voc.hop_length))
  return voc.mel(wave.astype(np.float32))


@pytest.mark.parametrize('factor', [1, 3, 4, 16])
def test_fold_unfold_round_trip_any_length(factor):
  rng = np.random.default_rng(factor)
  for length in (1, factor - 1, factor, 5 * factor + 1, 37):
    if length < 1:
      continue
    x = rng.integers(-9, 9, size=(2, length, 3))
    folded = subscale.fold(x, factor)
    assert folded.shape == (2, -(-length // factor), factor, 3)
    # Sub-tensor s holds samples S * i + s.
    np.testing.assert_array_equal(folded[:, :, 0], x[:, ::factor])
    np.testing.assert_array_equal(subscale.unfold(folded, length), x)


def test_folded_conditioning_is_the_frame_of_each_sample():
  xin = np.arange(2 * 5 * 3).reshape(2, 5, 3)  # [B, frames, G].
  hop, factor, length = 6, 4, 30
  per_sample = np.repeat(xin, hop, axis=1)  # [B, T, G].
  # The gather the model and the sampler use: [B, F, G] -> [B, N, S, G].
  folded = xin[:, subscale.frame_index(factor, -(-length // factor), hop,
                                       xin.shape[1])]
  assert folded.shape == (2, 8, factor, 3)
  np.testing.assert_array_equal(subscale.unfold(folded, length), per_sample)


def test_dependency_structure_by_perturbation(voc):
  """Changing sample (z0, k0) changes ln P only where the ordering allows:
  (z0, i > k0) and (s > z0, i >= k0 - horizon) (and the sample itself)."""
  frames = 4
  t = frames * voc.hop_length  # 256 samples, 64 per sub-tensor.
  n = t // S
  rng = np.random.default_rng(0)
  audio = rng.integers(-4000, 4000, size=(1, t)).astype(np.int16)
  mel = jnp.asarray(_mel(voc, frames))  # Held fixed: only audio changes.
  lp_fn = jax.jit(lambda a: sum(voc.net.apply(voc.params, a, mel)))
  base = np.asarray(lp_fn(audio))
  seen = set()
  i_NxS, s_NxS = np.meshgrid(np.arange(n), np.arange(S), indexing='ij')
  for z0, k0 in [(0, 10), (1, 30), (2, 5), (3, 40), (0, 63), (1, 0)]:
    poked = audio.copy()
    poked[0, S * k0 + z0] ^= 0x2A00  # Flip bits of the coarse byte.
    changed_NxS = np.abs(np.asarray(lp_fn(poked)) - base)[0].reshape(n, S)
    changed_NxS = changed_NxS > 1e-6
    itself = (s_NxS == z0) & (i_NxS == k0)
    own_future = (s_NxS == z0) & (i_NxS > k0)
    later = (s_NxS > z0) & (i_NxS >= k0 - HORIZON)
    allowed = itself | own_future | later
    bad = changed_NxS & ~allowed
    assert not bad.any(), (z0, k0, np.argwhere(bad)[:5])
    assert changed_NxS[itself].all()
    if changed_NxS[own_future].any():
      seen.add('own')
    for s in range(z0 + 1, S):
      edge = k0 - HORIZON  # The first folded step allowed to see it.
      if edge >= 0 and changed_NxS[edge, s]:
        seen.add(f'horizon edge, {s - z0} sub-tensor(s) later')
      if k0 + 1 < n and changed_NxS[k0 + 1:, s].any():
        seen.add('later sub-tensor, after')
  assert seen == {'own', 'horizon edge, 1 sub-tensor(s) later',
                  'horizon edge, 2 sub-tensor(s) later',
                  'horizon edge, 3 sub-tensor(s) later',
                  'later sub-tensor, after'}, seen


# Every value of every option at least once, most in combination (each case
# compiles its own sampler and scorer: ~15 s; the suite's budget keeps
# seven).
@pytest.mark.parametrize('factor, horizon, temperature, now_tap, left, lpc', [
    (S, HORIZON, 1.0, False, 0, 0), (3, 1, 0.7, False, 0, 0),
    (3, 0, 0.7, True, 1, 0), (S, HORIZON, 1.0, True, 3, 3),
    (S, 0, 1.0, True, 1, 2), (S, HORIZON, 1.0, True, 3, -3),
    (3, 1, 0.7, False, 0, -2)])
def test_generate_agrees_with_log_prob(factor, horizon, temperature, now_tap,
                                       left, lpc):
  """ln P reported by the sampler == teacher-forced ln P of its output (also
  when the length is not a multiple of S: 5 * 64 = 320 = 3 * 106 + 2);
  `left`: subscale.left_samples with left_input, 0 without; with left >= 2
  also subscale.sub_bias; `lpc`: subscale.lpc_order (negative: two-sided)."""
  v = _vocoder(factor, horizon, now_tap, left > 0, max(left, 1), left >= 2,
               abs(lpc), lpc < 0)
  mel = _mel(v, 5, batch=2)
  audio, lp = v.generate(mel, seed=3, temperature=temperature)
  assert audio.dtype == np.int16 and audio.shape == (2, 5 * 64)
  assert lp.shape == audio.shape
  np.testing.assert_allclose(lp, v.log_prob(audio, mel), rtol=1e-4,
                             atol=1e-4)
  assert len(np.unique(audio)) > 50  # Really sampled, not constant.
  a2, _ = v.generate(mel, seed=4, temperature=temperature)
  assert (a2 != audio).any()


def test_schedule_length():
  sub = subscale.SubscaleConfig(batch_factor=16, horizon=64)
  from wavernn_jax.synthesis import subscale_sampling  # pylint: disable=g-import-not-at-top
  # The warm-up is B * (F + 1) steps less one sub-tensor's worth.
  assert subscale_sampling.num_steps(100, sub) == 100 + 15 * 65


def test_crop_must_fold_evenly():
  config = wavernn.get_config('preset=tiny,variant=subscale,batch_factor=3')
  with pytest.raises(config_checks.ConfigError,
                     match='multiple of subscale.batch_factor=3.*e.g. 192'):
    config_checks.validate(config)
  config = wavernn.get_config('preset=tiny,variant=subscale,horizon=-1')
  with pytest.raises(config_checks.ConfigError, match='horizon=-1'):
    config_checks.validate(config)
  config = wavernn.get_config('preset=tiny,variant=subscale,batch_factor=4')
  config.subscale.update(left_input=True, left_samples=4)
  with pytest.raises(config_checks.ConfigError,
                     match=r'left_samples=4 must be in \[1, batch_factor - 1 = 3\]'):
    config_checks.validate(config)


def test_trains_with_the_common_loop(tmp_path):
  root = str(tmp_path)
  fake_corpus.make_ljspeech(os.path.join(root, 'lj'))
  config = wavernn.get_config(f'preset=tiny,variant=subscale,batch_factor={S},'
                              f'horizon={HORIZON},steps=2')
  config.data.update(name='wav_folder', manual_dir=os.path.join(root, 'lj'),
                     data_dir=os.path.join(root, 'tfds'))
  config.train.update(eval_every=2, ckpt_every=2)
  result = train.train_and_evaluate(config, os.path.join(root, 'wd'))
  assert result['step'] == 2 and np.isfinite(result['nll_bits'])
  v = vocoder_lib.Vocoder.restore(os.path.join(root, 'wd'))
  params = v.params['params']
  assert 'R' in params and 'conv0' in params['context']  # Dense names kept.
  mel = _mel(v, 3)
  audio, lp = v.generate(mel, seed=0)
  np.testing.assert_allclose(lp, v.log_prob(audio, mel), rtol=1e-4,
                             atol=1e-4)


@pytest.mark.parametrize('factor, horizon', [(4, 2), (3, 8), (16, 64)])
def test_context_net_sees_past_and_future_of_earlier_subtensors(factor,
                                                                 horizon):
  """With the default dilations, the context at (s, j) depends on exactly
  the columns j - F + 1 ... j + F of the sub-tensors z < s (measured with
  positive weights, so every ReLU passes and no path cancels)."""
  sub = subscale.SubscaleConfig(batch_factor=factor, horizon=horizon,
                                channels=2,
                                dilations=subscale.dilations_for(horizon))
  rng = np.random.default_rng(0)
  kernels = [np.abs(rng.normal(size=(sub.kernel, factor, 2, factor, 2)))
             * subscale.group_mask(factor, strict=(l == 0))
             for l in range(len(sub.dilations))]
  cw = {'kernels': [jnp.asarray(k, jnp.float32) for k in kernels],
        'biases': [jnp.ones((factor, 2)) for _ in sub.dilations]}
  n, j, s = 4 * horizon + 8, 2 * horizon + 4, factor - 1
  feats = jnp.asarray(rng.uniform(0.5, 1.0, (1, n, factor, 2)), jnp.float32)
  grad = jax.grad(lambda x: subscale.context_hidden(cw, x, sub)[0, j, s].sum()
                  )(feats)
  seen = np.abs(np.asarray(grad[0])).sum(-1) > 0  # [N, S]
  expected = np.zeros((n, factor), bool)
  expected[j - horizon + 1:j + horizon + 1, :s] = True
  np.testing.assert_array_equal(seen, expected)


def test_dilations_that_miss_the_current_column_are_refused():
  with pytest.raises(ValueError, match=r'never sees the samples.*'
                     r'dilations=\(1, 2, 4, 8, 16, 32, 64\)'):
    subscale.SubscaleConfig(horizon=64, dilations=(1, 2, 4, 8))
  config = wavernn.get_config('preset=tiny,variant=subscale,horizon=64')
  config.subscale.dilations = (1, 2)
  with pytest.raises(config_checks.ConfigError, match='reach 3 folded'):
    config_checks.validate(config)


def test_now_tap_reads_the_current_column_of_earlier_subtensors():
  """With every stacked kernel zero, the context at (s, j) depends on exactly
  (z < s, j) through the now tap, and on nothing without it."""
  factor, horizon = 4, 2
  sub = subscale.SubscaleConfig(batch_factor=factor, horizon=horizon,
                                channels=2, now_tap=True,
                                dilations=subscale.dilations_for(horizon))
  net = subscale.ContextNet(sub, gates=6)
  params = net.init(jax.random.key(0), method='weights')
  cw = net.apply(params, method='weights')
  cw['kernels'] = [jnp.zeros_like(k) for k in cw['kernels']]
  cw['biases'] = [jnp.ones_like(b) for b in cw['biases']]
  cw['now'] = jnp.abs(cw['now'])  # Positive paths: every ReLU passes.
  n, j = 12, 5
  rng = np.random.default_rng(0)
  feats = jnp.asarray(rng.uniform(0.5, 1.0, (1, n, factor, 2)), jnp.float32)
  for s in range(factor):
    grad = jax.grad(
        lambda x, s=s: subscale.context_hidden(cw, x, sub)[0, j, s].sum())(
            feats)
    seen = np.abs(np.asarray(grad[0])).sum(-1) > 0  # [N, S]
    expected = np.zeros((n, factor), bool)
    expected[j, :s] = True
    np.testing.assert_array_equal(seen, expected, err_msg=f's={s}')
  no_tap = dict(cw)
  del no_tap['now']
  grad = jax.grad(lambda x: subscale.context_hidden(no_tap, x, sub)[0, j].sum()
                  )(feats)
  assert not np.asarray(grad).any()


@pytest.mark.parametrize('left_samples', [1, 3])
def test_left_input_is_the_samples_just_before(left_samples):
  """With the context net's output zeroed, the only path between
  sub-tensors is `left_input`: sample (z0, k0) reaches (z0 + k, k0) for
  k = 1 .. left_samples (and, through those sub-tensors' recurrences, their
  later steps) and nothing else."""
  v = _vocoder(left_input=True, left_samples=left_samples)
  v.params = jax.tree_util.tree_map_with_path(
      lambda path, x: jnp.zeros_like(x) if 'out' in jax.tree_util.keystr(path)
      and 'context' in jax.tree_util.keystr(path) else x, v.params)
  frames = 4
  t = frames * v.hop_length
  n = t // S
  rng = np.random.default_rng(1)
  audio = rng.integers(-4000, 4000, size=(1, t)).astype(np.int16)
  mel = jnp.asarray(_mel(v, frames))
  lp_fn = jax.jit(lambda a: sum(v.net.apply(v.params, a, mel)))
  base = np.asarray(lp_fn(audio))
  i_NxS, s_NxS = np.meshgrid(np.arange(n), np.arange(S), indexing='ij')
  for z0, k0 in [(0, 10), (2, 33), (3, 5)]:
    poked = audio.copy()
    poked[0, S * k0 + z0] ^= 0x2A00
    changed = (np.abs(np.asarray(lp_fn(poked)) - base)[0].reshape(n, S)
               > 1e-6)
    allowed = (s_NxS >= z0) & (s_NxS <= z0 + left_samples) & (i_NxS >= k0)
    assert not (changed & ~allowed).any(), (z0, k0)
    for k in range(1, left_samples + 1):
      if z0 + k < S:  # x_{t-k} of (z0 + k, k0) is the poked sample.
        assert changed[k0, z0 + k], (z0, k0, k)


def test_sub_bias_gives_each_sub_tensor_its_own_gate_bias():
  """subscale.sub_bias: changing sub-tensor 2's bias changes ln P of every
  sample of sub-tensor 2, and of no sample of sub-tensors 0 and 1 (which
  never see sub-tensor 2)."""
  v = _vocoder(sub_bias=True)
  mel = _mel(v, 3)
  rng = np.random.default_rng(2)
  audio = rng.integers(-3000, 3000, (1, 3 * 64)).astype(np.int16)
  base = v.log_prob(audio, mel)
  context = v.params['params']['context']
  context['b_sub'] = context['b_sub'].at[2].add(1.0)
  moved = np.abs(v.log_prob(audio, mel) - base)[0] > 1e-6
  assert moved[2::S].all()  # Sub-tensor 2: samples S * i + 2.
  assert not moved[0::S].any() and not moved[1::S].any()


def test_sparse_cell_sampler_agrees_with_log_prob(monkeypatch):
  """The Subscale sampler on block-sparse R and O1..O4 (16 rows per step:
  `BlockSparse`'s fused product) == teacher-forced ln P of the pruned
  model; two-sided prediction on."""
  v = _vocoder(S, HORIZON, True, True, 3, False, 3, True)
  v.prune(0.75, (16, 1), ('R_u', 'R_r', 'R_e', 'O1', 'O2', 'O3', 'O4'))
  v.sparse_kernel = True
  products = []
  rmatmul = sparse_sampling.BlockSparse.__rmatmul__

  def counted(self, x):
    products.append(x.shape)
    return rmatmul(self, x)
  monkeypatch.setattr(sparse_sampling.BlockSparse, '__rmatmul__', counted)
  mel = _mel(v, 5, batch=1)
  audio, lp = v.generate(mel, seed=3)
  assert products and all(shape[0] == S for shape in products), products
  np.testing.assert_allclose(lp, v.log_prob(audio, mel), rtol=1e-4,
                             atol=1e-4)
  assert len(np.unique(audio)) > 50


def test_predictor_taps_read_only_drawn_samples_by_hand():
  """S = 4, K = 2, two-sided: sub-tensor 3 reads x_{t-1}, x_{t-2} = (2, i),
  (1, i) and x_{t+1}, x_{t+2} = (0, i + 1), (1, i + 1); sub-tensor 1 reads
  (0, i) and x_{t+3} = (0, i + 1); sub-tensor 0 nothing."""
  lags, z, di = subscale.predictor_taps(subscale.SubscaleConfig(
      batch_factor=4, horizon=1, lpc_order=2, lpc_two_sided=True))
  np.testing.assert_array_equal(lags, [[0, 0, 0, 0], [1, 0, -3, 0],
                                       [1, 2, -2, -3], [1, 2, -1, -2]])
  used = lags != 0
  np.testing.assert_array_equal(z[used], [0, 0, 1, 0, 0, 1, 2, 1, 0, 1])
  np.testing.assert_array_equal(di[used], [0, 1, 0, 0, 1, 1, 0, 0, 1, 1])
  # The lag is where the sample is: (z, i + di) is x_{t - lag}, t = 4i + s.
  s = np.arange(4)[:, None]
  np.testing.assert_array_equal((s - 4 * di - z)[used], lags[used])
  one_sided, _, _ = subscale.predictor_taps(subscale.SubscaleConfig(
      batch_factor=4, lpc_order=2))
  np.testing.assert_array_equal(one_sided, [[0, 0], [1, 0], [1, 2], [1, 2]])


def test_two_sided_prediction_needs_order_and_horizon():
  with pytest.raises(subscale.errors.UserError, match='lpc_two_sided'):
    subscale.SubscaleConfig(batch_factor=4, horizon=0, lpc_order=2,
                            lpc_two_sided=True)
  with pytest.raises(subscale.errors.UserError, match='lpc_two_sided'):
    subscale.SubscaleConfig(batch_factor=4, lpc_two_sided=True)


def test_lpc_order_is_bounded_by_the_samples_of_the_column():
  """Sub-tensor s has s samples of its column before it: order <= S - 1."""
  assert subscale.SubscaleConfig(batch_factor=4, lpc_order=3).lpc_order == 3
  with pytest.raises(subscale.errors.UserError, match='lpc_order=4'):
    subscale.SubscaleConfig(batch_factor=4, lpc_order=4)
  np.testing.assert_array_equal(
      subscale.predictor_orders(subscale.SubscaleConfig(batch_factor=6,
                                                        lpc_order=3)),
      [0, 1, 2, 3, 3, 3])
