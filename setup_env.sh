#!/usr/bin/env bash
# Creates .venv/ at the repo root (if missing) and installs into it the exact
# versions of requirements.lock, then wavernn_jax itself (editable, no deps).
# Idempotent: a second run only checks what is there, and reinstalls when
# setup.cfg or requirements.lock is newer than the last install.
# With --corpus it also installs the default corpus (Debian's Asterisk
# prompts, ~13 MB) if missing.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# pip of this machine warns about local index folders it does not have.
pip_install() {
  local log
  log=$(mktemp)
  if ! .venv/bin/pip install -q "$@" >"$log" 2>&1; then
    grep -v '^WARNING: Location' "$log" >&2 || true
    rm -f "$log"
    echo "error: pip install $* failed (see above); fix the cause and run $0 again" >&2
    exit 1
  fi
  grep -v '^WARNING: Location' "$log" >&2 || true
  rm -f "$log"
}
if ! .venv/bin/python -c 'import wavernn_jax, jax, flax, librosa, pytest, xdist' 2>/dev/null \
   || [ setup.cfg -nt .venv/.installed ] || [ requirements.lock -nt .venv/.installed ]; then
  .venv/bin/pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
  lock_python=$(sed -n 's/^#.*--python-version \([0-9.]*\).*/\1/p' requirements.lock | head -n 1)
  venv_python=$(.venv/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  if [ "$lock_python" = "$venv_python" ]; then
    pip_install -r requirements.lock
    pip_install --no-deps -e .
  else
    echo "warning: requirements.lock is for Python $lock_python, .venv/ has $venv_python;" \
      "installing the newest versions setup.cfg allows instead (README, \"Pinned versions\")" >&2
    pip_install -e '.[test]'
  fi
  .venv/bin/python -c 'import wavernn_jax, jax, flax, librosa, pytest, xdist'
  touch .venv/.installed
fi
if [ "${1:-}" = "--corpus" ]; then
  pkgs="asterisk-core-sounds-en-g722 asterisk-core-sounds-en"
  if [ ! -d /usr/share/asterisk/sounds/en_US_f_Allison ] \
     || [ ! -f /usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get install -y -q $pkgs >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null && apt-get install -y -q $pkgs >/dev/null; }
    else
      echo "error: the default corpus is missing; install it with:" >&2
      echo "  sudo apt-get install $pkgs" >&2
      exit 1
    fi
  fi
fi
