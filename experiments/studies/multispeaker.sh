#!/bin/bash
# One vocoder for many speakers (issue 26): a model trained from scratch on
# every voice of `asterisk_voices/multi` (en + es + fr + it) against the same
# model trained from scratch on one speaker (`asterisk_voices/en`, the
# default corpus's Allison) for the same CPU time, both scored on a voice
# held out of both (`asterisk_voices/ru`). The shipped single-speaker model
# (trained for hours) is scored on the same voice beside them.
#
#   experiments/studies/multispeaker.sh [CORE] [CPU_SECONDS] [SOURCE]
#
# One core (taskset -c CORE, default 0), CPU_SECONDS each (default 1800).
# SOURCE (default pretrained/dense384_lpc_pitch_v2) gives the model (cell,
# mel, LPC, pitch; experiments/configs/finetune.py with scratch=true, the
# recipe's learning rate). Each point writes runs/multispeaker/*.json:
# launch.py --mode=evaluate --dataset=asterisk_voices/ru --quality=8 (test
# NLL, the linear-prediction NLL fitted on ru's training split, PESQ-WB /
# STOI / MCD of 8 utterances, one sampling, seed 0, Polyak average). A point
# that has its JSON is skipped; an interrupted run resumes from
# workdirs/multispeaker/ (re-run the script).
set -euo pipefail
core=${1:-0}
budget=${2:-1800}
source_model=${3:-pretrained/dense384_lpc_pitch_v2}
cd "$(dirname "$0")/../.."
py=.venv/bin/python
store=runs/multispeaker
work=workdirs/multispeaker
heldout=asterisk_voices/ru
mkdir -p "$store" "$work"

score() {  # score WORKDIR OUT.json
  [ -f "$2" ] && return
  taskset -c "$core" $py launch.py --mode=evaluate --workdir="$1" \
    --dataset="$heldout" --quality=8 --seed=0 | tail -n 1 > "$2.partial"
  mv "$2.partial" "$2"
}

score "$source_model" "$store/shipped_on_ru.json"
for train in multi en; do
  out=$store/${train}_scratch_$budget.json
  [ -f "$out" ] && continue
  taskset -c "$core" $py launch.py \
    --config="experiments/configs/finetune.py:from=$source_model,data=asterisk_voices/$train,scratch=true" \
    --workdir="$work/$train" --config.train.max_cpu_seconds="$budget"
  cp "$work/$train/metrics.jsonl" "$store/${train}_scratch_metrics.jsonl"
  score "$work/$train" "$out"
done
echo "Scored on $heldout: $store/*.json"
