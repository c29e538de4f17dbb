"""The cell against a NumPy transcription of PAPER.md §1, and properties."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import logsumexp

from wavernn_jax.features import quantization
from wavernn_jax.models import model

H = 16
CFG = model.ModelConfig(hidden=H, n_mels=6, hop_length=4, cond_channels=8,
                        cond_layers=1, cond_kernel=3)


def _random_weights(seed=0):
  net = model.WaveRNN(CFG)
  params = net.init(jax.random.key(seed), jnp.zeros((1, 4), jnp.int16),
                    jnp.zeros((1, 1, 6)))
  # Replace every weight (biases too) by N(0, 0.5) so nothing is trivially 0.
  leaves, tree = jax.tree_util.tree_flatten(params)
  keys = jax.random.split(jax.random.key(seed + 1), len(leaves))
  leaves = [0.5 * jax.random.normal(k, x.shape) for k, x in zip(keys, leaves)]
  params = jax.tree_util.tree_unflatten(tree, leaves)
  return net, params, net.apply(params, method='weights')


def _numpy_step(w, h, cond, c_prev, f_prev, c_t):
  """PAPER.md §1, written out with an explicit masked I* of shape (3H, 3)."""
  # The paper's matrices are [outputs, inputs]: transpose our [in, out] ones.
  w = {k: np.asarray(v, np.float64).T for k, v in w.items()}
  sig = lambda z: 1 / (1 + np.exp(-z))
  scale = lambda b: b / 127.5 - 1
  x = np.array([scale(c_prev), scale(f_prev), scale(c_t)])
  i_star = np.zeros((3 * H, 3))
  i_star[:, :2] = w['I_prev']
  for g in range(3):  # c_t reaches only the fine half of u, r and e.
    i_star[g * H + H // 2:(g + 1) * H, 2] = w['I_c'][g * H // 2:(g + 1) * H // 2,
                                                     0]
  r_u, r_r, r_e = w['R'][:H], w['R'][H:2 * H], w['R'][2 * H:]
  i_u, i_r, i_e = i_star[:H], i_star[H:2 * H], i_star[2 * H:]
  b = w['b_I'] + cond
  b_u, b_r, b_e = b[:H], b[H:2 * H], b[2 * H:]
  u = sig(r_u @ h + i_u @ x + b_u)
  r = sig(r_r @ h + i_r @ x + b_r)
  e = np.tanh(r * (r_e @ h) + i_e @ x + b_e)
  h_new = u * h + (1 - u) * e
  y_c, y_f = h_new[:H // 2], h_new[H // 2:]
  relu = lambda z: np.maximum(z, 0)
  logits_c = w['O2'] @ relu(w['O1'] @ y_c + w['b_O1']) + w['b_O2']
  logits_f = w['O4'] @ relu(w['O3'] @ y_f + w['b_O3']) + w['b_O4']
  return h_new, logits_c, logits_f


def test_cell_matches_numpy_paper_equations():
  _, _, w = _random_weights()
  rng = np.random.default_rng(0)
  b = 5
  h = rng.normal(size=(b, H)).astype(np.float32)
  cond = rng.normal(size=(b, 3 * H)).astype(np.float32)
  c_prev, f_prev, c_t = (rng.integers(0, 256, b) for _ in range(3))
  # The cell's input term carries conditioning + bias (`WaveRNN.condition`).
  h_new, logits = model.cell(w, h, cond + np.asarray(w['b_I']), c_prev,
                             f_prev, c_t)
  for i in range(b):
    ref_h, ref_c, ref_f = _numpy_step(w, h[i], cond[i], c_prev[i], f_prev[i],
                                      c_t[i])
    np.testing.assert_allclose(h_new[i], ref_h, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(logits[i, 0], ref_c, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(logits[i, 1], ref_f, rtol=1e-4, atol=1e-4)


def test_coarse_head_ignores_c_t_and_fine_head_uses_it():
  _, _, w = _random_weights()
  h = np.random.default_rng(1).normal(size=(2, H)).astype(np.float32)
  cond = np.zeros((2, 3 * H), np.float32)
  prev = np.array([100, 100])
  _, a = model.cell(w, h, cond, prev, prev, np.array([0, 0]))
  _, b = model.cell(w, h, cond, prev, prev, np.array([255, 255]))
  np.testing.assert_array_equal(a[:, 0], b[:, 0])
  assert np.abs(a[:, 1] - b[:, 1]).max() > 1e-3


def test_causality_of_teacher_forced_log_probs():
  net, params, _ = _random_weights()
  rng = np.random.default_rng(2)
  t, cut = 32, 13
  audio = rng.integers(-20000, 20000, (1, t)).astype(np.int16)
  mel = rng.normal(size=(1, t // 4, 6)).astype(np.float32)
  changed = audio.copy()
  changed[0, cut + 1:] = rng.integers(-20000, 20000, t - cut - 1)
  lp_c, lp_f = net.apply(params, audio, mel)
  lp_c2, lp_f2 = net.apply(params, changed, mel)
  np.testing.assert_array_equal(lp_c[:, :cut + 1], lp_c2[:, :cut + 1])
  np.testing.assert_array_equal(lp_f[:, :cut + 1], lp_f2[:, :cut + 1])
  assert np.abs(lp_c[:, cut + 2:] - lp_c2[:, cut + 2:]).max() > 1e-4


def test_changing_only_the_fine_byte_at_t_leaves_coarse_lp_at_t():
  net, params, _ = _random_weights()
  audio = np.full((1, 8), 1000, np.int16)
  other = audio.copy()
  other[0, 5] += 7  # same coarse byte, different fine byte.
  assert quantization.split(other[0, 5])[0] == quantization.split(
      audio[0, 5])[0]
  lp_c, lp_f = net.apply(params, audio, np.zeros((1, 2, 6)))
  lp_c2, lp_f2 = net.apply(params, other, np.zeros((1, 2, 6)))
  np.testing.assert_array_equal(lp_c[:, :6], lp_c2[:, :6])
  assert lp_f[0, 5] != lp_f2[0, 5]


def test_joint_distribution_over_65536_values_normalises():
  _, _, w = _random_weights()
  rng = np.random.default_rng(3)
  h = np.repeat(rng.normal(size=(1, H)).astype(np.float32), 256, 0)
  cond = np.repeat(rng.normal(size=(1, 3 * H)).astype(np.float32), 256, 0)
  prev_c, prev_f = np.full(256, 40), np.full(256, 200)
  c_all = np.arange(256)  # every coarse byte, each with all 256 fine bytes.
  _, logits = model.cell(w, h, cond, prev_c, prev_f, c_all)
  lp_c = jax.nn.log_softmax(logits[0, 0])  # same for every row.
  lp_f_given_c = jax.nn.log_softmax(logits[:, 1], axis=-1)  # [256 c, 256 f]
  joint = np.asarray(lp_c)[:, None] + np.asarray(lp_f_given_c)
  assert joint.size == 65536
  assert abs(logsumexp(joint.astype(np.float64))) < 1e-4


def test_context_frames_condition_like_the_whole_utterance():
  """A window's conditioning of its scored frames is the full input's."""
  net, params, _ = _random_weights()
  rng = np.random.default_rng(4)
  mel = rng.normal(size=(1, 10, 6)).astype(np.float32)
  xin_full = net.apply(params, mel, 1, 10, method='condition')
  xin_win = net.apply(params, mel[:, 2:10], 1, 8, method='condition')
  np.testing.assert_allclose(xin_full[:, 4:6], xin_win[:, 2:4], rtol=1e-5,
                             atol=1e-5)


def _memoryless(params, hidden):
  """The cell with R = 0 and the update gate shut (u = sigmoid(-1e4) = 0):
  h_t = e_t depends on the inputs at t alone, so a window that starts from
  h = 0 must score each sample exactly as the whole utterance does."""
  p = jax.tree_util.tree_map(lambda x: x, params)
  cell = p['params']
  cell['R'] = jnp.zeros_like(cell['R'])
  cell['b_I'] = cell['b_I'].at[:hidden].set(-1e4)
  return p


@pytest.mark.parametrize('arg, lpc', [
    ('preset=tiny', 0), ('preset=tiny', 4),
    ('preset=tiny,variant=subscale,batch_factor=4,horizon=2', 0)],
                         ids=['dense', 'dense_emphasis_lpc', 'subscale'])
def test_a_training_window_scores_its_span_like_the_whole_utterance(arg,
                                                                    lpc):
  """The loss of a training window (train.window_nll: its own mel, context
  frames at both ends, or Subscale's margin) equals the whole utterance's
  ln P over the scored span (Vocoder.log_prob), coarse and fine, for a
  cell whose state carries nothing from before the window."""
  from experiments.configs import wavernn  # pylint: disable=g-import-not-at-top
  from wavernn_jax import vocoder as vocoder_lib  # pylint: disable=g-import-not-at-top
  from wavernn_jax.training import input_pipeline  # pylint: disable=g-import-not-at-top
  from wavernn_jax.training import train  # pylint: disable=g-import-not-at-top
  config = wavernn.get_config(arg)
  if lpc:
    config.model.update(emphasis=0.85, lpc_order=lpc)
  voc = vocoder_lib.Vocoder.from_config(config, seed=0)
  voc.params = _memoryless(jax.tree_util.tree_map(lambda x: 3.0 * x,
                                                  voc.params),
                           config.model.hidden)
  hop, ctx = voc.hop_length, input_pipeline.context_frames(config)
  scored = 4  # frames; the window starts 3 frames into the utterance.
  frames = 3 + 2 * ctx + scored + 2
  rng = np.random.default_rng(5)
  wave = 0.3 * np.sin(np.arange(frames * hop) * 0.07) + 0.05 * rng.normal(
      size=frames * hop)
  audio = quantization.to_int16(wave)[None]
  full = voc.log_prob(audio, voc.mel(quantization.to_float(audio)),
                      parts=True)
  start = 3 * hop
  window = audio[:, start:start + (2 * ctx + scored) * hop]
  span = full[:, start + ctx * hop:start + (ctx + scored) * hop]
  nll = jax.jit(lambda p, w: train.window_nll(voc.net, voc.mel_config, ctx,
                                              p, w)[1])
  aux = nll(voc.params, jnp.asarray(window))
  ln2 = np.log(2.0)
  np.testing.assert_allclose(
      [aux['nll_coarse_bits'], aux['nll_fine_bits']],
      [-span[..., 0].mean() / ln2, -span[..., 1].mean() / ln2], rtol=2e-5)
  # The test can fail: with the state's memory the window differs.
  voc.params['params']['R'] = jnp.ones_like(voc.params['params']['R'])
  voc.params['params']['b_I'] = jnp.zeros_like(voc.params['params']['b_I'])
  aux = nll(voc.params, jnp.asarray(window))
  full = voc.log_prob(audio, voc.mel(quantization.to_float(audio)),
                      parts=True)
  span = full[:, start + ctx * hop:start + (ctx + scored) * hop]
  assert abs(aux['nll_coarse_bits'] + span[..., 0].mean() / ln2) > 1e-3


@pytest.mark.parametrize('hidden', [0, -2, 7])
def test_bad_hidden_size_is_refused(hidden):
  with pytest.raises(ValueError, match='hidden'):
    model.ModelConfig(hidden=hidden)


def test_teacher_forced_scan_equals_stepping_the_cell():
  """Training's vectorised path and the sampler's step agree on logits."""
  net, params, w = _random_weights()
  rng = np.random.default_rng(5)
  audio = rng.integers(-20000, 20000, (2, 12)).astype(np.int16)
  mel = rng.normal(size=(2, 3, 6)).astype(np.float32)
  _, _, logits = net.apply(params, audio, mel, return_logits=True)
  xin = net.apply(params, mel, 2, 3, method='condition')
  c, f = quantization.split(audio)
  h = np.zeros((2, H), np.float32)
  pc, pf = np.full(2, 128), np.zeros(2, int)
  for t in range(12):
    h, step_logits = model.cell(w, h, xin[:, t // 4], pc, pf, c[:, t])
    np.testing.assert_allclose(logits[:, t], step_logits, rtol=1e-4,
                               atol=1e-4)
    pc, pf = c[:, t], f[:, t]
