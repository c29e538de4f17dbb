r"""Fails when setup.cfg, requirements.lock and .venv/ disagree.

  .venv/bin/python .ci/check_lock.py [--python=.venv/bin/python]

Checks that every requirement of setup.cfg (install_requires and the `test`
extra) is pinned in requirements.lock to a version it allows, that the lock
was compiled for the Python of the venv, and that `pip freeze` of the venv
has every locked package at its locked version (the editable wavernn_jax
itself is left out). Prints one `error: <what>; <how to fix>` line per
disagreement on stderr and exits with status 1; otherwise one summary line.
"""

import argparse
import configparser
import os
import re
import subprocess
import sys

try:
  from packaging.requirements import InvalidRequirement, Requirement
  from packaging.utils import canonicalize_name
  from packaging.version import InvalidVersion, Version
except ImportError:  # Every venv's pip carries a copy.
  from pip._vendor.packaging.requirements import InvalidRequirement
  from pip._vendor.packaging.requirements import Requirement
  from pip._vendor.packaging.utils import canonicalize_name
  from pip._vendor.packaging.version import InvalidVersion, Version

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXTRAS = ('test',)


def refresh_command(python_version: str) -> str:
  return (f'uv pip compile setup.cfg --extra test --python-version '
          f'{python_version} -o requirements.lock')


def setup_requirements(setup_cfg: str) -> list[tuple[str, Requirement]]:
  """(where, requirement) for install_requires and the EXTRAS of setup.cfg."""
  parser = configparser.ConfigParser()
  if not parser.read(setup_cfg):
    raise FileNotFoundError(setup_cfg)
  sections = [('install_requires',
               parser.get('options', 'install_requires', fallback=''))]
  sections += [(f'extra {e}',
                parser.get('options.extras_require', e, fallback=''))
               for e in EXTRAS]
  return [(where, Requirement(line.strip()))
          for where, text in sections for line in text.splitlines()
          if line.strip() and not line.strip().startswith('#')]


def read_lock(lock: str) -> tuple[dict[str, str], str | None, list[str]]:
  """Parses a pip requirements file of `name==version` pins.

  Returns:
    ({canonical name: version}, the Python version the header names or None,
    errors for lines that are not exact pins).
  """
  pins, errors, python_version = {}, [], None
  with open(lock) as f:
    for line in f:
      line = line.strip().rstrip('\\').strip()
      header = re.search(r'--python-version[ =](\d+\.\d+)', line)
      if header and line.startswith('#') and python_version is None:
        python_version = header.group(1)
      if not line or line.startswith(('#', '-')):
        continue
      try:
        req = Requirement(line)
      except InvalidRequirement:
        errors.append(f'error: requirements.lock has {line!r}, not a '
                      'requirement; regenerate the lock with uv pip compile '
                      '(README, "Pinned versions")')
        continue
      if req.marker is not None and not req.marker.evaluate():
        continue
      specs = list(req.specifier)
      if len(specs) != 1 or specs[0].operator not in ('==', '==='):
        errors.append(f'error: requirements.lock has {line!r}, not an exact '
                      'pin; regenerate the lock with uv pip compile (README, '
                      '"Pinned versions")')
        continue
      pins[canonicalize_name(req.name)] = specs[0].version
  return pins, python_version, errors


def installed_versions(python: str) -> dict[str, str]:
  """{canonical name: version} from `pip freeze` of `python`'s environment."""
  out = subprocess.run(
      [python, '-m', 'pip', 'freeze', '--all', '--exclude-editable'],
      check=True, capture_output=True, text=True).stdout
  versions = {}
  for line in out.splitlines():
    name, sep, version = line.partition('==')
    if sep:
      versions[canonicalize_name(name)] = version.strip()
    elif ' @ ' in line:  # A direct URL: never what the lock pins.
      versions[canonicalize_name(line.split(' @ ')[0])] = line.split(' @ ')[1]
  versions.pop('wavernn-jax', None)
  return versions


def venv_python_version(python: str) -> str:
  return subprocess.run(
      [python, '-c', 'import sys; print("%d.%d" % sys.version_info[:2])'],
      check=True, capture_output=True, text=True).stdout.strip()


def check(setup_cfg: str, lock: str, installed: dict[str, str] | None = None,
          python_version: str | None = None) -> list[str]:
  """All disagreements between setup.cfg, the lock and a venv.

  Args:
    setup_cfg: path of setup.cfg.
    lock: path of requirements.lock.
    installed: {canonical name: version} of the venv (`installed_versions`),
      or None to check only setup.cfg against the lock.
    python_version: 'X.Y' of the venv's Python, or None not to check it.

  Returns:
    One `error: <what>; <how to fix>` line per disagreement; [] if none.
  """
  pins, lock_python, errors = read_lock(lock)
  refresh = refresh_command(lock_python or python_version or '3.11')
  if python_version and lock_python and python_version != lock_python:
    errors.append(
        f'error: requirements.lock was compiled for Python {lock_python} but '
        f'the venv runs Python {python_version}; recompile it: '
        f'{refresh_command(python_version)}')
  for where, req in setup_requirements(setup_cfg):
    if req.marker is not None and not req.marker.evaluate():
      continue
    pinned = pins.get(canonicalize_name(req.name))
    if pinned is None:
      errors.append(f'error: setup.cfg ({where}) requires {req} but '
                    f'requirements.lock does not pin {req.name}; refresh the '
                    f'lock: {refresh}')
      continue
    try:
      ok = req.specifier.contains(Version(pinned), prereleases=True)
    except InvalidVersion:
      ok = False
    if not ok:
      errors.append(f'error: setup.cfg ({where}) requires {req} but '
                    f'requirements.lock pins {req.name}=={pinned}; refresh '
                    f'the lock: {refresh} --upgrade-package {req.name}')
  for name, version in sorted(pins.items()) if installed is not None else ():
    have = installed.get(name)
    if have != version:
      what = 'does not have it' if have is None else f'has {name} {have}'
      errors.append(f'error: requirements.lock pins {name}=={version} but the '
                    f'venv {what}; reinstall from the lock: .venv/bin/pip '
                    'install -r requirements.lock')
  return errors


def main() -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--python', default=os.path.join(ROOT, '.venv', 'bin',
                                                       'python'),
                      help="the venv's python (default: .venv/bin/python)")
  parser.add_argument('--setup_cfg', default=os.path.join(ROOT, 'setup.cfg'))
  parser.add_argument('--lock', default=os.path.join(ROOT, 'requirements.lock'))
  args = parser.parse_args()
  for path in (args.setup_cfg, args.lock, args.python):
    if not os.path.exists(path):
      print(f'error: {path} does not exist; run ./setup_env.sh in the repo '
            'root (and see README, "Pinned versions")', file=sys.stderr)
      return 1
  errors = check(args.setup_cfg, args.lock, installed_versions(args.python),
                 venv_python_version(args.python))
  for line in errors:
    print(line, file=sys.stderr)
  if errors:
    return 1
  pins, _, _ = read_lock(args.lock)
  print(f'requirements.lock: {len(pins)} pins agree with setup.cfg and '
        f'{os.path.relpath(args.python)}')
  return 0


if __name__ == '__main__':
  sys.exit(main())
