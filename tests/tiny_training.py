"""A tiny training run, in-process or through `launch.py`, and its record.

Shared by the scale-out and resume tests: the same config either way, so a
subprocess run (other device counts, several processes, a kill) can be
compared with an in-process reference step by step.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile

import jax
import numpy as np

from experiments.configs import wavernn
from tests import fake_corpus
from wavernn_jax.training import checkpoint

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The reference run: train.steps, and checkpoints every step (so a kill has
# many saves to land in). The LR schedule depends on `steps`: runs compared
# with it must use the same; the other train settings do not matter.
STEPS = 8
REFERENCE_TRAIN = dict(steps=STEPS, ckpt_every=1, log_every=1,
                       eval_every=100)
# Subprocess runs share compiled programs (a restart recompiles nothing).
COMPILE_CACHE = os.path.join(tempfile.gettempdir(),
                             'wavernn_jax_tests_compile_cache')
_REFERENCE = {}


def reference(tmp_path_factory) -> tuple[str, str]:
  """(corpus root, workdir of the reference run), made once per session.

  The reference trains in this process, on one device, for STEPS steps.
  """
  if not _REFERENCE:
    from wavernn_jax.training import train  # pylint: disable=g-import-not-at-top
    corpus = str(tmp_path_factory.mktemp('tiny_training'))
    fake_corpus.make_ljspeech(os.path.join(corpus, 'lj'))
    workdir = os.path.join(corpus, 'reference')
    train.train_and_evaluate(config(corpus, **REFERENCE_TRAIN), workdir)
    _REFERENCE.update(corpus=corpus, workdir=workdir)
  return _REFERENCE['corpus'], _REFERENCE['workdir']


def config(corpus: str, **train):
  """The tiny preset on the corpus, with train.<key> overrides."""
  c = wavernn.get_config('preset=tiny')
  c.data.name = 'wav_folder'
  c.data.manual_dir = os.path.join(corpus, 'lj')
  c.data.data_dir = os.path.join(corpus, 'tfds')
  c.train.update(train)
  return c


def launch_command(corpus: str, workdir: str, *flags, **train) -> list[str]:
  """`python launch.py ...` training the same config as `config`."""
  return [sys.executable, 'launch.py',
          '--config=experiments/configs/wavernn.py:preset=tiny',
          '--config.data.name=wav_folder',
          f'--config.data.manual_dir={os.path.join(corpus, "lj")}',
          f'--config.data.data_dir={os.path.join(corpus, "tfds")}',
          *[f'--config.train.{k}={v}' for k, v in train.items()],
          f'--workdir={workdir}', *flags]


def start(command: list[str], devices: int = 1) -> subprocess.Popen:
  """Starts `command` in the repo root on `devices` CPU devices.

  Its stderr goes to a temporary file (a pipe could fill and block it):
  `log_tail(proc)` reads it.
  """
  env = dict(os.environ, JAX_PLATFORMS='cpu',
             XLA_FLAGS=f'--xla_force_host_platform_device_count={devices}',
             JAX_COMPILATION_CACHE_DIR=COMPILE_CACHE,
             JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS='0')
  log = tempfile.TemporaryFile('w+')
  proc = subprocess.Popen(command, cwd=ROOT, env=env, text=True,
                          stdout=subprocess.DEVNULL, stderr=log)
  proc.log = log
  return proc


def log_tail(proc: subprocess.Popen, chars: int = 3000) -> str:
  proc.log.seek(0)
  return proc.log.read()[-chars:]


def finish(proc: subprocess.Popen, timeout: float = 400) -> None:
  """Waits for `proc`; raises with its stderr tail if it failed."""
  proc.wait(timeout=timeout)
  if proc.returncode:
    raise AssertionError(f'exit {proc.returncode}:\n{log_tail(proc)}')


def free_port() -> int:
  with socket.socket() as s:
    s.bind(('127.0.0.1', 0))
    return s.getsockname()[1]


def train_rows(workdir: str) -> list[dict]:
  """The 'train' rows of a workdir's metrics.jsonl, in file order."""
  path = os.path.join(workdir, 'metrics.jsonl')
  if not os.path.exists(path):
    return []
  with open(path) as f:
    rows = []
    for line in f:
      try:
        rows.append(json.loads(line))
      except json.JSONDecodeError:  # A line being written right now.
        pass
  return [r for r in rows if r['split'] == 'train']


def assert_same_training(reference: str, other: str, rtol: float = 1e-5):
  """Same steps logged once each, same losses, same final parameters."""
  ref, got = train_rows(reference), train_rows(other)
  assert [r['step'] for r in got] == [r['step'] for r in ref]
  np.testing.assert_allclose([r['loss'] for r in got],
                             [r['loss'] for r in ref], rtol=rtol)
  a = checkpoint.Checkpointer(reference).restore_params()
  b = checkpoint.Checkpointer(other).restore_params()
  assert (jax.tree_util.tree_structure(a) ==
          jax.tree_util.tree_structure(b))  # The same parameters, by name.
  for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
    np.testing.assert_allclose(np.asarray(y), np.asarray(x), rtol=rtol,
                               atol=1e-6)
