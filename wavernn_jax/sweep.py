"""Sweeps: run every point of an experiment's `sweep()` and report them.

An experiment file may define `sweep(config) -> [dict(name, overrides, ...)]`
beside `get_config`. `run` trains each point into `<workdir>/<name>/` (a
point with a `result.json` is finished and skipped; an interrupted one
resumes from its checkpoints), then scores it: held-out NLL on the test
split and sampling speed at batch 1. `report` gathers every point's
`result.json` into `results.csv`, a plot and a Markdown table.
"""

import csv
import importlib.util
import json
import os
import time

from absl import logging
import jax
import ml_collections
import numpy as np

from wavernn_jax import evaluate
from wavernn_jax import input_pipeline
from wavernn_jax import model as model_lib
from wavernn_jax import plotting
from wavernn_jax import train
from wavernn_jax import vocoder as vocoder_lib

COLUMNS = ('budget', 'sparsity', 'block', 'hidden', 'nonzero_params',
           'total_params', 'steps', 'nll_bits_per_sample', 'samples_per_sec')
RESULT_FILE = 'result.json'


def load_points(config_path: str, config) -> list[dict]:
  """The points of the `sweep(config)` function of an experiment file."""
  config_path = config_path.split(':', 1)[0]  # Drop ':key=value' args.
  spec = importlib.util.spec_from_file_location('sweep_config', config_path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  if not hasattr(module, 'sweep'):
    raise ValueError(f'{config_path} has no sweep() function; --sweep needs '
                     'an experiment file with one (e.g. '
                     'experiments/sparse_vs_dense.py).')
  return module.sweep(config)


def point_config(config, overrides: dict) -> ml_collections.ConfigDict:
  """A copy of `config` with dotted-key overrides applied."""
  config = ml_collections.ConfigDict(config.to_dict())
  for key, value in overrides.items():
    *path, last = key.split('.')
    node = config
    for part in path:
      node = node[part]
    node[last] = value
  return config


def _speed(voc, seconds: float, utterance) -> float:
  """Samples/s of `generate` at batch 1 (after a warm-up call)."""
  t = max(int(seconds * voc.sample_rate) // voc.hop_length, 4)
  audio = np.resize(utterance, t * voc.hop_length)
  mel = voc.mel(audio)
  voc.generate(mel, seed=0)
  start = time.perf_counter()
  voc.generate(mel, seed=1)
  return t * voc.hop_length / (time.perf_counter() - start)


def run_point(config, point: dict, workdir: str) -> dict:
  """Trains one point (resuming) and writes its result.json."""
  train.train_and_evaluate(config, workdir)
  voc = vocoder_lib.Vocoder.restore(workdir)
  test = input_pipeline.load_split(config, 'test')
  n = min(config.sweep.eval_utterances, len(test))
  utterances = [np.asarray(test[i]['audio']) for i in range(n)]
  nll = evaluate.nll_bits_per_sample(voc, utterances)
  weights = jax.device_get(vocoder_lib._weights(voc.net, voc.params))
  result = dict(
      name=point['name'], budget=point['budget'],
      sparsity=point.get('sparsity', config.sparsity.target),
      sparsity_applied=config.sparsity.target if config.sparsity.enabled
      else 0.0,
      block=config.sparsity.block, hidden=config.model.hidden,
      nonzero_params=int(sum(np.count_nonzero(w) for w in weights.values())),
      total_params=model_lib.param_count(weights), steps=voc.step,
      nll_bits_per_sample=nll['nll_bits_per_sample'],
      eval_samples=nll['num_samples'],
      samples_per_sec=_speed(voc, config.sweep.speed_seconds, utterances[0]))
  tmp = os.path.join(workdir, RESULT_FILE + '.tmp')
  with open(tmp, 'w') as f:
    json.dump(result, f, indent=1)
  os.replace(tmp, os.path.join(workdir, RESULT_FILE))
  return result


def run(config, points: list[dict], workdir: str,
        index: int | None = None) -> list[dict]:
  """Runs all points (or only points[index]), skipping finished ones."""
  if index is not None and not 0 <= index < len(points):
    raise ValueError(f'--sweep_index={index} is out of range: this sweep has '
                     f'{len(points)} points (0..{len(points) - 1}).')
  chosen = [points[index]] if index is not None else points
  results, t0 = [], time.time()
  for i, point in enumerate(chosen):
    sub = os.path.join(workdir, point['name'])
    done = os.path.join(sub, RESULT_FILE)
    if os.path.exists(done):
      logging.info('sweep point %d/%d %s: finished, skipped.', i + 1,
                   len(chosen), point['name'])
      with open(done) as f:
        results.append(json.load(f))
      continue
    logging.info('sweep point %d/%d %s (%.0f s into the sweep): %s', i + 1,
                 len(chosen), point['name'], time.time() - t0,
                 point['overrides'])
    results.append(run_point(point_config(config, point['overrides']), point,
                             sub))
  return results


def collect(workdir: str) -> list[dict]:
  rows = []
  for name in sorted(os.listdir(workdir)):
    path = os.path.join(workdir, name, RESULT_FILE)
    if os.path.exists(path):
      with open(path) as f:
        rows.append(json.load(f))
  if not rows:
    raise ValueError(f'no finished sweep points (*/{RESULT_FILE}) in '
                     f'{workdir}; run the sweep first with --sweep.')
  return sorted(rows, key=lambda r: (r['budget'], r['sparsity']))


def markdown_table(rows: list[dict]) -> str:
  lines = ['| ' + ' | '.join(COLUMNS) + ' |',
           '|' + '---|' * len(COLUMNS)]
  for r in rows:
    cells = [f'{r[c]:.3f}' if isinstance(r[c], float) else str(r[c])
             for c in COLUMNS]
    lines.append('| ' + ' | '.join(cells) + ' |')
  return '\n'.join(lines)


def report(workdir: str) -> dict:
  """Writes results.csv and nll_vs_sparsity.png; returns paths and table."""
  rows = collect(workdir)
  csv_path = os.path.join(workdir, 'results.csv')
  with open(csv_path + '.tmp', 'w', newline='') as f:
    writer = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction='ignore')
    writer.writeheader()
    writer.writerows(rows)
  os.replace(csv_path + '.tmp', csv_path)
  png_path = os.path.join(workdir, 'nll_vs_sparsity.png')
  plotting.plot_sweep(rows, png_path)
  table = markdown_table(rows)
  print(table)
  return {'results_csv': csv_path, 'plot': png_path, 'points': len(rows)}
