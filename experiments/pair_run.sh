#!/bin/bash
# The equal-non-zero sparse/dense pair retrained with the issue-11 recipe
# (issue 11, "Retrain the equal-non-zero sparse/dense pair ... with the same
# recipe and the same number of steps").
#
#   experiments/pair_run.sh STEPS [CORE]
#
# One core (taskset -c CORE, default 1), one model after the other, each
# for exactly STEPS steps: dense H = 256 (298k non-zero cell weights), then
# 90 %-sparse H = 864 (16x1 blocks, R_u, R_r, R_e and O1..O4 pruned from
# 10 % to 50 % of the steps, as in the issue-13 sweep; 294k non-zeros).
# Recipe: batch 8, pre-emphasis 0.85, LPC from the mel (order 16), Polyak
# average 0.999; scalar byte inputs, as in the sweep, so that the non-zero
# counts compare (embeddings are tables the paper's count has no place
# for). Each model is scored (test NLL, PESQ-WB / STOI / MCD of 8
# utterances, its Polyak average) into runs/pair_lpc/NAME.json and its
# metrics.jsonl is copied to runs/pair_lpc/NAME/ (commit both; the models
# are shipped with experiments/export_pretrained.py
# --workdir=workdirs/pair_lpc/NAME). A run cut off resumes from
# workdirs/pair_lpc/NAME (re-run the script).
set -euo pipefail
steps=${1:?usage: $0 STEPS [CORE]}
core=${2:-1}
cd "$(dirname "$0")/.."
py=.venv/bin/python
work=workdirs/pair_lpc
store=runs/pair_lpc
mkdir -p "$work" "$store"
recipe=(--config.data.batch_size=8 --config.model.emphasis=0.85
        --config.model.embed_inputs=false --config.model.lpc_order=16
        --config.model.pitch=false
        --config.train.ema_decay=0.999 --config.train.max_seconds=0
        --config.train.log_every=100 --config.train.eval_every=500
        --config.train.ckpt_every=500)
start=$((steps / 10))
ramp=$((steps * 2 / 5))
every=$((steps / 40 > 0 ? steps / 40 : 1))

# shellcheck source=experiments/train_and_score.sh
source experiments/train_and_score.sh  # run NAME CONFIG [FLAGS...]

run dense256 "experiments/wavernn.py:hidden=256,steps=$steps"
run sparse864 \
  "experiments/wavernn.py:variant=sparse,hidden=864,sparsity=0.9,block=16x1,steps=$steps" \
  --config.sparsity.matrices=R_u,R_r,R_e,O1,O2,O3,O4 \
  --config.sparsity.start_step="$start" --config.sparsity.ramp_steps="$ramp" \
  --config.sparsity.update_every="$every"
