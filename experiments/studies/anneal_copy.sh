#!/bin/bash
# An annealed copy of a long run (issue 11): the long run keeps its LR near
# the peak (a 200k-step cosine), which samples worse than an annealed model
# (docs/RESULTS.md, "Annealing matters for sampling"). This copies the long
# run's latest checkpoint into workdirs/anneal/NAME and trains it for
# ANNEAL_STEPS more steps on a cosine that ends there, so the LR drops to
# ~5 % of the peak at once and decays to the end value; then it scores the
# copy (test NLL, PESQ-WB / STOI / MCD of 8 utterances) into
# workdirs/anneal/NAME/eval_test.json. The long run itself is untouched.
# The copy keeps no Polyak average (train.ema_decay=0), so the annealed
# params themselves are scored (the long run's average is scored by
# long_run.sh).
#
#   experiments/studies/anneal_copy.sh NAME [ANNEAL_STEPS] [CORE]
set -euo pipefail
name=${1:?usage: $0 NAME [ANNEAL_STEPS] [CORE]}
anneal=${2:-1100}
core=${3:-0}
cd "$(dirname "$0")/../.."
py=.venv/bin/python
src=workdirs/long/$name
[ -d "$src/checkpoints" ] || src=runs/$name
latest=$(ls "$src/checkpoints" | grep -E '^[0-9]+$' | sort -n | tail -n 1)
if [ -z "$latest" ]; then
  echo "error: no checkpoint of $name in workdirs/long or runs; run experiments/tools/long_run.sh $name first." >&2
  exit 1
fi
case "$name" in
  dense384) hidden=384 lpc=0 ;;
  dense384_lpc) hidden=384 lpc=16 ;;
  *) echo "error: unknown long run '$name'; use dense384 or dense384_lpc." >&2
     exit 1 ;;
esac
work=workdirs/anneal/$name
rm -rf "$work"
mkdir -p "$work/checkpoints"
cp -r "$src/checkpoints/$latest" "$work/checkpoints/"
cp "$src/metrics.jsonl" "$work/"
total=$((latest + anneal))
echo "Annealing a copy of $name from step $latest to $total on core $core."
taskset -c "$core" $py launch.py \
  --config=experiments/configs/wavernn.py:hidden=$hidden,steps=$total \
  --config.data.batch_size=8 --config.model.emphasis=0.85 \
  --config.model.embed_inputs=true --config.model.lpc_order=$lpc --config.model.pitch=false \
  --config.train.max_seconds=0 \
  --config.train.ema_decay=0 \
  --config.train.log_every=100 --config.train.eval_every=$anneal \
  --config.train.ckpt_every=$anneal --workdir="$work"
taskset -c "$core" $py launch.py --mode=evaluate --workdir="$work" \
  --quality=8 | tail -n 1 > "$work/eval_test.json"
cat "$work/eval_test.json"
