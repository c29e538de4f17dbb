"""The persistent compilation cache: a second launch.py call compiles nothing."""

import json
import os
import subprocess
import sys

import numpy as np

from tests import tiny_training
from wavernn_jax.training import train
from wavernn_jax.utils import audio_io
from wavernn_jax.utils import compile_cache


def _vocode(workdir, clip, out, cache) -> dict:
  env = dict(os.environ, JAX_PLATFORMS='cpu')
  env.pop('WAVERNN_JAX_COMPILE_CACHE', None)
  proc = subprocess.run(
      [sys.executable, 'launch.py', '--mode=vocode', f'--workdir={workdir}',
       f'--input={clip}', f'--output={out}', f'--compile_cache={cache}'],
      cwd=tiny_training.ROOT, env=env, capture_output=True, text=True,
      timeout=600, check=False)
  assert proc.returncode == 0, proc.stderr[-3000:]
  return json.loads(proc.stdout.strip().splitlines()[-1])


def test_second_call_loads_and_a_changed_model_compiles(tmp_path_factory,
                                                        tmp_path):
  corpus, workdir = tiny_training.reference(tmp_path_factory)
  clip = str(tmp_path / 'in.wav')
  audio_io.write_wav(clip, (np.sin(np.arange(3000) * 0.05) * 8000).astype(
      np.int16), 16000)
  cache = str(tmp_path / 'cache')
  cold = _vocode(workdir, clip, str(tmp_path / 'a.wav'), cache)
  assert cold['compile_cache_dir'] == cache
  assert cold['compile_cache_writes'] > 0 and cold['compile_cache_hits'] == 0
  warm = _vocode(workdir, clip, str(tmp_path / 'b.wav'), cache)
  assert warm['compile_cache_writes'] == 0
  assert warm['compile_cache_hits'] == cold['compile_cache_writes']
  # Same executables: the same audio (same seed).
  a = audio_io.read_audio(str(tmp_path / 'a.wav'), 16000)
  b = audio_io.read_audio(str(tmp_path / 'b.wav'), 16000)
  np.testing.assert_array_equal(a, b)
  # Another model (H = 48): compiled again, not loaded.
  other = str(tmp_path / 'other')
  c = tiny_training.config(corpus, steps=1, eval_every=1, ckpt_every=1)
  c.model.hidden = 48
  train.train_and_evaluate(c, other)
  changed = _vocode(other, clip, str(tmp_path / 'c.wav'), cache)
  assert changed['compile_cache_writes'] > 0


def test_folder_order(monkeypatch, tmp_path):
  monkeypatch.delenv(compile_cache.ENV, raising=False)
  monkeypatch.delenv('JAX_COMPILATION_CACHE_DIR', raising=False)
  monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path))
  assert compile_cache.default_dir() == str(tmp_path / 'wavernn_jax' / 'xla')
  monkeypatch.setenv('JAX_COMPILATION_CACHE_DIR', '/j')
  assert compile_cache.default_dir() == '/j'
  monkeypatch.setenv(compile_cache.ENV, '/w')
  assert compile_cache.default_dir() == '/w'
  assert compile_cache.enable('') is None  # Off.
