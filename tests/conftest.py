"""Shared test settings (CPU, float32 matmuls) and fixtures."""

import os

os.environ.setdefault('JAX_PLATFORMS', 'cpu')

import jax  # pylint: disable=g-import-not-at-top

jax.config.update('jax_default_matmul_precision', 'highest')


import pytest  # pylint: disable=g-import-not-at-top,g-bad-import-order

from tests import fake_corpus  # pylint: disable=g-import-not-at-top


@pytest.fixture(scope='module')
def corpus(tmp_path_factory):
  """A tiny LJSpeech-style corpus (wav_folder) made once per test module."""
  root = tmp_path_factory.mktemp('corpus')
  fake_corpus.make_ljspeech(str(root / 'lj'))
  return str(root)
