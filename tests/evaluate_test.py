"""`evaluate.evaluate` on a folder of wavs, away from the training corpus."""

import os
import shutil

from tests import fake_corpus
from tests import tiny_training
from wavernn_jax import evaluate
from wavernn_jax import train


def test_wav_dir_scores_without_the_training_corpus(tmp_path):
  """A model evaluated on a machine that lacks its corpus: scored, with the
  linear-prediction baseline left out (null), not a failed dataset build."""
  corpus = str(tmp_path / 'corpus')
  fake_corpus.make_ljspeech(os.path.join(corpus, 'lj'))
  workdir = str(tmp_path / 'run')
  train.train_and_evaluate(
      tiny_training.config(corpus, steps=1, eval_every=1, ckpt_every=1),
      workdir)
  wavs = str(tmp_path / 'wavs')
  shutil.copytree(os.path.join(corpus, 'lj', 'wavs'), wavs)
  with_corpus = evaluate.evaluate(workdir, wavs)
  assert with_corpus['lpc_bits_per_sample'] > 0
  shutil.rmtree(corpus)  # Neither the audio nor its prepared dataset.
  without = evaluate.evaluate(workdir, wavs)
  assert without['lpc_bits_per_sample'] is None
  assert without['num_utterances'] == 24
  assert without['nll_bits_per_sample'] == with_corpus['nll_bits_per_sample']
