#!/bin/bash
# Subscale against dense with the same cell and steps, both on the issue-11
# recipe (issue 11: "Retrain ... the subscale model with the same recipe and
# the same number of steps"; target: subscale within 0.3 bit of dense).
#
#   experiments/studies/subscale_pair.sh STEPS [CORE] [ARM ...]
#
# With ARMs (names in pair_arms.sh), only those, in that order.
# One core (taskset -c CORE, default 1), one model after the other, each
# for exactly STEPS steps: dense H = 384, then Subscale H = 384 (B = 16,
# F = 64) with the session-5 context net, with subscale.now_tap, and with
# now_tap and subscale.left_input (the defaults since session 6), and
# session 7's two (each arm: experiments/studies/pair_arms.sh, which
# tools/device_job.sh reuses). Recipe: pre-emphasis 0.85, embedded byte
# inputs, Polyak average 0.999, and no LPC for either (Subscale draws 16 samples of different times
# at once, so it cannot predict from the immediate past; the dense model
# goes without it too so that only the ordering differs). Both see 3,200
# scored samples per step: dense 8 crops of 400, subscale 2 crops of 1,600
# (16 sub-tensors of 100 folded samples each). Each model is scored (test
# NLL, PESQ-WB / STOI / MCD of 8 utterances, its Polyak average) into
# runs/subscale_pair/NAME.json and its metrics.jsonl is copied to
# runs/subscale_pair/NAME/ (commit both; ship with
# experiments/tools/export_pretrained.py --workdir=workdirs/subscale_pair/NAME).
# A run cut off resumes from workdirs/subscale_pair/NAME (re-run the script).
# TAG=_10k (say) appends to every NAME: the same arms at another STEPS.
set -euo pipefail
steps=${1:?usage: $0 STEPS [CORE] [ARM ...]}
core=${2:-1}
shift $(($# < 2 ? $# : 2))
cd "$(dirname "$0")/../.."
py=.venv/bin/python
work=workdirs/subscale_pair
store=runs/subscale_pair
mkdir -p "$work" "$store"
batch=8  # Dense: 8 crops of 400; Subscale: 2 of 1,600 (pair_arms.sh).
recipe=(--config.train.max_seconds=0 --config.train.log_every=100
        --config.train.eval_every=500 --config.train.ckpt_every=500)

# shellcheck source=experiments/tools/train_and_score.sh
source experiments/tools/train_and_score.sh  # run NAME CONFIG [FLAGS...]
# shellcheck source=experiments/studies/pair_arms.sh
source experiments/studies/pair_arms.sh  # arm NAME: each model's flags

# The arms in the order they were added (what each tests: pair_arms.sh).
arms=("$@")
if [ ${#arms[@]} -eq 0 ]; then
  arms=(dense384 subscale384 subscale384_now subscale384_left subscale384_c32
        subscale384_left4 subscale384_bias subscale384_left15 subscale384_b4
        subscale384_lpc dense384_lpc subscale384_lpc_b4 subscale384_lpc_bias)
fi
for name in "${arms[@]}"; do
  arm "$name"
  run "$name${TAG:-}" "$arm_config" "${arm_flags[@]}"
done
