"""requirements.lock agrees with setup.cfg and .venv/; a bad lock is caught."""

import importlib.util
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCK = os.path.join(ROOT, 'requirements.lock')
SETUP_CFG = os.path.join(ROOT, 'setup.cfg')
VENV_PYTHON = os.path.join(ROOT, '.venv', 'bin', 'python')

_spec = importlib.util.spec_from_file_location(
    'check_lock', os.path.join(ROOT, '.ci', 'check_lock.py'))
check_lock = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_lock)


@pytest.fixture(name='installed', scope='module')
def fixture_installed():
  if not os.path.exists(VENV_PYTHON):
    pytest.skip('no .venv/: run ./setup_env.sh')
  return check_lock.installed_versions(VENV_PYTHON)


def _edit_lock(tmp_path, edit):
  with open(LOCK) as f:
    lines = [edit(line) for line in f]
  path = tmp_path / 'requirements.lock'
  path.write_text(''.join(l for l in lines if l is not None))
  return str(path)


def test_real_venv_matches_the_lock(installed):
  python_version = check_lock.venv_python_version(VENV_PYTHON)
  assert check_lock.check(SETUP_CFG, LOCK, installed, python_version) == []
  pins, lock_python, errors = check_lock.read_lock(LOCK)
  assert lock_python == python_version and not errors
  assert {'jax', 'flax', 'librosa', 'pytest'} <= set(pins)


def test_pin_below_setup_cfg_bound_is_reported(tmp_path):
  lock = _edit_lock(tmp_path, lambda l: 'jax==0.4.30\n'
                    if l.startswith('jax==') else l)
  (error,) = check_lock.check(SETUP_CFG, lock)
  assert error.startswith('error: setup.cfg (install_requires) requires '
                          'jax>=0.7 but requirements.lock pins jax==0.4.30; ')
  assert 'uv pip compile setup.cfg' in error


def test_unpinned_requirement_is_reported(tmp_path):
  lock = _edit_lock(tmp_path, lambda l: None if l.startswith('librosa==')
                    else l)
  (error,) = check_lock.check(SETUP_CFG, lock)
  assert error.startswith('error: setup.cfg (extra test) requires '
                          'librosa>=0.10 but requirements.lock does not pin '
                          'librosa; ')


def test_venv_differing_from_lock_is_reported(tmp_path, installed):
  lock = _edit_lock(tmp_path, lambda l: 'zipp==0.1\n'
                    if l.startswith('zipp==') else l)
  venv = dict(installed, soundfile='0.0.1')
  del venv['pytest']
  errors = check_lock.check(SETUP_CFG, lock, venv)
  assert [e.split(';')[0] for e in errors] == [
      f'error: requirements.lock pins pytest=={installed["pytest"]} but the '
      'venv does not have it',
      f'error: requirements.lock pins soundfile=={installed["soundfile"]} but '
      'the venv has soundfile 0.0.1',
      f'error: requirements.lock pins zipp==0.1 but the venv has zipp '
      f'{installed["zipp"]}',
  ]


def test_lock_for_another_python_is_reported():
  _, lock_python, _ = check_lock.read_lock(LOCK)
  (error,) = check_lock.check(SETUP_CFG, LOCK, None, python_version='3.99')
  assert error.startswith('error: requirements.lock was compiled for Python '
                          f'{lock_python} but the venv runs Python 3.99; ')
  assert '--python-version 3.99' in error


def test_command_line_exits_1_with_one_line_per_error(tmp_path, installed):
  del installed  # Only needs .venv/ to exist.
  lock = _edit_lock(tmp_path, lambda l: 'numpy==1.20.0\n'
                    if l.startswith('numpy==') else l)
  proc = subprocess.run(
      [sys.executable, os.path.join(ROOT, '.ci', 'check_lock.py'),
       f'--lock={lock}', f'--python={VENV_PYTHON}'],
      capture_output=True, text=True, timeout=120, check=False)
  assert proc.returncode == 1
  lines = proc.stderr.splitlines()
  assert len(lines) == 2 and all(l.startswith('error: ') for l in lines)
  assert 'numpy>=1.26' in lines[0] and 'numpy==1.20.0' in lines[1]
