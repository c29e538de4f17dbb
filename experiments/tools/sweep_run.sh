#!/bin/bash
# A sweep fanned out over sessions and machines, resumable through the repo
# (issue 13): finished points live in runs/NAME/<point>/ (result.json and
# metrics.jsonl, committed); the sweep itself runs in workdirs/NAME/.
#
#   experiments/tools/sweep_run.sh NAME CONFIG CORE [INDEX ...]
#   e.g. experiments/tools/sweep_run.sh sweep13 experiments/configs/sparse_vs_dense.py 1 0 2 4
#
# Runs the given --sweep_index points (all, in order, if none) one after the
# other on core CORE (taskset), skipping points finished here or in
# runs/NAME, and copies each point's result.json and metrics.jsonl to
# runs/NAME/ as soon as it finishes. A point cut off mid-way resumes from
# its checkpoint in workdirs/NAME/ if that is still there, else restarts.
# Report: python launch.py --mode=report --workdir=runs/NAME
set -euo pipefail
name=${1:?usage: $0 NAME CONFIG CORE [INDEX ...]}
config=${2:?usage: $0 NAME CONFIG CORE [INDEX ...]}
core=${3:?usage: $0 NAME CONFIG CORE [INDEX ...]}
shift 3
cd "$(dirname "$0")/../.."
py=.venv/bin/python
work=workdirs/$name
store=runs/$name
mkdir -p "$work" "$store"
# Finished points of earlier sessions: their result.json marks them done.
for done in "$store"/*/result.json; do
  [ -e "$done" ] || continue
  point=$(basename "$(dirname "$done")")
  mkdir -p "$work/$point"
  for f in "$store/$point/"*; do  # What the workdir lacks; a failure stops.
    [ -e "$work/$point/$(basename "$f")" ] || cp "$f" "$work/$point/"
  done
done
indices=("$@")
if [ ${#indices[@]} -eq 0 ]; then
  count=$(PYTHONPATH=. $py -c "
import importlib.util
path, _, arg = '$config'.partition(':')
spec = importlib.util.spec_from_file_location('c', path)
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
print(len(m.sweep(m.get_config(arg))))")
  indices=($(seq 0 $((count - 1))))
fi
for i in "${indices[@]}"; do
  taskset -c "$core" $py launch.py --config="$config" --sweep \
    --sweep_index="$i" --workdir="$work"
  for done in "$work"/*/result.json; do
    [ -e "$done" ] || continue
    point=$(basename "$(dirname "$done")")
    mkdir -p "$store/$point"
    cp "$done" "$work/$point/metrics.jsonl" "$store/$point/"
  done
done
