"""Shared test settings (CPU, float32 matmuls) and fixtures."""

import os

os.environ.setdefault('JAX_PLATFORMS', 'cpu')

import tempfile  # pylint: disable=g-import-not-at-top

# One persistent compile cache for the whole run, new each run: the same
# tiny model compiled by several tests, xdist workers and `launch.py`
# subprocesses (they inherit the variable) is compiled once. A run of the
# suite never reads another run's entries.
if 'WAVERNN_JAX_COMPILE_CACHE' not in os.environ:
  import atexit  # pylint: disable=g-import-not-at-top
  import shutil  # pylint: disable=g-import-not-at-top
  os.environ['WAVERNN_JAX_COMPILE_CACHE'] = tempfile.mkdtemp(
      prefix='wavernn_jax_test_cache_')
  # The process that made it (pytest, or xdist's controller) removes it.
  atexit.register(shutil.rmtree, os.environ['WAVERNN_JAX_COMPILE_CACHE'],
                  ignore_errors=True)

import jax  # pylint: disable=g-import-not-at-top

from wavernn_jax import compile_cache  # pylint: disable=g-import-not-at-top

jax.config.update('jax_default_matmul_precision', 'highest')
compile_cache.enable()


import pytest  # pylint: disable=g-import-not-at-top,g-bad-import-order

from tests import fake_corpus  # pylint: disable=g-import-not-at-top


@pytest.fixture(scope='module')
def corpus(tmp_path_factory):
  """A tiny LJSpeech-style corpus (wav_folder) made once per test module."""
  root = tmp_path_factory.mktemp('corpus')
  fake_corpus.make_ljspeech(str(root / 'lj'))
  return str(root)
