"""Figures a person looks at: spectrogram comparisons and loss curves."""

import json
import os
import tempfile

import numpy as np


def pyplot():
  """matplotlib.pyplot with the file backend (Agg), imported on first use:
  the import takes ~0.5 s, which a vocode process then pays after its audio,
  not before its first sample (issue 38)."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  return plt


def compare_spectrograms(mel_a_FxM, mel_b_FxM, sample_rate: int, hop: int,
                         titles=('input', 'vocoded')):
  """A figure with two log-mel spectrograms stacked, same colour scale."""
  lo = min(mel_a_FxM.min(), mel_b_FxM.min())
  hi = max(mel_a_FxM.max(), mel_b_FxM.max())
  fig, axes = pyplot().subplots(2, 1, figsize=(10, 6), sharex=True)
  for ax, mel, title in zip(axes, (mel_a_FxM, mel_b_FxM), titles):
    seconds = mel.shape[0] * hop / sample_rate
    im = ax.imshow(mel.T, origin='lower', aspect='auto', vmin=lo, vmax=hi,
                   extent=(0, seconds, 0, mel.shape[1]), cmap='magma')
    ax.set_title(title)
    ax.set_ylabel('mel bin')
  axes[-1].set_xlabel('time (s)')
  fig.colorbar(im, ax=axes, label='ln |mel|')
  return fig


def save_figure(fig, path: str) -> None:
  """Saves atomically (temp file + rename) and closes the figure."""
  folder = os.path.dirname(os.path.abspath(path))
  fd, tmp = tempfile.mkstemp(suffix='.png', dir=folder)
  os.close(fd)
  try:
    fig.savefig(tmp, dpi=100)
    os.chmod(tmp, 0o644)  # mkstemp makes it private.
    os.replace(tmp, path)
  finally:
    pyplot().close(fig)
    if os.path.exists(tmp):
      os.remove(tmp)


def _nll_curves(jsonl_path: str, x: str = 'step') -> dict:
  """{split: [(x, nll_bits), ...]} of a metrics.jsonl.

  x: 'step', or a column of the train rows (e.g. 'train_cpu_seconds'); rows
  without it (validation) take the value of the train row of their step.
  Validation rows of runs with a Polyak average (nll_bits_ema) also give
  the curve 'validation (average)'.
  """
  curves, rows, at_step = {}, [], {}
  with open(jsonl_path) as f:
    for line in f:
      row = json.loads(line)
      rows.append(row)
      if x in row:
        at_step[row['step']] = row[x]
  for row in rows:
    value = row[x] if x in row else at_step.get(row['step'])
    if value is not None:
      curves.setdefault(row['split'], []).append((value, row['nll_bits']))
      if 'nll_bits_ema' in row:
        curves.setdefault(row['split'] + ' (average)', []).append(
            (value, row['nll_bits_ema']))
  return curves


_X_LABELS = {'step': 'step', 'train_cpu_seconds': 'CPU seconds of training',
             'train_seconds': 'seconds of training'}


def _save_nll_figure(fig, ax, png_path: str, x: str = 'step') -> None:
  """Labels an NLL-against-x axis and writes the figure."""
  ax.set_xlabel(_X_LABELS.get(x, x))
  ax.set_ylabel('NLL (bits / 16-bit sample)')
  ax.grid(alpha=0.3)
  ax.legend()
  fig.tight_layout()
  save_figure(fig, png_path)


def plot_history(jsonl_path: str, png_path: str) -> None:
  """Train and validation NLL (bits/sample) against step, from metrics.jsonl."""
  if not os.path.exists(jsonl_path):
    return
  curves = _nll_curves(jsonl_path)
  fig, ax = pyplot().subplots(figsize=(8, 4))
  for split, points in sorted(curves.items()):
    points.sort()
    ax.plot(*zip(*points), label=split, marker='.' if len(points) < 50 else None)
  _save_nll_figure(fig, ax, png_path)


def plot_runs(runs: dict, png_path: str, x: str = 'step') -> None:
  """Several runs' NLL against x: train (thin) and validation (markers).

  Args:
    runs: {label: metrics.jsonl path}.
    png_path: where the figure goes.
    x: 'step', 'train_seconds' or 'train_cpu_seconds'.
  """
  fig, ax = pyplot().subplots(figsize=(8, 4.5))
  for i, (label, path) in enumerate(runs.items()):
    curves = _nll_curves(path, x)
    color = f'C{i % 10}'
    if 'train' in curves:
      ax.plot(*zip(*sorted(curves['train'])), color=color, alpha=0.35, lw=1)
    if 'validation' in curves:
      ax.plot(*zip(*sorted(curves['validation'])), color=color, marker='o',
              label=f'{label} (validation)')
    if 'validation (average)' in curves:
      ax.plot(*zip(*sorted(curves['validation (average)'])), color=color,
              marker='s', ls='--',
              label=f'{label} (validation, Polyak average)')
  _save_nll_figure(fig, ax, png_path, x)


def plot_sweep(rows, png_path: str) -> None:
  """Held-out NLL against sparsity, one line per curve.

  A row's curve is its `curve` label if it has one, else its non-zero
  budget. With several seeds per point the line joins their means and a
  bar spans the lowest to the highest seed.
  """
  def curve(r):
    return r.get('curve') or f'{r["budget"]:,} non-zero weights'

  fig, ax = pyplot().subplots(figsize=(7, 4.5))
  for label in sorted({curve(r) for r in rows}):
    by_z = {}
    for r in rows:
      if curve(r) == label:
        by_z.setdefault(r['sparsity'], []).append(r)
    xs = sorted(by_z)
    nll = [np.array([r['nll_bits_per_sample'] for r in by_z[x]]) for x in xs]
    ys = [v.mean() for v in nll]
    seeds = max(len(v) for v in nll)
    ax.errorbar(xs, ys, yerr=[[y - v.min() for y, v in zip(ys, nll)],
                                     [v.max() - y for y, v in zip(ys, nll)]],
                       marker='o', capsize=3,
                       label=label + (f' ({seeds} seeds, min-max)'
                                      if seeds > 1 else ''))
    for x, y in zip(xs, ys):
      ax.annotate(f'H={by_z[x][0]["hidden"]}', (x, y),
                  textcoords='offset points', xytext=(0, 6), ha='center',
                  fontsize=7)
  ax.set_xlabel('sparsity of the pruned matrices')
  ax.set_ylabel('held-out NLL (bits / 16-bit sample)')
  ax.set_title('Sparse vs dense WaveRNN at equal non-zero weights'
               if all(r.get('budget') for r in rows) else
               'Held-out NLL against sparsity')
  ax.grid(alpha=0.3)
  ax.legend()
  fig.tight_layout()
  save_figure(fig, png_path)


def plot_chain(legs, png_path: str) -> None:
  """One model's training legs end to end against scored samples seen.

  Each leg warm-starts from the one before (its steps count from 0) and may
  differ in batch, so the x axis is the cumulative number of scored
  training samples. Top: validation NLL (the Polyak average where kept);
  bottom: PESQ-WB and STOI of the legs' `quality.jsonl` rows
  (`launch.py --mode=evaluate --quality=N`), averaged over the rows of a
  step (several sampling seeds).

  Args:
    legs: [(label, folder, samples_per_step, until_step or None)], each
      folder holding metrics.jsonl and optionally quality.jsonl; a leg is
      cut at until_step (where the next one started from).
    png_path: where the figure goes.
  """
  fig, (ax, axq) = pyplot().subplots(2, 1, figsize=(9, 7), sharex=True)
  axs = axq.twinx()
  start = 0.0
  for i, (label, folder, per_step, until) in enumerate(legs):
    color = f'C{i % 10}'
    until = float('inf') if until is None else until
    curves = _nll_curves(os.path.join(folder, 'metrics.jsonl'))
    val = curves.get('validation (average)') or curves.get('validation', [])
    val = sorted(p for p in val if 0 < p[0] <= until)
    if val:
      ax.plot([start + s * per_step for s, _ in val], [v for _, v in val],
              color=color, marker='.', label=label)
    scores = {}
    path = os.path.join(folder, 'quality.jsonl')
    if os.path.exists(path):
      with open(path) as f:
        for line in f:
          row = json.loads(line)
          if 'pesq_wb' in row and row['step'] <= until:
            scores.setdefault(row['step'], []).append(row)
    for step, rows in sorted(scores.items()):
      x = start + step * per_step
      axq.plot(x, np.mean([r['pesq_wb'] for r in rows]), 'o', color=color)
      axs.plot(x, np.mean([r['stoi'] for r in rows]), 's', color=color,
               mfc='none')
    last = val[-1][0] if val else 0
    start += (min(until, last) if until != float('inf') else last) * per_step
  ax.set_xscale('log')
  ax.set_ylabel('validation NLL (bits / 16-bit sample)')
  ax.grid(alpha=0.3)
  ax.legend(fontsize=8)
  axq.set_ylabel('PESQ-WB (filled circles)')
  axs.set_ylabel('STOI (open squares)')
  axq.set_xlabel('scored training samples seen (cumulative over the legs)')
  axq.grid(alpha=0.3)
  fig.tight_layout()
  save_figure(fig, png_path)
