"""experiments/tools/data_pack.py: packed splits read as the dataset reads."""

import os
import sys

import numpy as np
import pytest

from experiments.configs import wavernn
from experiments.tools import data_pack
import wavernn_jax.training
from wavernn_jax.training import input_pipeline


def _config(corpus, tmp_path):
  config = wavernn.get_config('preset=tiny')
  config.data.update(name='wav_folder', manual_dir=os.path.join(corpus, 'lj'),
                     data_dir=str(tmp_path / 'tfds'))
  return config


def test_packs_hold_the_dataset_and_feed_the_pipeline(corpus, tmp_path,
                                                        monkeypatch):
  config = _config(corpus, tmp_path)
  folder = str(tmp_path / 'packs')
  data_pack.export(folder, config, ('train', 'validation'))
  source = input_pipeline.load_split(config, 'train')
  # The packs stand in for the dataset module (restored after the test).
  monkeypatch.setitem(sys.modules, 'wavernn_jax.training.datasets', None)
  monkeypatch.setattr(wavernn_jax.training, 'datasets', None,
                      raising=False)
  data_pack.use_packs(folder)
  packed = input_pipeline.load_split(config, 'train')
  assert isinstance(packed, data_pack.Pack)
  assert len(packed) == len(source) > 1
  for i in range(len(source)):
    np.testing.assert_array_equal(packed[i]['audio'], source[i]['audio'])
    assert packed[i]['id'] == source[i]['id']
  # Training batches from the packs equal those from the dataset.
  config.data.batch_size = 2
  a = next(input_pipeline.train_batches(source, config))
  b = next(input_pipeline.train_batches(packed, config))
  np.testing.assert_array_equal(a, b)
  with pytest.raises(ValueError, match='no pack .*test.npz'):
    input_pipeline.load_split(config, 'test')
