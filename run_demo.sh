#!/usr/bin/env bash
# The main job: set up .venv/ and the default corpus, train the demo WaveRNN
# for ~10 minutes on CPU, evaluate it on the held-out test split, and vocode
# a few held-out utterances (wav + spectrogram PNG).
set -euo pipefail
cd "$(dirname "$0")"
./setup_env.sh --corpus
WORKDIR="${WORKDIR:-workdirs/demo}"
PY=.venv/bin/python
mkdir -p "$WORKDIR"
# First, something to listen to at once: every shipped model vocodes three
# held-out utterances, the best dense one (H = 384, one hour of CPU training)
# first (pretrained/<name>/MODEL_CARD.md; docs/RESULTS.md compares them).
for model in pretrained/dense384 $(ls -d pretrained/*/ | sed 's|/$||' | grep -vx pretrained/dense384); do
  $PY launch.py --mode=vocode --workdir="$model" --split=test --num=3 \
      --output="$WORKDIR/pretrained_vocoded/$(basename "$model")" | tail -n 1
done
# Then train a fresh demo model (~10 min on 2 CPU cores).
$PY launch.py --config=experiments/wavernn.py:preset=demo --workdir="$WORKDIR"
$PY launch.py --mode=evaluate --workdir="$WORKDIR" | tail -n 1 | tee "$WORKDIR/eval_test.json"
$PY launch.py --mode=vocode --workdir="$WORKDIR" --split=test --num=3 | tail -n 1
echo "Done. Loss curve: $WORKDIR/loss.png; held-out NLL: $WORKDIR/eval_test.json;"
echo "vocoded audio and spectrograms: $WORKDIR/vocoded/ (shipped models: $WORKDIR/pretrained_vocoded/<name>/);"
echo "TensorBoard: $WORKDIR/tb"
