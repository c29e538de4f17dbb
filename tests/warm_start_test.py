"""Warm start (`train.init_from`): another run's params initialise a new
run; a layer that gained inputs (model.pitch) starts with them switched
off, so the new model computes what the source did."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.tiny_training import config as tiny_config
from wavernn_jax import vocoder as vocoder_lib
from wavernn_jax.training import checkpoint
from wavernn_jax.training import train


def test_warm_start_params_by_hand():
  new = {'params': {'a': jnp.full((2, 3), 7.0), 'b': jnp.full((3,), 5.0),
                    'conv': {'kernel': jnp.full((1, 3, 2), 9.0)}}}
  source = {'params': {'a': jnp.arange(6.0).reshape(2, 3),
                       'conv': {'kernel': jnp.ones((1, 2, 2))}}}
  out = train.warm_start_params(new, source)
  np.testing.assert_array_equal(out['params']['a'], source['params']['a'])
  np.testing.assert_array_equal(out['params']['b'], [5.0, 5.0, 5.0])  # Init.
  # Gained an input row: the source's rows, then zeros (not the init's 9).
  np.testing.assert_array_equal(out['params']['conv']['kernel'],
                                [[[1, 1], [1, 1], [0, 0]]])


@pytest.mark.parametrize('source', [
    {'params': {'c': jnp.ones(2)}},  # A param the model lacks.
    {'params': {'a': jnp.ones((3, 3))}},  # Larger than the model's.
    {'params': {'a': jnp.ones(2)}},  # Another rank.
])
def test_warm_start_params_refuses_what_does_not_fit(source):
  new = {'params': {'a': jnp.zeros((2, 3))}}
  with pytest.raises(checkpoint.CheckpointError) as e:
    train.warm_start_params(new, source)
  assert '\n' not in str(e.value) and 'init_from' in str(e.value)


def test_warm_start_adds_pitch_and_keeps_the_model(corpus, tmp_path):
  src = str(tmp_path / 'src')
  train.train_and_evaluate(tiny_config(corpus, steps=3), src)
  before = vocoder_lib.Vocoder.restore(src)

  config = tiny_config(corpus, steps=2, init_from=src, learning_rate=1e-4,
                       warmup_steps=1)
  config.model.pitch = True
  fresh = vocoder_lib.Vocoder.from_config(config)
  after = vocoder_lib.Vocoder(
      config, train.warm_start_params(fresh.params, before.params))
  rng = np.random.default_rng(0)
  audio = (rng.normal(size=(1, 8 * before.hop_length)) * 3000).astype(
      np.int16)
  mel = before.mel(audio.astype(np.float32) / 32768)
  # The pitch inputs start switched off: the same ln-probs as the source.
  np.testing.assert_allclose(after.log_prob(audio, mel),
                             before.log_prob(audio, mel), rtol=1e-5,
                             atol=1e-5)
  assert not np.allclose(fresh.log_prob(audio, mel),
                         before.log_prob(audio, mel), atol=1e-2)

  # Through training: two small steps (the first at LR 0) away from the source, not from a
  # fresh init, and the pitch inputs start learning.
  dst = str(tmp_path / 'dst')
  train.train_and_evaluate(config, dst)
  trained = checkpoint.Checkpointer(dst).restore_params(2, average=False)
  r_src = np.asarray(before.params['params']['R'])
  assert np.abs(np.asarray(trained['params']['R']) - r_src).max() < 1e-3
  kernel = np.asarray(trained['params']['conditioner']['conv0']['kernel'])
  n_mels = config.mel.n_mels
  assert np.abs(kernel[:, n_mels:]).max() > 0


def test_warm_start_from_nothing_is_one_line(corpus, tmp_path):
  config = tiny_config(corpus, steps=1, init_from=str(tmp_path / 'none'))
  with pytest.raises(checkpoint.CheckpointError) as e:
    train.train_and_evaluate(config, str(tmp_path / 'dst'))
  assert '\n' not in str(e.value) and 'none' in str(e.value)
