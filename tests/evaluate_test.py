"""`evaluate.evaluate` on a folder of wavs, away from the training corpus."""

import os
import shutil

import ml_collections
import numpy as np
import pytest

from tests import fake_corpus
from tests import tiny_training
from wavernn_jax import vocoder as vocoder_lib
from wavernn_jax.evaluation import evaluate
from wavernn_jax.training import input_pipeline
from wavernn_jax.training import train


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


def test_dataset_scores_another_corpus_with_its_own_baseline(
    tmp_path_factory, monkeypatch):
  """--dataset: the run's model on another dataset's split (a new voice),
  the linear-prediction reference fitted on that dataset's training split."""
  from data.asterisk_voices import asterisk_voices_dataset_builder as voices  # pylint: disable=g-import-not-at-top
  corpus, workdir = tiny_training.reference(tmp_path_factory)
  own = evaluate.evaluate(workdir, split='test')
  sounds, doc = fake_corpus.make_asterisk_voices(
      tmp_path_factory.mktemp('voices'), names=('ru',))
  monkeypatch.setattr(voices, 'SOUNDS_ROOT', str(sounds))
  monkeypatch.setattr(voices, 'DOC_ROOT', str(doc))
  ru = evaluate.evaluate(workdir, split='test', dataset='asterisk_voices/ru')
  assert ru['dataset'] == 'asterisk_voices/ru' and own['dataset'] == 'wav_folder'
  assert ru['num_utterances'] == 1 and ru['num_samples'] == 8000  # speech30
  # The other corpus's own utterance and reference: its NLL is the model's
  # log_prob of that utterance, and its LPC reference is not the run's.
  voc = vocoder_lib.Vocoder.restore(workdir)
  data_config = ml_collections.ConfigDict(voc.config.to_dict())
  data_config.data.update(name='asterisk_voices/ru', manual_dir='')
  utterance = np.asarray(
      input_pipeline.load_split(data_config, 'test')[0]['audio'])
  assert len(utterance) == 8000
  direct = evaluate.nll_bits_per_sample(voc, [utterance])
  assert ru['nll_bits_per_sample'] == pytest.approx(
      direct['nll_bits_per_sample'], abs=1e-4)
  assert ru['nll_bits_per_sample'] != own['nll_bits_per_sample']
  assert ru['lpc_bits_per_sample'] != own['lpc_bits_per_sample']
  del corpus
