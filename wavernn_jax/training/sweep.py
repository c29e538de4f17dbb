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

from wavernn_jax import vocoder as vocoder_lib
from wavernn_jax.evaluation import evaluate
from wavernn_jax.models import model as model_lib
from wavernn_jax.training import input_pipeline
from wavernn_jax.training import train
from wavernn_jax.utils import errors
from wavernn_jax.utils import history
from wavernn_jax.utils import plotting

COLUMNS = ('budget', 'sparsity', 'seed', 'block', 'pruned', 'hidden',
           'nonzero_params', 'total_params', 'steps', 'nll_bits_per_sample',
           'samples_per_sec')
# Sweeps whose config says sweep.kind = 'recipes' (experiments/configs/recipes.py).
RECIPE_COLUMNS = ('recipe', 'steps', 'train_cpu_seconds',
                  'train_samples_per_cpu_sec',
                  'nll_bits_per_sample', 'nll_coarse_bits', 'nll_fine_bits',
                  'pesq_wb', 'stoi', 'mcd_db', 'griffin_lim_pesq_wb',
                  'griffin_lim_stoi', 'griffin_lim_mcd_db')
RESULT_FILE = 'result.json'


def load_points(config_path: str, config) -> list[dict]:
  """The points of the `sweep(config)` function of an experiment file."""
  config_path = config_path.split(':', 1)[0]  # Drop ':key=value' args.
  spec = importlib.util.spec_from_file_location('sweep_config', config_path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  if not hasattr(module, 'sweep'):
    raise errors.UserError(
        f'{config_path} has no sweep() function; --sweep needs '
        'an experiment file with one (e.g. '
        'experiments/configs/sparse_vs_dense.py).')
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


def run_point(config, point: dict, workdir: str) -> dict | None:
  """Trains one point (resuming) and writes its result.json.

  None when training stopped on SIGTERM before its end: the point is left
  unscored (no result.json), so the next run resumes it.
  """
  if train.train_and_evaluate(config, workdir).get('preempted'):
    logging.info('sweep point %s stopped on SIGTERM; not scored (run the '
                 'sweep again to resume it).', point['name'])
    return None
  voc = vocoder_lib.Vocoder.restore(workdir)
  test = input_pipeline.load_split(config, 'test')
  n = min(config.sweep.eval_utterances, len(test))
  utterances = [np.asarray(test[i]['audio']) for i in range(n)]
  nll = evaluate.nll_bits_per_sample(voc, utterances)
  weights = jax.device_get(voc.weights())
  result = dict(
      name=point['name'], budget=point.get('budget'),
      sparsity=point.get('sparsity', config.sparsity.target),
      seed=config.seed,
      sparsity_applied=config.sparsity.target if config.sparsity.enabled
      else 0.0,
      block=config.sparsity.block,
      pruned=config.sparsity.matrices if config.sparsity.enabled else '',
      curve=point.get('curve'), hidden=config.model.hidden,
      nonzero_params=int(sum(np.count_nonzero(w) for w in weights.values())),
      total_params=model_lib.param_count(weights), steps=voc.step,
      nll_bits_per_sample=nll['nll_bits_per_sample'],
      eval_samples=nll['num_samples'],
      samples_per_sec=_speed(voc, config.sweep.speed_seconds, utterances[0]))
  if config.sweep.get('kind') == 'recipes':
    result.update(_recipe_scores(config, point, workdir, voc, utterances, nll))
  tmp = os.path.join(workdir, RESULT_FILE + '.tmp')
  with open(tmp, 'w') as f:
    json.dump(result, f, indent=1)
  os.replace(tmp, os.path.join(workdir, RESULT_FILE))
  return result


def _recipe_scores(config, point, workdir, voc, utterances, nll) -> dict:
  """Coarse/fine NLL, training throughput and copy-synthesis quality."""
  path = os.path.join(workdir, 'metrics.jsonl')
  seconds = history.last_value(path, 'train_seconds')
  cpu = history.last_value(path, 'train_cpu_seconds')
  scored = voc.step * config.data.batch_size * config.data.crop_samples
  n = min(config.sweep.quality_utterances, len(utterances))
  return dict(recipe=point.get('recipe', point['name']),
              overrides=point['overrides'],
              nll_coarse_bits=nll['nll_coarse_bits'],
              nll_fine_bits=nll['nll_fine_bits'], train_seconds=seconds,
              train_cpu_seconds=cpu,
              train_samples_per_cpu_sec=scored / cpu if cpu else None,
              **evaluate.copy_synthesis_quality(voc, utterances[:n]))


def run(config, points: list[dict], workdir: str,
        index: int | None = None) -> list[dict]:
  """Runs all points (or only points[index]), skipping finished ones."""
  if index is not None and not 0 <= index < len(points):
    raise errors.UserError(
        f'--sweep_index={index} is out of range: this sweep has '
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
    result = run_point(point_config(config, point['overrides']), point, sub)
    if result is None:  # SIGTERM: stop here, the later points too.
      break
    results.append(result)
  return results


def collect(workdir: str) -> list[dict]:
  rows = []
  for name in sorted(os.listdir(workdir)):
    path = os.path.join(workdir, name, RESULT_FILE)
    if os.path.exists(path):
      with open(path) as f:
        rows.append(json.load(f))
  if not rows:
    raise errors.UserError(f'no finished sweep points (*/{RESULT_FILE}) in '
                           f'{workdir}; run the sweep first with --sweep.')
  if _is_recipes(rows):  # Best held-out NLL first.
    return sorted(rows, key=lambda r: r['nll_bits_per_sample'])
  return sorted(rows, key=lambda r: (r.get('budget') or 0, r['sparsity'],
                                     r.get('seed', 0), r.get('pruned', '')))


def _is_recipes(rows) -> bool:
  return all('recipe' in r for r in rows)


def _cell(value) -> str:
  if isinstance(value, float):
    return f'{value:.3f}' if abs(value) < 100 else f'{value:,.0f}'
  return '' if value is None else str(value)


def markdown_table(rows: list[dict], columns=COLUMNS) -> str:
  lines = ['| ' + ' | '.join(columns) + ' |',
           '|' + '---|' * len(columns)]
  for r in rows:
    lines.append('| ' + ' | '.join(_cell(r.get(c)) for c in columns) + ' |')
  return '\n'.join(lines)


def report(workdir: str) -> dict:
  """Writes results.csv, a figure and prints a Markdown table.

  Sparsity sweeps: nll_vs_sparsity.png. Recipe sweeps
  (experiments/configs/recipes.py): nll_vs_cpu_seconds.png, every point's train and
  validation NLL against the CPU seconds it had trained.
  """
  rows = collect(workdir)
  recipes = _is_recipes(rows)
  columns = RECIPE_COLUMNS if recipes else COLUMNS
  csv_path = os.path.join(workdir, 'results.csv')
  with open(csv_path + '.tmp', 'w', newline='') as f:
    writer = csv.DictWriter(f, fieldnames=columns, extrasaction='ignore')
    writer.writeheader()
    writer.writerows(rows)
  os.replace(csv_path + '.tmp', csv_path)
  if recipes:
    png_path = os.path.join(workdir, 'nll_vs_cpu_seconds.png')
    plotting.plot_runs({r['recipe']: os.path.join(workdir, r['name'],
                                                  'metrics.jsonl')
                        for r in rows}, png_path, x='train_cpu_seconds')
  else:
    png_path = os.path.join(workdir, 'nll_vs_sparsity.png')
    plotting.plot_sweep(rows, png_path)
  table = markdown_table(rows, columns)
  print(table)
  return {'results_csv': csv_path, 'plot': png_path, 'points': len(rows)}
