#!/bin/bash
# A new voice from little data (issue 26): the best shipped dense model
# before fine-tuning, after 10 and 30 CPU-minutes of fine-tuning on the
# voice's training split, and the same model trained from scratch for 30
# CPU-minutes, all scored on the voice's test split.
#
#   experiments/studies/finetune_voice.sh VOICE [CORE] [SOURCE]
#
# VOICE is a config of asterisk_voices (fr, it, ru, es; data/asterisk_voices/),
# SOURCE the model (default pretrained/dense384_lpc_pitch_v2). One core
# (taskset -c CORE, default 1). Each point writes
# runs/finetune/VOICE/{before,ft_600,ft_1800,scratch_1800}.json: launch.py
# --mode=evaluate --dataset=asterisk_voices/VOICE --quality=8 (test NLL, the
# linear-prediction NLL fitted on the voice's training split, PESQ-WB / STOI
# / MCD of 8 utterances, one sampling, seed 0, Polyak average). A point that
# has its JSON is skipped; an interrupted run resumes from
# workdirs/finetune/VOICE_*/ (re-run the script). Fine-tune and scratch
# configs: experiments/configs/finetune.py.
set -euo pipefail
voice=${1:?usage: $0 VOICE [CORE] [SOURCE]}
core=${2:-1}
source_model=${3:-pretrained/dense384_lpc_pitch_v2}
cd "$(dirname "$0")/../.."
py=.venv/bin/python
store=runs/finetune/$voice
work=workdirs/finetune/$voice
mkdir -p "$store" "$work"
dataset=asterisk_voices/$voice

score() {  # score WORKDIR OUT.json
  [ -f "$2" ] && return
  taskset -c "$core" $py launch.py --mode=evaluate --workdir="$1" \
    --dataset="$dataset" --quality=8 --seed=0 | tail -n 1 > "$2.partial"
  mv "$2.partial" "$2"
}

fit() {  # fit NAME CPU_SECONDS [CONFIG ARGS]: train (or resume) to a budget
  local name=$1 budget=$2 extra=${3:-}
  taskset -c "$core" $py launch.py \
    --config="experiments/configs/finetune.py:from=$source_model,data=$dataset$extra" \
    --workdir="$work/$name" --config.train.max_cpu_seconds="$budget"
  cp "$work/$name/metrics.jsonl" "$store/${name}_metrics.jsonl"
}

score "$source_model" "$store/before.json"
for budget in 600 1800; do
  if [ ! -f "$store/ft_$budget.json" ]; then
    fit ft "$budget"
    score "$work/ft" "$store/ft_$budget.json"
  fi
done
if [ ! -f "$store/scratch_1800.json" ]; then
  fit scratch 1800 ,scratch=true
  score "$work/scratch" "$store/scratch_1800.json"
fi
echo "Scored $voice: $store/*.json"
