"""Fine-tuning (`experiments/configs/finetune.py`): a trained model's own
config and params, trained further on another voice's folder."""

import os
import subprocess
import sys

import numpy as np
import pytest

from experiments.configs import finetune
from tests import fake_corpus
from tests import tiny_training
from wavernn_jax import vocoder as vocoder_lib
from wavernn_jax.training import checkpoint
from wavernn_jax.training import train


@pytest.fixture(scope='module')
def source_and_voice(tmp_path_factory):
  """The tiny reference run, and a folder of another 'voice'."""
  corpus, workdir = tiny_training.reference(tmp_path_factory)
  voice = str(tmp_path_factory.mktemp('voice') / 'lj')
  fake_corpus.make_ljspeech(voice, n=20, seed=7)
  return workdir, voice


def test_config_is_the_source_model_on_the_new_data(source_and_voice):
  src, voice = source_and_voice
  stored = checkpoint.latest_config(src)
  c = finetune.get_config(f'from={src},wavs={voice}')
  assert c.model.to_dict() == stored['model']
  assert c.mel.to_dict() == stored['mel']
  assert (c.data.name, c.data.manual_dir, c.data.batch_size) == (
      'wav_folder', voice, 8)
  assert c.train.init_from == src and c.train.learning_rate == 3e-4
  assert c.train.max_cpu_seconds == 1800
  scratch = finetune.get_config(f'from={src},wavs={voice},scratch=true,lr=1e-4')
  assert scratch.train.init_from == '' and scratch.train.learning_rate == 1.5e-3
  assert scratch.model.to_dict() == stored['model']
  other = finetune.get_config(f'from={src},data=asterisk_voices/fr')
  assert (other.data.name, other.data.manual_dir) == ('asterisk_voices/fr', '')


@pytest.mark.parametrize('arg, message', [
    ('wavs=x', 'needs from='),
    ('from=SRC', 'one of wavs='),
    ('from=SRC,wavs=x,data=asterisk_voices/fr', 'one of wavs='),
])
def test_config_without_source_or_data_says_what_is_missing(
    source_and_voice, arg, message):
  with pytest.raises(ValueError, match=message):
    finetune.get_config(arg.replace('SRC', source_and_voice[0]))


def test_fine_tune_starts_from_the_source_and_moves(source_and_voice,
                                                    tmp_path):
  src, voice = source_and_voice
  c = finetune.get_config(f'from={src},wavs={voice}')
  c.data.data_dir = str(tmp_path / 'tfds')
  c.train.update(steps=3, warmup_steps=1, max_cpu_seconds=0.0, eval_every=100,
                 sample_seconds=0.05)
  dst = str(tmp_path / 'ft')
  train.train_and_evaluate(c, dst)
  source = vocoder_lib.Vocoder.restore(src).params['params']['R']
  trained = checkpoint.Checkpointer(dst).restore_params(3, average=False)
  step = np.abs(np.asarray(trained['params']['R']) - np.asarray(source))
  # Adam's first steps move each weight by at most ~lr = 3e-4: it starts at
  # the source, not at a fresh init, and it trains.
  assert 0 < step.max() < 3 * 3e-4 * 1.01


def test_launch_without_a_source_is_one_line(source_and_voice):
  out = subprocess.run(
      [sys.executable, 'launch.py',
       f'--config=experiments/configs/finetune.py:wavs={source_and_voice[1]}',
       '--workdir=/tmp/unused_ft'], cwd=tiny_training.ROOT,
      capture_output=True, text=True, timeout=120)
  assert out.returncode != 0
  lines = out.stderr.strip().splitlines()
  assert len(lines) == 1 and lines[0].startswith('error: ') and (
      'from=' in lines[0]), out.stderr
  assert not os.path.exists('/tmp/unused_ft')
