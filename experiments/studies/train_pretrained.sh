#!/bin/bash
# The first long runs behind pretrained/ (docs/RESULTS.md, "Shipped models"):
# dense256, sparse864 and dense384 (since archived, docs/PRETRAINED_HISTORY.md)
# and the first subscale384.
#
#   experiments/studies/train_pretrained.sh WORKROOT
#
# Two lanes, one CPU core each (taskset), run one after the other inside a
# lane; on 2 cores the whole thing takes ~2 hours. Each run resumes from its
# workdir if interrupted (re-run the script). Lane 0 is the fixed-budget pair
# (298k non-zero cell weights): a 90%-sparse H=864 model (16x1 blocks, R and
# O1..O4 pruned; stopped by its 90-min budget) and a dense H=256 model
# trained for as many steps as the sparse one reached. Lane 1
# is the dense H=384 model and a subscale H=384 model (B=16, F=64).
set -euo pipefail
root=${1:?usage: $0 WORKROOT}
cd "$(dirname "$0")/../.."
py=.venv/bin/python
mkdir -p "$root"
# The recipe these models were trained with (before issue 11's A/B changed
# the demo defaults): scalar inputs, no pre-emphasis, batch 32 (dense and
# sparse; subscale's preset sets 8).
common=(--config.train.log_every=50 --config.train.eval_every=500
        --config.train.ckpt_every=250 --config.model.emphasis=0
        --config.model.embed_inputs=false --config.train.ema_decay=0
        --config.model.lpc_order=0 --config.model.pitch=false)
old_batch=(--config.data.batch_size=32)

lane0() {
  taskset -c 0 $py launch.py --workdir="$root/sparse864" \
    --config=experiments/configs/wavernn.py:variant=sparse,hidden=864,sparsity=0.9,block=16x1,steps=1200 \
    "${common[@]}" "${old_batch[@]}" \
    --config.sparsity.matrices=R_u,R_r,R_e,O1,O2,O3,O4 \
    --config.sparsity.ramp_steps=700 --config.train.max_seconds=5400
  local steps
  steps=$(ls "$root/sparse864/checkpoints" | grep -E '^[0-9]+$' | sort -n |
          tail -n 1)
  taskset -c 0 $py launch.py --workdir="$root/dense256" \
    --config=experiments/configs/wavernn.py:hidden=256,steps=$steps \
    "${common[@]}" "${old_batch[@]}" \
    --config.train.max_seconds=1800
}

lane1() {
  taskset -c 1 $py launch.py --workdir="$root/dense384" \
    --config=experiments/configs/wavernn.py:hidden=384,steps=2800 \
    "${common[@]}" "${old_batch[@]}" \
    --config.train.max_seconds=4200
  taskset -c 1 $py launch.py --workdir="$root/subscale384" \
    --config=experiments/configs/wavernn.py:variant=subscale,hidden=384,steps=2000 \
    "${common[@]}" --config.subscale.now_tap=false \
    --config.subscale.left_input=false \
    --config.train.max_seconds=3000
}

lane0 > "$root/lane0.log" 2>&1 &
lane1 > "$root/lane1.log" 2>&1 &
wait
