"""Preemption: kill -9 at any moment, restart, and the run is unchanged."""

import glob
import json
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tests import tiny_training
from wavernn_jax.training import checkpoint
from wavernn_jax.training import train
from wavernn_jax.utils import history


@pytest.fixture(scope='module')
def reference(tmp_path_factory):
  return tiny_training.reference(tmp_path_factory)


def _wait_for_step(proc, workdir: str, step: int, timeout: float = 300):
  """Waits until `step` is logged; returns the last logged step."""
  deadline = time.time() + timeout
  while time.time() < deadline:
    rows = tiny_training.train_rows(workdir)
    if rows and rows[-1]['step'] >= step:
      return rows[-1]['step']
    if proc.poll() is not None:
      raise AssertionError(
          f'exited early:\n{tiny_training.log_tail(proc)}')
    time.sleep(0.02)
  raise AssertionError(f'step {step} not logged within {timeout} s')


def test_sigkill_during_a_save_then_restart_matches_uninterrupted(
    reference, tmp_path):
  corpus, uninterrupted = reference
  workdir = str(tmp_path / 'wd')
  command = tiny_training.launch_command(corpus, workdir,
                                         **tiny_training.REFERENCE_TRAIN)
  # The worst moment: during a checkpoint save (a random point in it), after
  # that step was logged. Checkpoints are saved every step here.
  seed = random.randrange(1 << 30)
  rng = random.Random(seed)
  kill_after = rng.randint(1, tiny_training.STEPS - 3)
  proc = tiny_training.start(command)
  _wait_for_step(proc, workdir, kill_after)
  steps_dir = os.path.join(workdir, 'checkpoints')
  while not any('tmp' in d for d in os.listdir(steps_dir)):
    assert proc.poll() is None, f'seed {seed}: finished before the kill'
    time.sleep(0.001)
  time.sleep(rng.uniform(0.0, 0.03))
  proc.kill()
  proc.wait()
  saved = checkpoint.Checkpointer(workdir).latest_step()
  logged = tiny_training.train_rows(workdir)[-1]['step']
  note = (f'seed {seed}: killed after step {logged}, last complete '
          f'checkpoint {saved}, checkpoints/: {sorted(os.listdir(steps_dir))}')
  # A save cut short is not picked up (None: killed in the first save).
  torn = [int(d.split('.')[0]) for d in os.listdir(steps_dir) if 'tmp' in d]
  assert saved is None or (saved <= logged and saved < min(torn, default=1e9)
                           ), note

  tiny_training.finish(tiny_training.start(command))
  assert not [d for d in os.listdir(steps_dir) if 'tmp' in d], note
  try:
    tiny_training.assert_same_training(uninterrupted, workdir)
  except AssertionError as e:
    raise AssertionError(f'{note}\n{e}') from None


def test_sigterm_saves_then_stops(reference, tmp_path):
  corpus, _ = reference
  workdir = str(tmp_path / 'wd')
  proc = tiny_training.start(tiny_training.launch_command(
      corpus, workdir, steps=1000, ckpt_every=1000, eval_every=1000))
  _wait_for_step(proc, workdir, 2)
  proc.send_signal(signal.SIGTERM)
  tiny_training.finish(proc)  # Exit status 0.
  last = tiny_training.train_rows(workdir)[-1]['step']
  assert 2 <= last < 1000
  assert checkpoint.Checkpointer(workdir).latest_step() == last


def test_half_written_checkpoint_is_ignored_then_deleted(reference, tmp_path):
  _, uninterrupted = reference
  workdir = str(tmp_path / 'wd')
  shutil.copytree(uninterrupted, workdir)
  steps = os.path.join(workdir, 'checkpoints')
  last = tiny_training.STEPS
  # What a kill during orbax's save of a later step leaves: a temporary
  # directory, with part of the files.
  torn = os.path.join(steps, f'{last + 1}.orbax-checkpoint-tmp-1234')
  shutil.copytree(os.path.join(steps, str(last)), torn)
  shutil.rmtree(os.path.join(torn, 'meta'))
  assert checkpoint.Checkpointer(workdir).latest_step() == last
  assert os.path.isdir(torn)  # A reader (evaluate, vocode) leaves it alone.
  ckpt = checkpoint.Checkpointer(workdir, cleanup=True)  # As training does.
  ckpt.save(last + 1, {'x': np.zeros(2)}, {})  # Orbax deletes before saving.
  assert not os.path.exists(torn)


def test_damaged_latest_checkpoint_resumes_from_the_previous_one(
    reference, tmp_path, caplog):
  corpus, uninterrupted = reference
  workdir = str(tmp_path / 'wd')
  shutil.copytree(uninterrupted, workdir)
  last = tiny_training.STEPS
  # Damaged after it was complete (a bad disk): 4 KB of its largest array
  # file zeroed.
  arrays = glob.glob(os.path.join(workdir, 'checkpoints', str(last), 'state',
                                  'ocdbt.process_0', 'd', '*'))
  with open(max(arrays, key=os.path.getsize), 'r+b') as f:
    f.write(bytes(4096))
  assert checkpoint.Checkpointer(workdir).latest_step() == last
  caplog.set_level(logging.WARNING)
  train.train_and_evaluate(
      tiny_training.config(corpus, **tiny_training.REFERENCE_TRAIN), workdir)
  assert (f'Checkpoint step {last} is damaged' in caplog.text and
          f'resuming from step {last - 1}' in caplog.text), caplog.text
  # Set aside, not deleted; then step `last` trained and saved again.
  assert os.path.isdir(os.path.join(workdir, 'checkpoints', 'damaged',
                                    str(last)))
  assert checkpoint.Checkpointer(workdir).latest_step() == last
  tiny_training.assert_same_training(uninterrupted, workdir)


def test_history_drops_rows_after_the_resumed_step(tmp_path):
  path = str(tmp_path / 'metrics.jsonl')
  rows = [dict(step=s, split=sp, loss=1.0) for s in (1, 2, 3)
          for sp in ('train', 'validation')]
  with open(path, 'w') as f:
    f.writelines(json.dumps(r) + '\n' for r in rows)
    f.write('{"step": 4, "spl')  # Torn by a kill mid-write.
  assert history.truncate(path, 2) == 3
  with open(path) as f:
    assert [json.loads(l) for l in f] == rows[:4]
  assert history.truncate(path, 2) == 0
  assert history.truncate(str(tmp_path / 'absent.jsonl'), 0) == 0


_TORN_WRITER = r'''
import json, os, signal, sys
with open(sys.argv[1], 'a') as f:
  for step in (1, 2):
    f.write(json.dumps(dict(step=step, train_cpu_seconds=10.0 * step)) + '\n')
  f.write('{"step": 3, "train_cpu_sec')
  f.flush()
  os.kill(os.getpid(), signal.SIGKILL)  # Killed mid-row.
'''


def test_last_value_reads_past_a_row_torn_by_a_kill(tmp_path):
  """A process killed while writing a row leaves a torn last line:
  `last_value` (the CPU seconds a resumed run has spent) skips it, as
  `truncate` drops it, instead of failing on the JSON."""
  path = str(tmp_path / 'metrics.jsonl')
  proc = subprocess.run([sys.executable, '-c', _TORN_WRITER, path])
  assert proc.returncode == -signal.SIGKILL
  with open(path) as f:
    assert f.read().endswith('"train_cpu_sec')
  assert history.last_value(path, 'train_cpu_seconds') == 20.0
  assert history.last_value(path, 'absent', default=-1.0) == -1.0
  assert history.truncate(path, 2) == 1
  assert history.last_value(path, 'train_cpu_seconds') == 20.0
