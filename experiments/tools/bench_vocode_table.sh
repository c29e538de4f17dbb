#!/bin/bash
# The main job's vocode row of one model, per model.kernel, as a user meets
# it: `launch.py --mode=vocode --split=test --num=3` in a fresh process with
# a new compile cache (cold), then again with that cache (warm), for each
# kernel; then summarize_vocode.py's table of the runs and one JSON line per
# run (its vocode.json and the process's wall time).
#
#   experiments/tools/bench_vocode_table.sh [MODEL] [KERNELS]
#
# MODEL defaults to pretrained/sparse896_lpc_pitch, KERNELS to "xla fused".
# Run on a quiet machine (issue 38's main-job targets; docs/RESULTS.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
model=${1:-pretrained/sparse896_lpc_pitch}
kernels=${2:-xla fused}
py=.venv/bin/python
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
runs=()
for k in $kernels; do
  for c in cold warm; do
    d=$out/$k-$c
    mkdir -p "$d"
    t0=$(date +%s.%N)
    $py launch.py --mode=vocode --workdir="$model" --split=test --num=3 \
        --output="$d" --compile_cache="$out/cache-$k" --kernel="$k" \
        2>/dev/null | tail -n 1 > "$d/vocode.json"
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc > "$d/wall"
    runs+=("$k-$c=$d/vocode.json")
  done
done
$py experiments/tools/summarize_vocode.py --runs="$(IFS=,; echo "${runs[*]}")"
for k in $kernels; do
  for c in cold warm; do
    PYTHONPATH=. $py -c "
import json, sys
from wavernn_jax.utils import timing
print(json.dumps(dict(model=sys.argv[1], kernel=sys.argv[2],
                      compile_cache=sys.argv[3],
                      process_wall_s=float(open(sys.argv[4]).read()),
                      utterances=json.load(open(sys.argv[5])),
                      **timing.machine())))" "$model" "$k" "$c" \
        "$out/$k-$c/wall" "$out/$k-$c/vocode.json"
  done
done
