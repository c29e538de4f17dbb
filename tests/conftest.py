"""Shared test settings (CPU, float32 matmuls) and fixtures."""

import os

os.environ.setdefault('JAX_PLATFORMS', 'cpu')
# The suite's models are tiny, so XLA's compile time is most of its run time:
# compile with most optimisations off (JAX's own switch; subprocesses such
# as `launch.py` inherit it). What the tests check (agreement with NumPy and
# the XLA reference within float tolerance, draws, bit-for-bit streaming
# within one path) holds at any optimisation level; the benchmarks and
# users compile with them on. Measured: recipe_options_test 82.7 -> 50.6 s.
os.environ.setdefault('JAX_DISABLE_MOST_OPTIMIZATIONS', '1')

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

from wavernn_jax.utils import compile_cache  # pylint: disable=g-import-not-at-top

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
