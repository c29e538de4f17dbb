"""One writer per workdir: a training run holds its workdir while it lives.

A second run started on a workdir that a live run is writing would trip over
the first run's temporary checkpoint files or, started between two saves,
train beside it on the same files. `hold` takes an exclusive `fcntl.flock`
on WORKDIR/.lock and writes who holds it (host, pid, start time) into the
file. The operating system drops the lock when the process ends, however it
ends (kill -9 included), so a killed run's file never blocks its resume: the
next run takes the lock and writes itself in. Readers (evaluate, vocode,
`Vocoder.restore`) take no lock and may read a live workdir.

In a multi-host job only process 0 holds it: one lock for the job.
"""

import contextlib
import fcntl
import json
import os
import socket
import time

from wavernn_jax.utils import errors

LOCK_FILE = '.lock'


class WorkdirBusyError(errors.UserError):
  """Another live process is training in the workdir."""


def holder(workdir: str) -> dict | None:
  """Who last wrote itself into WORKDIR/.lock ({host, pid, since}); None if
  nobody did (or the file is unreadable). Whether it still holds the lock is
  for `hold` to find out."""
  try:
    with open(os.path.join(workdir, LOCK_FILE)) as f:
      who = json.load(f)
  except (OSError, ValueError):
    return None
  return who if isinstance(who, dict) else None


def _describe(who: dict | None) -> str:
  if not who:
    return 'another process'
  return (f"pid {who.get('pid', '?')} on host {who.get('host', '?')} "
          f"(since {who.get('since', '?')})")


@contextlib.contextmanager
def hold(workdir: str, primary: bool = True):
  """Holds WORKDIR/.lock for the duration of the block.

  Args:
    workdir: the run's folder (created if missing).
    primary: whether this process takes the lock (False: the other hosts
      of a multi-host job, which the primary's lock covers).

  Raises:
    WorkdirBusyError: a live process holds the workdir; one line naming it.
  """
  if not primary:
    yield
    return
  os.makedirs(workdir, exist_ok=True)
  path = os.path.join(workdir, LOCK_FILE)
  fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
  try:
    try:
      fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      raise WorkdirBusyError(
          f'{workdir} is being trained by {_describe(holder(workdir))}; wait '
          'for that run to end or stop it, or train in another --workdir '
          '(evaluate and vocode may read it meanwhile).') from None
    me = dict(host=socket.gethostname(), pid=os.getpid(),
              since=time.strftime('%Y-%m-%d %H:%M:%S'))
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(me) + '\n').encode(), 0)
    try:
      yield
    finally:
      os.ftruncate(fd, 0)  # Nobody holds it now.
  finally:
    os.close(fd)  # Releases the lock.
