#!/bin/bash
# One lease of a GPU machine (issue 11), as one prepared command. JOB picks
# what it does (everything it reports lands in $OUT, the lease's return
# folder):
#
# JOB=continue (the default; session 6):
#   1. continue the chosen dense recipe (dense384_lpc_pitch) from its
#      committed average at a GPU-sized batch, for TRAIN_SECONDS of wall time;
#   2. time the `paper` preset's training step (bench_training.py);
#   3. time `Vocoder.generate` (bench_sampling.py --path=generate).
#   Settings: TRAIN_SECONDS (270), BATCH (128), STEPS (200000: the cosine's
#   length), INIT (gpu/init), BENCH_SECONDS (80), SKIP_BENCH, SKIP_SAMPLING. Session 6
#   ran it as TRAIN_SECONDS=250, then TRAIN_SECONDS=180 STEPS=6000
#   BENCH_SECONDS=100 SKIP_SAMPLING=1 from the first call's average.
#   Session 7 continued the shipped model: INIT=gpu/ship (a copy of
#   pretrained/dense384_lpc_pitch, now in the tag archive/2026-12-02) BATCH=256 STEPS=4000 TRAIN_SECONDS=200
#   SKIP_BENCH=1 SKIP_SAMPLING=1. A first try at BATCH=512, with XLA's
#   memory preallocated, failed to make the pitch features' cuFFT plan
#   (batch count 8,192); BATCH=256 with memory allocated as needed ran
#   (which change mattered was not tested; the job now always allocates as
#   needed).
#
# JOB=pairs (session 7): the paper's two comparisons at GPU scale, four
#   models trained from scratch side by side on the one GPU, each for
#   exactly STEPS steps (2500) of the same recipe as its CPU runs (the
#   arms are sourced from experiments/studies/pair_arms.sh, which the CPU
#   scripts use too):
#   - pair_dense256 / pair_sparse864 (arms dense256 / sparse864):
#     experiments/studies/pair_run.sh's equal-non-zero pair (90 %
#     block-sparse H = 864 against dense H = 256; LPC order 16, scalar byte
#     inputs; pruned from 10 % to 50 % of the steps; here R through the
#     masked dense product, sparsity.train_kernel=dense);
#   - sub_dense384 / sub_subscale384 (arms dense384 / subscale384_left):
#     experiments/studies/subscale_pair.sh's dense H = 384 against
#     Subscale H = 384 (B = 16, F = 64, its session-6 defaults:
#     subscale.left_samples=1).
#   Dense models see BATCH (256) crops of 400 samples, Subscale BATCH / 4
#   crops of 1,600, so every model scores the same samples per step. A
#   model still running after TRAIN_SECONDS (420) saves and stops there.
#
# Prepared here, before the call (the machine is bare and offline):
#   .whl/   wheels of what its image lacks (ml_collections, grain,
#           array_record, tensorboardX, soundfile, cffi, pycparser,
#           portpicker, G722; flax, optax and orbax-checkpoint at our
#           versions; `pip download --python-version 3.12 ...`, see
#           /work/.library/device/README.md)
#   gpu/packs/  the dataset's splits (experiments/tools/data_pack.py --export)
#   gpu/init/   (JOB=continue) the committed run's checkpoint without its
#               optimizer state
# and the call carries .whl and gpu (both in .git/info/exclude). The tracked
# tree is over the lease's 64 MiB (pretrained/ and runs/), so for the call
# they leave the index, not the disk: `git rm -r -q --cached pretrained runs`
# and `/pretrained/`, `/runs/` in .git/info/exclude; afterwards `git reset
# -q` and drop those two lines (commit nothing in between).
# The checkpoints come back as $OUT/run.tar.* (split under the 16 MB
# per-file limit; JOB=pairs: each model's last Polyak average and config,
# without the optimizer state): `cat run.tar.* | tar -x` restores them on
# CPU like any other workdir.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/device_out}
mkdir -p "$out"
train_seconds=${TRAIN_SECONDS:-270}
batch=${BATCH:-128}
steps=${STEPS:-200000}
init=${INIT:-gpu/init}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
  --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
# Allocate as needed, not 75 % up front: room for cuFFT's plans, and for
# JOB=pairs' four processes.
export XLA_PYTHON_CLIENT_PREALLOCATE=false
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv \
  | tee "$out/device.txt"
python3 -c "import jax, flax; print('jax', jax.__version__, 'flax', \
flax.__version__, jax.devices())" 2>&1 | tee -a "$out/device.txt"

quiet() { grep --line-buffered -v "dataset_info\|dataset_builder"; }

if [ "${JOB:-continue}" = pairs ]; then
  steps=${STEPS:-2500}
  batch=${BATCH:-256}
  train_seconds=${TRAIN_SECONDS:-420}
  work=/tmp/gpu_pairs
  rm -rf $work  # A warm machine keeps the last call's runs.
  mkdir -p $work/logs
  # The arms are the CPU studies' own (experiments/studies/pair_arms.sh);
  # only the time budget, the intervals and R's training kernel are the
  # lease's.
  # shellcheck source=experiments/studies/pair_arms.sh
  source experiments/studies/pair_arms.sh  # arm NAME
  common=(--config.train.max_seconds="$train_seconds"
          --config.train.log_every=100 --config.train.eval_every=500
          --config.train.ckpt_every=100000 --config.train.sample_seconds=0.05)
  train() {  # NAME ARM [FLAGS...]
    local name=$1
    arm "$2" || exit 1
    shift 2
    python3 experiments/tools/data_pack.py --packs=gpu/packs \
      --workdir=$work/"$name" --config="$arm_config" "${arm_flags[@]}" \
      "${common[@]}" "$@" 2>&1 \
      | quiet | sed -u "s/^/$name: /" > $work/logs/"$name".log
  }
  train pair_dense256 dense256 &
  train pair_sparse864 sparse864 --config.sparsity.train_kernel=dense &
  train sub_dense384 dense384 &
  train sub_subscale384 subscale384_left &
  wait
  tail -n 3 $work/logs/*.log
  (cd $work && for name in logs pair_* sub_*; do
     [ "$name" = logs ] && { echo logs; continue; }
     last=$(ls "$name/checkpoints" | sort -n | tail -1)
     echo "$name/metrics.jsonl" "$name/checkpoints/$last/meta" \
       "$name/checkpoints/$last/ema" \
       "$name/checkpoints/$last/_CHECKPOINT_METADATA" \
       "$name/checkpoints/$last/commit_success.txt"
   done | xargs tar -cf -) | split -b 15m - "$out/run.tar."
  ls -l "$out"
  exit 0
fi

work=/tmp/gpu_run
rm -rf $work  # A warm machine keeps the last call's run.
timeout -k 30 $((train_seconds + 110)) python3 experiments/tools/data_pack.py \
  --packs=gpu/packs --workdir=$work \
  --config=experiments/configs/wavernn.py:hidden=384,steps=$steps \
  --config.model.lpc_order=16 --config.model.pitch=true \
  --config.model.emphasis=0.85 --config.model.embed_inputs=true \
  --config.train.init_from="$init" --config.data.batch_size="$batch" \
  --config.train.ema_decay=0.999 --config.train.max_seconds="$train_seconds" \
  --config.train.log_every=100 --config.train.eval_every=1000 \
  --config.train.ckpt_every=100000 --config.train.sample_seconds=0.05 \
  2>&1 | quiet | tee "$out/train.log"
last=$(ls $work/checkpoints | sort -n | tail -1)
tar -C $work -cf - "checkpoints/$last" metrics.jsonl \
  | split -b 15m - "$out/run.tar."

[ -n "${SKIP_BENCH:-}" ] || timeout -k 10 ${BENCH_SECONDS:-80} python3 experiments/tools/bench_training.py --preset=paper \
  --dtypes=float32 --cores=16 --steps=10 2>&1 \
  | quiet | tee "$out/bench_training.log"
[ -n "${SKIP_SAMPLING:-}" ] || timeout -k 10 100 python3 experiments/tools/bench_sampling.py --path=generate \
  --hidden=896 --generate_seconds=2 --subscale_horizons=64 --repeats=2 2>&1 \
  | grep '^{' | tee "$out/bench_sampling.jsonl"
