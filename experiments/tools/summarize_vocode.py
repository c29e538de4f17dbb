r"""A short table of `launch.py --mode=vocode` results, one row per model.

  python experiments/tools/summarize_vocode.py \
      --runs=NAME=workdirs/demo/pretrained_vocoded/NAME/vocode.json,...

Each JSON file holds what `--mode=vocode` prints as its last line: a list of
{input, output, spectrogram, samples, seconds, compile_seconds, ...} (one
dict with --input). Per model: the utterances and their audio, the seconds
spent compiling, the seconds from mel to audio end to end (compiling
included, as a user's first calls in a running program pay it) and the
speeds as multiples of real time (at the sample rate of the vocoded wavs):
end to end, and once compiled (total samples / (total - compile seconds)).
"""

import json
import os
import sys

from absl import app
from absl import flags
import soundfile as sf

# Not required=True: tests import this module next to others' flags.
_RUNS = flags.DEFINE_list('runs', None, 'name=vocode.json pairs.')

COLUMNS = ('model', 'utterances', 'audio (s)', 'compile (s)',
           'end to end (s)', 'x real time, end to end',
           'x real time, once compiled', 'wavs and PNGs')


def summarize(name: str, results: list[dict] | dict) -> dict:
  """One table row from the results of one model.

  Args:
    name: the model's name.
    results: what `--mode=vocode` printed (a list of dicts, or one dict).

  Returns:
    {model, utterances, sample_rate (Hz), audio_seconds, seconds,
    compile_seconds, samples_per_sec, real_time (x, end to end),
    real_time_compiled (x, once compiled), folders (where the wavs and
    PNGs are)}.
  """
  if isinstance(results, dict):
    results = [results]
  if not results:
    raise ValueError(f'{name}: no vocoded utterances; run --mode=vocode with '
                     '--num >= 1.')
  rates = {sf.info(r['output']).samplerate for r in results}
  if len(rates) != 1:
    raise ValueError(f'{name}: wavs of several sample rates {sorted(rates)}; '
                     'summarize one model per file.')
  (rate,) = rates
  samples = sum(r['samples'] for r in results)
  seconds = sum(r['seconds'] for r in results)
  compile_s = sum(r.get('compile_seconds', 0.0) for r in results)
  speed = samples / seconds
  folders = sorted({os.path.dirname(p) or '.' for r in results
                    for p in (r['output'], r['spectrogram'])})
  return dict(model=name, utterances=len(results), sample_rate=rate,
              audio_seconds=samples / rate, seconds=seconds,
              compile_seconds=compile_s, samples_per_sec=speed,
              real_time=speed / rate,
              real_time_compiled=samples / max(seconds - compile_s, 1e-9) /
              rate, folders=folders)


def format_table(rows: list[dict]) -> str:
  """The rows of `summarize` as aligned plain text, with a header line."""
  cells = [COLUMNS] + [
      (r['model'], str(r['utterances']), f'{r["audio_seconds"]:.1f}',
       f'{r["compile_seconds"]:.1f}', f'{r["seconds"]:.1f}',
       f'{r["real_time"]:.2f}x at {r["sample_rate"] / 1000:g} kHz',
       f'{r["real_time_compiled"]:.2f}x',
       ', '.join(r['folders'])) for r in rows]
  widths = [max(len(c[i]) for c in cells) for i in range(len(COLUMNS))]
  lines = []
  for c in cells:
    padded = [c[0].ljust(widths[0])] + [
        c[i].rjust(widths[i]) for i in range(1, len(c) - 1)] + [c[-1]]
    lines.append('  '.join(padded))
  return '\n'.join(lines)


def main(argv):
  del argv
  if not _RUNS.value:
    raise app.UsageError('--runs=name=vocode.json[,...] is required.')
  rows = []
  for item in _RUNS.value:
    name, sep, path = item.partition('=')
    if not sep or not os.path.isfile(path):
      raise app.UsageError(f'--runs item {item!r} must be name=vocode.json '
                           'with an existing file.')
    try:
      with open(path) as f:
        rows.append(summarize(name, json.load(f)))
    except (ValueError, KeyError, TypeError, OSError, RuntimeError) as e:
      # RuntimeError: soundfile's error for a missing or unreadable wav.
      print(f'error: {path} is not the output of launch.py --mode=vocode '
            f'({type(e).__name__}: {e}); vocode again', file=sys.stderr)
      sys.exit(1)
  print(format_table(rows))


if __name__ == '__main__':
  app.run(main)
