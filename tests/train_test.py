"""Training on a tiny synthetic corpus: runs, checkpoints, resumes."""

import json
import os

import jax
import numpy as np
import pytest

from experiments.configs import wavernn
from tests.tiny_training import config as tiny_config
from wavernn_jax import vocoder as vocoder_lib
from wavernn_jax.training import checkpoint
from wavernn_jax.training import config_checks
from wavernn_jax.training import train


def _logged_steps(workdir):
  with open(os.path.join(workdir, 'metrics.jsonl')) as f:
    return [r['step'] for r in map(json.loads, f) if r['split'] == 'train']


def test_train_then_resume(corpus, tmp_path):
  workdir = str(tmp_path / 'wd')
  result = train.train_and_evaluate(tiny_config(corpus, steps=4), workdir)
  assert result['step'] == 4 and np.isfinite(result['nll_bits'])
  ckpt = checkpoint.Checkpointer(workdir)
  assert ckpt.latest_step() == 4
  first = ckpt.restore_params(4)['params']
  assert os.path.exists(os.path.join(workdir, 'loss.png'))
  assert any(f.startswith('events') for f in os.listdir(
      os.path.join(workdir, 'tb')))

  result = train.train_and_evaluate(tiny_config(corpus, steps=6), workdir)
  assert result['step'] == 6
  assert _logged_steps(workdir) == [1, 2, 3, 4, 5, 6]  # resumed, not redone.
  with open(os.path.join(workdir, 'metrics.jsonl')) as f:
    seconds = [r['train_seconds'] for r in map(json.loads, f)
               if r['split'] == 'train']
  assert np.all(np.diff(seconds) > 0)  # Wall time adds up across the resume.
  second = checkpoint.Checkpointer(workdir).restore_params(6)['params']
  assert not np.allclose(first['R'], second['R'])
  voc = vocoder_lib.Vocoder.restore(workdir)
  assert voc.step == 6
  np.testing.assert_array_equal(voc.params['params']['R'], second['R'])


def test_loss_falls_on_the_corpus(corpus, tmp_path):
  config = tiny_config(corpus, steps=30, learning_rate=1e-2, eval_every=30,
                       log_every=5)
  train.train_and_evaluate(config, str(tmp_path / 'wd'))
  with open(os.path.join(tmp_path, 'wd', 'metrics.jsonl')) as f:
    rows = [json.loads(l) for l in f]
  train_nll = [r['nll_bits'] for r in rows if r['split'] == 'train']
  assert train_nll[-1] < train_nll[0] - 1.0  # bits/sample.


def test_checkpoint_of_another_model_is_refused(corpus, tmp_path):
  workdir = str(tmp_path / 'wd')
  train.train_and_evaluate(tiny_config(corpus, steps=2), workdir)
  other = tiny_config(corpus, steps=4)
  other.model.hidden = 48
  with pytest.raises(checkpoint.CheckpointError, match='model.hidden=32'):
    train.train_and_evaluate(other, workdir)


@pytest.mark.parametrize('section, key, value, match', [
    ('model', 'hidden', -4, 'hidden'),
    ('data', 'crop_samples', 100, 'multiple of mel.hop_length'),
    ('train', 'steps', 0, 'train.steps'),
    ('data', 'name', 'nope', 'data.name'),
    ('mel', 'fmax', 1e5, 'fmax'),
])
def test_bad_config_values_are_refused(section, key, value, match):
  config = wavernn.get_config('preset=tiny')
  config[section][key] = value
  with pytest.raises(config_checks.ConfigError, match=match):
    config_checks.validate(config)


def test_config_args_are_typed():
  config = wavernn.get_config('preset=tiny,hidden=64,conditional=false,'
                              'steps=7,ckpt_every=3,seed=5')
  assert (config.model.hidden, config.model.conditional, config.train.steps,
          config.train.ckpt_every, config.seed) == (64, False, 7, 3, 5)
  with pytest.raises(ValueError, match='hidden'):
    wavernn.get_config('hidden=big')
  with pytest.raises(ValueError, match='key=value'):
    wavernn.get_config('hiden=3')


def test_non_finite_loss_stops_with_the_step(corpus, tmp_path, monkeypatch):
  real = train.window_nll

  def poisoned(*args):
    loss, aux = real(*args)
    return loss * np.nan, aux

  monkeypatch.setattr(train, 'window_nll', poisoned)
  with pytest.raises(train.NonFiniteLossError, match='at step 1;'):
    train.train_and_evaluate(tiny_config(corpus, steps=3),
                             str(tmp_path / 'wd'))


def _leaves(tree):
  return jax.tree_util.tree_leaves(jax.device_get(tree))


def test_polyak_average_follows_its_recurrence_and_resumes(corpus, tmp_path):
  """ema_t = d_t ema_{t-1} + (1 - d_t) params_t, d_t = min(d, (1 + t) /
  (10 + t)), saved with every checkpoint, carried across a resume, sampled
  by default."""
  d = 0.75
  workdir = str(tmp_path / 'wd')
  config = tiny_config(corpus, steps=3, ckpt_every=1, ema_decay=d)
  train.train_and_evaluate(config, workdir)
  config.train.steps = 4  # Resumed: the average comes back, not the params.
  train.train_and_evaluate(config, workdir)
  ckpt = checkpoint.Checkpointer(workdir)
  assert ckpt.all_steps() == [2, 3, 4] and all(
      ckpt.has_ema(s) for s in (2, 3, 4))
  previous = _leaves(ckpt.restore_params(2))
  for step, d_t in ((3, 4 / 13), (4, 5 / 14)):  # Warm-up: (1+t)/(10+t) < d.
    assert float(train.ema_decay_at(d, step)) == pytest.approx(d_t)
    params = _leaves(ckpt.restore_params(step, average=False))
    ema = _leaves(ckpt.restore_params(step))
    for e, e_prev, p in zip(ema, previous, params):
      np.testing.assert_allclose(e, d_t * e_prev + (1 - d_t) * p, rtol=1e-5,
                                 atol=1e-6)
    assert not all(np.allclose(e, p) for e, p in zip(ema, params))
    previous = ema
  voc = vocoder_lib.Vocoder.restore(workdir)
  assert voc.averaged and not vocoder_lib.Vocoder.restore(
      workdir, average=False).averaged
  np.testing.assert_array_equal(voc.params['params']['R'],
                                ckpt.restore_params(4)['params']['R'])
  rows = [json.loads(l) for l in open(os.path.join(workdir, 'metrics.jsonl'))]
  assert all(np.isfinite(r['nll_bits_ema']) for r in rows
             if r['split'] == 'validation')


def test_polyak_decay_reaches_its_value_after_the_warm_up():
  assert float(train.ema_decay_at(0.999, 0)) == pytest.approx(0.1)
  assert float(train.ema_decay_at(0.999, 90)) == pytest.approx(0.91)
  assert float(train.ema_decay_at(0.999, 10**5)) == pytest.approx(0.999)


def test_polyak_average_of_a_pruned_model_is_as_sparse(corpus, tmp_path):
  config = tiny_config(corpus, steps=4, ema_decay=0.9)
  config.variant = 'sparse'
  config.sparsity.update(enabled=True, target=0.5, start_step=1,
                         ramp_steps=2, update_every=1)
  workdir = str(tmp_path / 'wd')
  train.train_and_evaluate(config, workdir)
  ckpt = checkpoint.Checkpointer(workdir)
  raw = ckpt.restore_params(average=False)['params']['R']
  ema = ckpt.restore_params()['params']['R']
  assert np.mean(raw == 0) > 0.4
  np.testing.assert_array_equal(ema == 0, raw == 0)
  assert not np.allclose(ema, raw)
