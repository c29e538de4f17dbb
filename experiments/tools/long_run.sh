#!/bin/bash
# One stretch of a named long run, resumable across sessions and machines
# through the repo itself.
#
#   experiments/tools/long_run.sh NAME CPU_SECONDS [CORE]
#
# NAME is a run of experiments/configs/long_runs.py (its docstring lists
# them, with their recipe and cost). The run trains in workdirs/long/NAME/
# on one core (taskset -c CORE, default 0) for CPU_SECONDS more CPU seconds
# (train.max_cpu_seconds counts across resumes), then scores its latest
# checkpoint (test NLL, PESQ-WB / STOI / MCD of 8 utterances, its Polyak
# average then its trained params; appended to runs/NAME/quality.jsonl) and
# copies what resumes it (the latest checkpoint: parameters, optimizer
# state, step, config) and its metrics.jsonl into runs/NAME/, which is
# committed. A fresh clone resumes from runs/NAME/ when workdirs/long/NAME/
# has no checkpoint. SKIP_SCORE=1 skips the scoring (a stretch cut short).
set -euo pipefail
name=${1:?usage: $0 NAME CPU_SECONDS [CORE]}
budget=${2:?usage: $0 NAME CPU_SECONDS [CORE]}
core=${3:-0}
cd "$(dirname "$0")/../.."
py=.venv/bin/python
# Fails in one line on an unknown NAME (the list of runs).
PYTHONPATH=. $py -c "
import sys
from experiments.configs import long_runs
try:
  long_runs.get_config(sys.argv[1])
except ValueError as e:
  sys.exit(f'error: {e}')" "$name"
work=workdirs/long/$name
store=runs/$name
mkdir -p "$work" "$store"
# A branch (long_runs.SEEDS) starts from its parent's committed checkpoint.
seed=$(PYTHONPATH=. $py -c "
import sys
from experiments.configs import long_runs
print(long_runs.SEEDS.get(sys.argv[1], ''))" "$name")
if [ ! -d "$store/checkpoints" ] && [ -n "$seed" ]; then
  store_from=$seed
else
  store_from=$store
fi
if [ ! -d "$work/checkpoints" ] && [ -d "$store_from/checkpoints" ]; then
  echo "Resuming $name from $store_from (committed checkpoint)."
  cp -r "$store_from/checkpoints" "$work/"
  cp "$store_from/metrics.jsonl" "$work/"
fi
# max_cpu_seconds is a total across resumes: what was spent plus the budget.
spent=$($py -c "from wavernn_jax.utils import history; print(history.last_value('$work/metrics.jsonl', 'train_cpu_seconds'))")
total=$($py -c "print($spent + $budget)")
echo "Training $name on core $core: $spent CPU-s so far, up to $total."
taskset -c "$core" $py launch.py --config="experiments/configs/long_runs.py:$name" \
  --workdir="$work" --config.train.max_cpu_seconds="$total"
if [ -z "${SKIP_SCORE:-}" ]; then
  for average in --average --noaverage; do
    taskset -c "$core" $py launch.py --mode=evaluate --workdir="$work" \
      --quality=8 "$average" | tail -n 1 >> "$store/quality.jsonl"
  done
fi
latest=$(ls "$work/checkpoints" | grep -E '^[0-9]+$' | sort -n | tail -n 1)
rm -rf "$store/checkpoints.new"
mkdir -p "$store/checkpoints.new"
cp -r "$work/checkpoints/$latest" "$store/checkpoints.new/"
rm -rf "$store/checkpoints"
mv "$store/checkpoints.new" "$store/checkpoints"
cp "$work/metrics.jsonl" "$store/"
echo "Saved step $latest of $name to $store; commit it to resume next session."
