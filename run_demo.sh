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
# First, something to listen to at once: every shipped model (the six
# under pretrained/; tests/pretrained_test.py names them) vocodes three
# held-out utterances. First the flagship, sparse896_lpc_pitch (95 %
# block-sparse H = 896, LPC and pitch from the mel; issue 23: the fast one,
# still training), then the others in name order: the best-sounding dense
# model dense384_lpc_pitch_v2, the equal-non-zero pair dense256_lpc_v2 /
# sparse864_lpc_v2 and the two Subscale models, subscale384_lpc2 (with
# linear prediction from the drawn samples on both sides) and subscale384_v4
# (pretrained/<name>/MODEL_CARD.md;
# docs/RESULTS.md compares them; earlier models: docs/PRETRAINED_HISTORY.md).
# Each run's JSON result goes to <output folder>/vocode.json; then a table of
# them is printed.
runs=()
best=pretrained/sparse896_lpc_pitch
for model in $best $(ls -d pretrained/*/ | sed 's|/$||' | grep -vx $best); do
  name=$(basename "$model")
  out="$WORKDIR/pretrained_vocoded/$name"
  mkdir -p "$out"
  $PY launch.py --mode=vocode --workdir="$model" --split=test --num=3 \
      --output="$out" | tail -n 1 > "$out/vocode.json.tmp"
  mv "$out/vocode.json.tmp" "$out/vocode.json"
  runs+=("$name=$out/vocode.json")
done
echo "Shipped models, copy-synthesis of held-out utterances:"
$PY experiments/tools/summarize_vocode.py --runs="$(IFS=,; echo "${runs[*]}")"
# Then train a fresh demo model (~10 min on 2 CPU cores).
$PY launch.py --config=experiments/configs/wavernn.py:preset=demo --workdir="$WORKDIR"
$PY launch.py --mode=evaluate --workdir="$WORKDIR" | tail -n 1 | tee "$WORKDIR/eval_test.json"
mkdir -p "$WORKDIR/vocoded"
$PY launch.py --mode=vocode --workdir="$WORKDIR" --split=test --num=3 \
    --output="$WORKDIR/vocoded" | tail -n 1 > "$WORKDIR/vocoded/vocode.json.tmp"
mv "$WORKDIR/vocoded/vocode.json.tmp" "$WORKDIR/vocoded/vocode.json"
echo "The demo model, copy-synthesis of held-out utterances:"
$PY experiments/tools/summarize_vocode.py --runs="demo=$WORKDIR/vocoded/vocode.json"
echo "Done. Loss curve: $WORKDIR/loss.png; held-out NLL: $WORKDIR/eval_test.json;"
echo "vocoded audio and spectrograms: $WORKDIR/vocoded/ (shipped models: $WORKDIR/pretrained_vocoded/<name>/);"
echo "vocoding results as JSON: vocode.json in each of those folders; TensorBoard: $WORKDIR/tb"
