#!/usr/bin/env bash
# Creates .venv/ at the repo root (if missing) and installs wavernn_jax into it
# with its test extras. Idempotent: a second run only checks what is there.
# With --corpus it also installs the default corpus (Debian's Asterisk
# prompts, ~13 MB) if missing.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if ! .venv/bin/python -c 'import wavernn_jax, jax, flax, librosa, pytest' 2>/dev/null \
   || [ setup.cfg -nt .venv/.installed ]; then
  .venv/bin/pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
  .venv/bin/pip install -q -e '.[test]' 2>&1 | grep -v '^WARNING: Location' || true
  .venv/bin/python -c 'import wavernn_jax, jax, flax, librosa, pytest'
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
