#!/bin/bash
# One lease of a GPU machine (issue 11), as one prepared command:
#   1. continue the chosen dense recipe (dense384_lpc_pitch) from its
#      committed average at a GPU-sized batch, for TRAIN_SECONDS of wall time;
#   2. time the `paper` preset's training step (bench_training.py);
#   3. time `Vocoder.generate` (bench_sampling.py --path=generate).
# Everything it reports lands in $OUT (the lease's return folder).
# Settings (environment): TRAIN_SECONDS (270), BATCH (128), STEPS (200000:
# the cosine's length), INIT (gpu/init), BENCH_SECONDS (80), SKIP_SAMPLING.
# Session 6 ran it as TRAIN_SECONDS=250, then TRAIN_SECONDS=180 STEPS=6000
# BENCH_SECONDS=100 SKIP_SAMPLING=1 from the first call's average.
#
# Prepared here, before the call (the machine is bare and offline):
#   .whl/   wheels of what its image lacks (ml_collections, grain,
#           array_record, tensorboardX, soundfile, cffi, pycparser,
#           portpicker, G722; flax, optax and orbax-checkpoint at our
#           versions; `pip download --python-version 3.12 ...`, see
#           /work/.library/device/README.md)
#   gpu/packs/  the dataset's splits (experiments/data_pack.py --export)
#   gpu/init/   the committed run's checkpoint without its optimizer state
# and the call carries .whl and gpu (both in .git/info/exclude). The tracked
# tree is over the lease's 64 MiB (pretrained/ and runs/), so for the call
# they leave the index, not the disk: `git rm -r -q --cached pretrained runs`
# and `/pretrained/`, `/runs/` in .git/info/exclude; afterwards `git reset
# -q` and drop those two lines (commit nothing in between).
# The checkpoint comes back as
# $OUT/run.tar.* (split under the 16 MB per-file limit): `cat run.tar.* |
# tar -x` restores it on CPU like any other workdir.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/device_out}
mkdir -p "$out"
train_seconds=${TRAIN_SECONDS:-270}
batch=${BATCH:-128}
steps=${STEPS:-200000}
init=${INIT:-gpu/init}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
  --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv \
  | tee "$out/device.txt"
python3 -c "import jax, flax; print('jax', jax.__version__, 'flax', \
flax.__version__, jax.devices())" 2>&1 | tee -a "$out/device.txt"

work=/tmp/gpu_run
rm -rf $work  # A warm machine keeps the last call's run.
timeout -k 30 $((train_seconds + 110)) python3 experiments/data_pack.py \
  --packs=gpu/packs --workdir=$work \
  --config=experiments/wavernn.py:hidden=384,steps=$steps \
  --config.model.lpc_order=16 --config.model.pitch=true \
  --config.model.emphasis=0.85 --config.model.embed_inputs=true \
  --config.train.init_from="$init" --config.data.batch_size="$batch" \
  --config.train.ema_decay=0.999 --config.train.max_seconds="$train_seconds" \
  --config.train.log_every=100 --config.train.eval_every=1000 \
  --config.train.ckpt_every=100000 --config.train.sample_seconds=0.05 \
  2>&1 | grep -v "dataset_info\|dataset_builder" | tee "$out/train.log"
last=$(ls $work/checkpoints | sort -n | tail -1)
tar -C $work -cf - "checkpoints/$last" metrics.jsonl \
  | split -b 15m - "$out/run.tar."

timeout -k 10 ${BENCH_SECONDS:-80} python3 experiments/bench_training.py --preset=paper \
  --dtypes=float32 --cores=16 --steps=10 2>&1 \
  | grep -v "dataset_info\|dataset_builder" | tee "$out/bench_training.log"
[ -n "${SKIP_SAMPLING:-}" ] || timeout -k 10 100 python3 experiments/bench_sampling.py --path=generate \
  --hidden=896 --generate_seconds=2 --subscale_horizons=64 --repeats=2 2>&1 \
  | grep '^{' | tee "$out/bench_sampling.jsonl"
