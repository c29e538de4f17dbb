#!/bin/bash
# The equal-non-zero sparse/dense pair retrained with the issue-11 recipe
# (issue 11, "Retrain the equal-non-zero sparse/dense pair ... with the same
# recipe and the same number of steps").
#
#   experiments/studies/pair_run.sh STEPS [CORE]
#
# One core (taskset -c CORE, default 1), one model after the other, each
# for exactly STEPS steps: dense H = 256 (298k non-zero cell weights), then
# 90 %-sparse H = 864 (16x1 blocks, R_u, R_r, R_e and O1..O4 pruned from
# 10 % to 50 % of the steps, as in the issue-13 sweep; 294k non-zeros).
# Recipe: batch 8, pre-emphasis 0.85, LPC from the mel (order 16), Polyak
# average 0.999; scalar byte inputs, as in the sweep, so that the non-zero
# counts compare (embeddings are tables the paper's count has no place
# for); both arms are defined in experiments/studies/pair_arms.sh, which
# tools/device_job.sh (JOB=pairs) reuses. Each model is scored (test NLL, PESQ-WB / STOI / MCD of 8
# utterances, its Polyak average) into runs/pair_lpc/NAME.json and its
# metrics.jsonl is copied to runs/pair_lpc/NAME/ (commit both; the models
# are shipped with experiments/tools/export_pretrained.py
# --workdir=workdirs/pair_lpc/NAME). A run cut off resumes from
# workdirs/pair_lpc/NAME (re-run the script).
set -euo pipefail
steps=${1:?usage: $0 STEPS [CORE]}
core=${2:-1}
cd "$(dirname "$0")/../.."
py=.venv/bin/python
work=workdirs/pair_lpc
store=runs/pair_lpc
mkdir -p "$work" "$store"
batch=8
recipe=(--config.train.max_seconds=0
        --config.train.log_every=100 --config.train.eval_every=500
        --config.train.ckpt_every=500)

# shellcheck source=experiments/tools/train_and_score.sh
source experiments/tools/train_and_score.sh  # run NAME CONFIG [FLAGS...]
# shellcheck source=experiments/studies/pair_arms.sh
source experiments/studies/pair_arms.sh  # arm NAME: the pair's two models

for name in dense256 sparse864; do
  arm "$name"
  run "$name" "$arm_config" "${arm_flags[@]}"
done
