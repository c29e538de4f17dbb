"""Distillation (train.distill_from): the soft-target objective and its use."""

import json
import os

import jax
import numpy as np
import pytest

from experiments.configs import wavernn
from tests import tiny_training
from wavernn_jax import vocoder as vocoder_lib
from wavernn_jax.training import config_checks
from wavernn_jax.training import input_pipeline
from wavernn_jax.training import train


def test_cross_entropy_by_hand():
  rng = np.random.default_rng(0)
  t = rng.normal(size=(2, 3, 2, 256)).astype(np.float32)
  s = rng.normal(size=(2, 3, 2, 256)).astype(np.float32)
  p = np.exp(t - t.max(-1, keepdims=True))
  p /= p.sum(-1, keepdims=True)
  log_q = s - s.max(-1, keepdims=True)
  log_q -= np.log(np.exp(log_q).sum(-1, keepdims=True))
  want = -(p * log_q).sum(-1).mean((0, 1)).sum()
  got = train.distill_cross_entropy(t, s)
  np.testing.assert_allclose(got, want, rtol=1e-5)
  # Against itself it is the entropy (its minimum over the model's logits).
  ent = -(p * np.log(p)).sum(-1).mean((0, 1)).sum()
  np.testing.assert_allclose(train.distill_cross_entropy(t, t), ent,
                             rtol=1e-5)


def _setup(variant='sparse'):
  config = wavernn.get_config(f'variant={variant},preset=tiny,hidden=32')
  config.data.batch_size = 2
  net = vocoder_lib.make_net(config)
  params = vocoder_lib.init_params(config, jax.random.key(0))
  window = np.random.default_rng(3).integers(
      -3000, 3000, (2, input_pipeline.window_samples(config)), np.int16)
  return (config, net, vocoder_lib.mel_config(config),
          input_pipeline.context_frames(config), params, window)


def test_objective_mixes_nll_and_soft_targets():
  config, net, mel_cfg, ctx, params, window = _setup()
  other = vocoder_lib.init_params(config, jax.random.key(1))
  nll, _ = train.window_nll(net, mel_cfg, ctx, params, window)
  for w in (0.0, 0.3, 1.0):
    obj, aux = train.window_nll(net, mel_cfg, ctx, params, window,
                                teacher=(net, other), distill_weight=w)
    np.testing.assert_allclose(aux['nll'], nll, rtol=1e-6)
    soft = aux['distill_bits'] * train.LN2
    np.testing.assert_allclose(obj, (1 - w) * nll + w * soft, rtol=1e-5)
  assert abs(float(soft - nll)) > 1e-3  # A different teacher: other targets.


def test_a_model_is_stationary_under_its_own_soft_targets():
  # d CE(p, q) / d logits = q - p: zero when the teacher is the model.
  config, net, mel_cfg, ctx, params, window = _setup()
  del config

  def objective(p, w):
    return train.window_nll(net, mel_cfg, ctx, p, window,
                            teacher=(net, params), distill_weight=w)[0]
  soft = jax.grad(lambda p: objective(p, 1.0))(params)
  hard = jax.grad(lambda p: objective(p, 0.0))(params)
  norm = lambda g: float(np.sqrt(sum(np.sum(np.square(x)) for x in
                                     jax.tree_util.tree_leaves(g))))
  assert norm(hard) > 1e-2
  assert norm(soft) < 1e-5 * norm(hard)


def test_distilled_training_logs_the_plain_nll(tmp_path_factory, tmp_path):
  corpus, teacher = tiny_training.reference(tmp_path_factory)
  c = tiny_training.config(corpus, steps=2, log_every=1, eval_every=2,
                           ckpt_every=2, distill_from=teacher,
                           distill_weight=0.5)
  workdir = str(tmp_path / 'student')
  train.train_and_evaluate(c, workdir)
  with open(os.path.join(workdir, 'metrics.jsonl')) as f:
    rows = [json.loads(l) for l in f if '"train"' in l]
  assert [r['step'] for r in rows] == [1, 2]
  for r in rows:  # loss is the objective; nll_bits the NLL alone.
    soft_bits, nll_bits = r['distill_bits'], r['nll_bits']
    want = (0.5 * nll_bits + 0.5 * soft_bits) * train.LN2
    np.testing.assert_allclose(r['loss'], want, rtol=1e-4)


def test_a_teacher_of_other_targets_is_one_line(tmp_path_factory):
  corpus, teacher = tiny_training.reference(tmp_path_factory)
  c = tiny_training.config(corpus, distill_from=teacher)
  c.model.emphasis = 0.5  # The teacher models the plain signal.
  with pytest.raises(config_checks.ConfigError, match='model.emphasis'):
    train.load_teacher(c)
  c = tiny_training.config(corpus, distill_from=teacher)
  c.mel.fmin = 60.0
  with pytest.raises(config_checks.ConfigError, match='mel'):
    train.load_teacher(c)
  c = wavernn.get_config('variant=subscale,preset=tiny')
  c.train.distill_from = teacher
  with pytest.raises(config_checks.ConfigError, match='Subscale'):
    train.load_teacher(c)
