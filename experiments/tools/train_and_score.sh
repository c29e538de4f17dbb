# Sourced by pair_run.sh and subscale_pair.sh (not run on its own).
#
# run NAME CONFIG [FLAGS...] trains CONFIG with the caller's "${recipe[@]}"
# and FLAGS in $work/NAME on core $core (taskset), scores its Polyak
# average (test NLL, PESQ-WB / STOI / MCD of 8 utterances) into
# $store/NAME.json and copies its metrics.jsonl to $store/NAME/. A model
# scored already is skipped; one cut off resumes from $work/NAME.
run() {  # NAME CONFIG [FLAGS...]
  local name=$1 config=$2
  shift 2
  if [ -e "$store/$name.json" ]; then
    echo "$name: scored already ($store/$name.json)."
    return
  fi
  echo "Training $name for $steps steps on core $core."
  taskset -c "$core" $py launch.py --config="$config" "${recipe[@]}" "$@" \
    --workdir="$work/$name"
  taskset -c "$core" $py launch.py --mode=evaluate --workdir="$work/$name" \
    --quality=8 --average | tail -n 1 > "$store/$name.json.tmp"
  mv "$store/$name.json.tmp" "$store/$name.json"
  mkdir -p "$store/$name"
  cp "$work/$name/metrics.jsonl" "$store/$name/"
  echo "$name: scored into $store/$name.json."
}
