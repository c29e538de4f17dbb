"""One writer per workdir (issue 39): a live run holds it, a second writer is
refused in one line naming it, and a killed run's lock does not block."""

import os
import signal
import subprocess
import sys

import pytest

from wavernn_jax.training import workdir_lock

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = sys.executable

# A process that holds the workdir like a training run, until killed.
_HOLDER = """
import sys, time
from wavernn_jax.training import workdir_lock
with workdir_lock.hold(sys.argv[1]):
  print('held', flush=True)
  time.sleep(600)
"""


def _start_holder(workdir):
  proc = subprocess.Popen([PYTHON, '-c', _HOLDER, str(workdir)], cwd=ROOT,
                          stdout=subprocess.PIPE, text=True,
                          env=dict(os.environ, PYTHONPATH=ROOT))
  assert proc.stdout.readline().strip() == 'held'
  return proc


def test_a_second_launch_is_refused_in_one_line_and_a_killed_run_resumes(
    tmp_path):
  work = tmp_path / 'run'
  holder = _start_holder(work)
  try:
    assert workdir_lock.holder(str(work))['pid'] == holder.pid
    # A real second writer: launch.py training on the same workdir.
    second = subprocess.run(
        [PYTHON, 'launch.py', '--config=experiments/configs/wavernn.py:'
         'preset=tiny', f'--workdir={work}'], cwd=ROOT, capture_output=True,
        text=True, timeout=300)
    assert second.returncode == 1
    lines = second.stderr.strip().splitlines()
    assert lines[-1].startswith('error: ') and f'pid {holder.pid}' in lines[-1]
    assert 'Traceback' not in second.stderr
    assert not (work / 'checkpoints').exists()  # Nothing half-written.
  finally:
    holder.send_signal(signal.SIGKILL)  # kill -9: no clean-up runs.
    holder.wait()
  # The dead run's file still names it, but its lock went with it.
  assert workdir_lock.holder(str(work))['pid'] == holder.pid
  again = _start_holder(work)
  try:
    assert workdir_lock.holder(str(work))['pid'] == again.pid
  finally:
    again.kill()
    again.wait()


def test_the_lock_is_per_holder_and_released_on_exit(tmp_path):
  with workdir_lock.hold(str(tmp_path)):
    assert workdir_lock.holder(str(tmp_path))['pid'] == os.getpid()
    # A second holder in the same process is a second writer too.
    with pytest.raises(workdir_lock.WorkdirBusyError, match=str(os.getpid())):
      with workdir_lock.hold(str(tmp_path)):
        pass
  assert workdir_lock.holder(str(tmp_path)) is None  # Released: no holder.
  with workdir_lock.hold(str(tmp_path)):  # Free again.
    pass
  with workdir_lock.hold(str(tmp_path), primary=False):  # Other hosts.
    assert workdir_lock.holder(str(tmp_path)) is None
