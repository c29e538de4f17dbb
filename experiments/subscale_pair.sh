#!/bin/bash
# Subscale against dense with the same cell and steps, both on the issue-11
# recipe (issue 11: "Retrain ... the subscale model with the same recipe and
# the same number of steps"; target: subscale within 0.3 bit of dense).
#
#   experiments/subscale_pair.sh STEPS [CORE]
#
# One core (taskset -c CORE, default 1), one model after the other, each
# for exactly STEPS steps: dense H = 384, then Subscale H = 384 (B = 16,
# F = 64) with the session-5 context net, with subscale.now_tap, and with
# now_tap and subscale.left_input (the defaults since session 6). Recipe: pre-emphasis 0.85, embedded byte inputs, Polyak average
# 0.999, and no LPC for either (Subscale draws 16 samples of different times
# at once, so it cannot predict from the immediate past; the dense model
# goes without it too so that only the ordering differs). Both see 3,200
# scored samples per step: dense 8 crops of 400, subscale 2 crops of 1,600
# (16 sub-tensors of 100 folded samples each). Each model is scored (test
# NLL, PESQ-WB / STOI / MCD of 8 utterances, its Polyak average) into
# runs/subscale_pair/NAME.json and its metrics.jsonl is copied to
# runs/subscale_pair/NAME/ (commit both; ship with
# experiments/export_pretrained.py --workdir=workdirs/subscale_pair/NAME).
# A run cut off resumes from workdirs/subscale_pair/NAME (re-run the script).
set -euo pipefail
steps=${1:?usage: $0 STEPS [CORE]}
core=${2:-1}
cd "$(dirname "$0")/.."
py=.venv/bin/python
work=workdirs/subscale_pair
store=runs/subscale_pair
mkdir -p "$work" "$store"
recipe=(--config.model.emphasis=0.85 --config.model.embed_inputs=true
        --config.model.lpc_order=0 --config.model.pitch=false
        --config.train.ema_decay=0.999
        --config.train.max_seconds=0 --config.train.log_every=100
        --config.train.eval_every=500 --config.train.ckpt_every=500)

# shellcheck source=experiments/train_and_score.sh
source experiments/train_and_score.sh  # run NAME CONFIG [FLAGS...]

run dense384 "experiments/wavernn.py:hidden=384,steps=$steps" \
  --config.data.batch_size=8 --config.data.crop_samples=400
run subscale384 \
  "experiments/wavernn.py:variant=subscale,hidden=384,batch_factor=16,horizon=64,steps=$steps" \
  --config.data.batch_size=2 --config.data.crop_samples=1600 \
  --config.subscale.now_tap=false --config.subscale.left_input=false
# Session 6: the same with the context net's first layer also reading the
# current column of the earlier sub-tensors (subscale.now_tap: x_{t-1} and
# the other samples just before (s, i) one layer from the cell).
run subscale384_now \
  "experiments/wavernn.py:variant=subscale,hidden=384,batch_factor=16,horizon=64,steps=$steps" \
  --config.data.batch_size=2 --config.data.crop_samples=1600 \
  --config.subscale.now_tap=true --config.subscale.left_input=false
# ... and also x_{t-1} = (s - 1, i) embedded into the cell's input term
# (subscale.left_input), as the dense cell gets its previous sample.
run subscale384_left \
  "experiments/wavernn.py:variant=subscale,hidden=384,batch_factor=16,horizon=64,steps=$steps" \
  --config.data.batch_size=2 --config.data.crop_samples=1600 \
  --config.subscale.now_tap=true --config.subscale.left_input=true \
  --config.subscale.left_samples=1
# Session 7: the defaults with twice the context-net channels per
# sub-tensor (subscale.channels 16 -> 32): is the context net's width what
# holds Subscale back?
run subscale384_c32 \
  "experiments/wavernn.py:variant=subscale,hidden=384,batch_factor=16,horizon=64,steps=$steps" \
  --config.data.batch_size=2 --config.data.crop_samples=1600 \
  --config.subscale.now_tap=true --config.subscale.left_input=true \
  --config.subscale.left_samples=1 --config.subscale.channels=32
# ... and the defaults with the four samples right before (s, i) in time,
# x_{t-1} ... x_{t-4} = (s - 1, i) ... (s - 4, i), into the cell's input
# term (subscale.left_samples 1 -> 4; each zero where s < k; the default
# since session 7).
run subscale384_left4 \
  "experiments/wavernn.py:variant=subscale,hidden=384,batch_factor=16,horizon=64,steps=$steps" \
  --config.data.batch_size=2 --config.data.crop_samples=1600 \
  --config.subscale.now_tap=true --config.subscale.left_input=true \
  --config.subscale.left_samples=4
