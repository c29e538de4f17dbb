"""The metrics history of a workdir: `metrics.jsonl`, one JSON row per log.

Rows are appended as training goes (`{'step': ..., 'split': ..., ...}`).
A run killed between two checkpoints has logged rows past the checkpoint it
resumes from; `truncate` drops them, so the file always describes the one
trajectory the checkpoints continue, with no step logged twice.
"""

import json
import os


def truncate(path: str, last_step: int) -> int:
  """Drops the rows logged after `last_step` (atomically); returns how many.

  A torn last line (the writer was killed mid-row) is dropped as well.

  Args:
    path: the metrics.jsonl file (absent: nothing to do).
    last_step: the step training resumes from.

  Returns:
    The number of rows dropped.
  """
  if not os.path.exists(path):
    return 0
  kept, dropped = [], 0
  for row in rows(path):
    if row is None or row.get('step', 0) > last_step:
      dropped += 1
    else:
      kept.append(json.dumps(row) + '\n')
  if dropped:
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
      f.writelines(kept)
    os.replace(tmp, path)  # A kill here leaves the old or the new file.
  return dropped


def rows(path: str):
  """Yields each row of the file in order; None for a line that does not
  parse (a torn last line: the writer was killed mid-row). An absent file
  has no rows."""
  if not os.path.exists(path):
    return
  with open(path) as f:
    for line in f:
      try:
        yield json.loads(line)
      except json.JSONDecodeError:
        yield None


def last_value(path: str, key: str, default: float = 0.0) -> float:
  """The last row's `key` in the file (e.g. the wall time trained so far).

  A torn line is skipped, as `truncate` drops it.
  """
  value = default
  for row in rows(path):
    if row is not None:
      value = row.get(key, value)
  return value
