"""The shell scripts: they parse, and none hides a failed copy."""

import glob
import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = sorted(
    os.path.relpath(p, ROOT) for pattern in ('*.sh', 'experiments/*/*.sh',
                                             '.ci/run')
    for p in glob.glob(os.path.join(ROOT, pattern)))
# A copy or move whose failure is thrown away: stderr to /dev/null, or a
# `|| true` that turns its exit status into success.
_HIDDEN = re.compile(r'^\s*(cp|mv)\b.*(2>\s*/dev/null|\|\|\s*true)')


def test_the_scripts_are_found():
  assert {'run_demo.sh', 'run_tests.sh', 'setup_env.sh',
          'experiments/tools/long_run.sh',
          'experiments/tools/sweep_run.sh'} <= set(SCRIPTS)


@pytest.mark.parametrize('script', SCRIPTS)
def test_parses_and_does_not_hide_a_failed_copy(script):
  path = os.path.join(ROOT, script)
  proc = subprocess.run(['bash', '-n', path], capture_output=True, text=True)
  assert proc.returncode == 0, proc.stderr
  with open(path) as f:
    lines = f.read().splitlines()
  hidden = [f'{script}:{i}: {l.strip()}' for i, l in enumerate(lines, 1)
            if _HIDDEN.search(l)]
  assert not hidden, hidden
  if lines[0].startswith('#!'):  # Run, not sourced: a failed pipe stops it.
    assert any(re.match(r'\s*set -[a-z]*u[a-z]*o pipefail', l)
               for l in lines), f'{script} does not set -uo pipefail'
