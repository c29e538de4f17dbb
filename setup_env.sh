#!/usr/bin/env bash
# Creates .venv/ at the repo root (if missing) and installs into it the exact
# versions of requirements.lock, then wavernn_jax itself (editable, no deps).
# Idempotent: a second run only checks what is there, and reinstalls when
# setup.cfg or requirements.lock is newer than the last install.
# With --corpus it also installs the default corpus (Debian's Asterisk
# prompts, ~13 MB) if missing; with --voices, the same prompts in four more
# voices (fr, es, it, ru; ~55 MB: data/asterisk_voices); with --render, Debian's chromium (the
# listening page's render check in the tests; about a minute).
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
# The fused CPU kernels (wavernn_jax/kernels/cpu_kernels.py; issue 37), compiled for
# this machine into build/ if missing. Where they cannot build, one line says
# so and model.kernel=auto trains on the XLA path.
.venv/bin/python -m wavernn_jax.kernels.cpu_kernels >/dev/null
# Debian packages (root, apt-get), installed if missing: $1 is what they
# are for, the rest the packages.
apt_install() {
  local what=$1
  shift
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "$@" >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null && apt-get install -y -q "$@" >/dev/null; }
  else
    echo "error: $what is missing; install it with:" >&2
    echo "  sudo apt-get install $*" >&2
    exit 1
  fi
}
for arg in "$@"; do
  case "$arg" in
    --corpus)
      if [ ! -d /usr/share/asterisk/sounds/en_US_f_Allison ] \
         || [ ! -f /usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz ]; then
        apt_install "the default corpus" asterisk-core-sounds-en-g722 asterisk-core-sounds-en
      fi ;;
    --voices)
      for lang in fr es it ru; do
        if [ ! -f "/usr/share/doc/asterisk-core-sounds-$lang/core-sounds-$lang.txt.gz" ] \
           || [ ! -d "/usr/share/doc/asterisk-core-sounds-$lang-g722" ]; then
          apt_install "the $lang voice (asterisk_voices/$lang)" \
            "asterisk-core-sounds-$lang-g722" "asterisk-core-sounds-$lang"
        fi
      done ;;
    --render)  # Best effort: without it the render check skips and says why.
      command -v chromium >/dev/null || (apt_install "chromium (the listening page's render check)" chromium) \
        || echo "warning: chromium could not be installed; tests/listening_page_test.py::test_page_renders will skip" >&2 ;;
    *)
      echo "error: unknown option $arg; use --corpus, --voices and/or --render" >&2
      exit 1 ;;
  esac
done
