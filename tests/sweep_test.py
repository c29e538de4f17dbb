"""The sparse-vs-dense sweep: budgets, names, skip/resume, report."""

import csv
import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from experiments.configs import prune_outputs
from experiments.configs import sparse_vs_dense
from tests import fake_corpus
from wavernn_jax import vocoder as vocoder_lib
from wavernn_jax.models import sparsity
from wavernn_jax.training import checkpoint
from wavernn_jax.training import sweep
from wavernn_jax.training import train

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRUNED = tuple(sparse_vs_dense.PRUNED.split(','))


@pytest.mark.parametrize('preset', ['cpu', 'tiny'])
def test_every_point_is_within_5_percent_of_its_budget(preset):
  config = sparse_vs_dense.get_config(f'preset={preset}')
  points = sparse_vs_dense.sweep(config)
  assert len(points) == len(config.sweep.budgets) * len(
      config.sweep.sparsities) * config.sweep.seeds
  # Seed by seed: the first points are one whole seed's curves.
  per_seed = len(points) // config.sweep.seeds
  assert {p['seed'] for p in points[:per_seed]} == {0}
  for p in points:
    o = p['overrides']
    matrices = PRUNED if o['sparsity.enabled'] else ()
    n = sparsity.cell_nonzero(o['model.hidden'], o['sparsity.target'],
                              matrices)
    assert abs(n - p['budget']) <= 0.05 * p['budget'], p
    assert abs(o['sparsity.target'] - p['sparsity']) < 0.15, p


def test_pruned_models_really_have_the_budgeted_non_zeros():
  """Init each tiny point's model, prune it as training would, count."""
  config = sparse_vs_dense.get_config('preset=tiny')
  for p in sparse_vs_dense.sweep(config):
    c = sweep.point_config(config, p['overrides'])
    voc = vocoder_lib.Vocoder.from_config(c)
    params = voc.params
    if c.sparsity.enabled:
      specs = sparsity.specs_from_config(c)
      params, _ = sparsity.prune_params(params, specs)
    w = jax.device_get(voc.net.apply(params, method='weights'))
    # Biases start at zero but are never pruned: count them whole.
    n = sum(x.size if k.startswith('b_') else int(np.count_nonzero(x))
            for k, x in w.items())
    assert abs(n - p['budget']) <= 0.05 * p['budget'], (p['name'], n)


def test_point_names_are_unique_and_readable():
  config = sparse_vs_dense.get_config('preset=cpu')
  names = [p['name'] for p in sparse_vs_dense.sweep(config)]
  assert len(set(names)) == len(names)
  assert 'budget30000_sparsity0.95_block16x1_seed1' in names


def _launch(*args):
  proc = subprocess.run([sys.executable, 'launch.py', *args], cwd=ROOT,
                        capture_output=True, text=True, timeout=900,
                        env=dict(os.environ, JAX_PLATFORMS='cpu'))
  return proc


def test_sweep_runs_skips_resumes_and_reports(tmp_path):
  lj = fake_corpus.make_ljspeech(str(tmp_path / 'lj'))
  workdir = str(tmp_path / 'sweep')
  common = ['--config=experiments/configs/sparse_vs_dense.py:preset=tiny',
            '--config.data.name=wav_folder',
            f'--config.data.manual_dir={lj}',
            f'--config.data.data_dir={tmp_path / "tfds"}',
            f'--workdir={workdir}', '--sweep']
  proc = _launch(*common, '--sweep_index=1')
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert sorted(os.listdir(workdir)) == ['budget20000_sparsity0.50_block16x1_seed0']

  proc = _launch(*common)
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert 'finished, skipped' in proc.stderr  # point 1 was not redone.
  points = sorted(os.listdir(workdir))
  assert len(points) == 3

  # An interrupted point (no result.json) resumes from its checkpoint.
  os.remove(os.path.join(workdir, points[0], 'result.json'))
  proc = _launch(*common, '--sweep_index=0')
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert 'Resumed from step 4' in proc.stderr

  proc = _launch('--mode=report', f'--workdir={workdir}')
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert '| budget | sparsity |' in proc.stdout
  with open(os.path.join(workdir, 'results.csv')) as f:
    rows = list(csv.DictReader(f))
  assert tuple(rows[0]) == sweep.COLUMNS and len(rows) == 3
  for row in rows:
    assert 0 < float(row['nll_bits_per_sample']) < 20
    assert float(row['samples_per_sec']) > 0
    assert abs(int(row['nonzero_params']) - 20000) <= 1000
  assert os.path.getsize(os.path.join(workdir, 'nll_vs_sparsity.png')) > 1000
  # (An out-of-range --sweep_index: tests/bad_input_test.py.)


def test_recipe_sweep_scores_and_reports_each_point(tmp_path):
  lj = fake_corpus.make_ljspeech(str(tmp_path / 'lj'))
  workdir = str(tmp_path / 'recipes')
  common = ['--config=experiments/configs/recipes.py:preset=tiny',
            '--config.data.name=wav_folder',
            f'--config.data.manual_dir={lj}',
            f'--config.data.data_dir={tmp_path / "tfds"}',
            '--config.train.max_cpu_seconds=600',
            f'--workdir={workdir}', '--sweep']
  for index in (0, 2):  # baseline, batch8+emphasis.
    proc = _launch(*common, f'--sweep_index={index}')
    assert proc.returncode == 0, proc.stderr[-2000:]
  proc = _launch('--mode=report', f'--workdir={workdir}')
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert '| recipe | steps |' in proc.stdout
  with open(os.path.join(workdir, 'results.csv')) as f:
    rows = list(csv.DictReader(f))
  assert tuple(rows[0]) == sweep.RECIPE_COLUMNS
  assert sorted(r['recipe'] for r in rows) == ['baseline', 'batch8+emphasis']
  nll = [float(r['nll_bits_per_sample']) for r in rows]
  assert nll == sorted(nll)  # Best first.
  for row in rows:
    assert abs(float(row['nll_coarse_bits']) + float(row['nll_fine_bits']) -
               float(row['nll_bits_per_sample'])) < 1e-3
    assert 1.0 <= float(row['pesq_wb']) <= 4.7
    assert 0 < float(row['train_cpu_seconds']) < 600
    assert int(row['steps']) == 4  # The tiny preset's steps, within budget.
  assert os.path.getsize(os.path.join(workdir, 'nll_vs_cpu_seconds.png')) > 1000


def test_a_point_stopped_by_sigterm_is_left_unscored(corpus, tmp_path,
                                                      monkeypatch):
  """SIGTERM mid-point: checkpoint kept, no result.json, later points not run.

  (A point scored after SIGTERM once entered a sweep's table with 162 of
  its 3,000 steps.)
  """

  class _Requested:
    requested = True  # As if SIGTERM had arrived before the first step.

  monkeypatch.setattr(train, '_Preemption', _Requested)
  config = sparse_vs_dense.get_config('preset=tiny')
  config.data.update(name='wav_folder', manual_dir=os.path.join(corpus, 'lj'),
                     data_dir=str(tmp_path / 'tfds'))
  points = sparse_vs_dense.sweep(config)
  workdir = str(tmp_path / 'sweep')
  assert sweep.run(config, points, workdir) == []
  assert os.listdir(workdir) == [points[0]['name']]  # Stopped at the first.
  sub = os.path.join(workdir, points[0]['name'])
  assert not os.path.exists(os.path.join(sub, sweep.RESULT_FILE))
  assert checkpoint.Checkpointer(sub).latest_step() == 1  # Resumable.


def test_prune_outputs_pairs_differ_only_in_the_pruned_matrices():
  config = prune_outputs.get_config('preset=tiny')
  points = prune_outputs.sweep(config)
  assert len(points) == 2 and len({p['name'] for p in points}) == 2
  r_only, r_and_o = (p['overrides'] for p in points)
  assert {k for k in r_only if r_only[k] != r_and_o[k]} == {
      'sparsity.matrices'}
  for p in points:
    c = sweep.point_config(config, p['overrides'])
    voc = vocoder_lib.Vocoder.from_config(c)
    params, _ = sparsity.prune_params(voc.params,
                                      sparsity.specs_from_config(c))
    w = jax.device_get(voc.net.apply(params, method='weights'))
    zeros = {k: 1 - np.count_nonzero(w[k]) / w[k].size for k in ('O1', 'O3')}
    heads = 'O1' in p['overrides']['sparsity.matrices']
    for k, z in zeros.items():  # O pruned to the target, or untouched.
      assert (abs(z - 0.9) < 0.02) if heads else z == 0, (p['name'], k, z)
