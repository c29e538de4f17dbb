"""Figures: the multi-run NLL plot draws what the histories hold."""

import json

import matplotlib.pyplot as plt
import numpy as np

from wavernn_jax.utils import plotting


def test_plot_runs_draws_each_runs_train_and_validation_curves(tmp_path,
                                                               monkeypatch):
  runs = {}
  for label, offset in (('a', 0.0), ('b', 1.0)):
    path = tmp_path / f'{label}.jsonl'
    rows = [dict(step=s, split='train', nll_bits=12 - s / 100 + offset)
            for s in (50, 100, 150)]
    rows.append(dict(step=100, split='validation', nll_bits=11 + offset,
                     **({'nll_bits_ema': 10.9} if label == 'b' else {})))
    path.write_text(''.join(json.dumps(r) + '\n' for r in rows))
    runs[label] = str(path)
  figures = []
  monkeypatch.setattr(plotting, 'save_figure',
                      lambda fig, path: figures.append(fig))
  plotting.plot_runs(runs, str(tmp_path / 'runs.png'))
  (ax,) = figures[0].axes
  lines = {(l.get_label(), len(l.get_xdata())): np.asarray(l.get_ydata())
           for l in ax.get_lines()}
  np.testing.assert_allclose(lines[('a (validation)', 1)], [11.0])
  np.testing.assert_allclose(lines[('b (validation)', 1)], [12.0])
  # Only the run that kept a Polyak average has its curve.
  np.testing.assert_allclose(
      lines[('b (validation, Polyak average)', 1)], [10.9])
  assert ('a (validation, Polyak average)', 1) not in lines
  trains = sorted(tuple(y) for (label, n), y in lines.items() if n == 3)
  np.testing.assert_allclose(trains, [(11.5, 11.0, 10.5), (12.5, 12.0, 11.5)])
  plt.close('all')


def test_plot_chain_puts_the_legs_end_to_end_in_samples(tmp_path,
                                                        monkeypatch):
  """Leg 2 starts where leg 1 was cut (its until_step), each leg's steps
  times its samples per step; quality rows of one step are averaged."""
  legs = []
  for name, val in (('one', (10.0, 9.0, 8.5)), ('two', (8.4, 8.3, 8.2))):
    folder = tmp_path / name
    folder.mkdir()
    rows = [dict(step=s, split='validation', nll_bits=v + 1, nll_bits_ema=v)
            for s, v in zip((100, 200, 300), val)]
    (folder / 'metrics.jsonl').write_text(
        ''.join(json.dumps(r) + '\n' for r in rows))
    legs.append([name, str(folder)])
  (tmp_path / 'two' / 'quality.jsonl').write_text(''.join(
      json.dumps(dict(step=300, pesq_wb=p, stoi=0.9)) + '\n'
      for p in (1.0, 2.0)))
  legs = [tuple(legs[0]) + (10, 200), tuple(legs[1]) + (1000, None)]
  figures = []
  monkeypatch.setattr(plotting, 'save_figure',
                      lambda fig, path: figures.append(fig))
  plotting.plot_chain(legs, str(tmp_path / 'chain.png'))
  ax, axq, _ = figures[0].axes
  curves = {l.get_label(): (np.asarray(l.get_xdata()),
                            np.asarray(l.get_ydata())) for l in ax.get_lines()}
  # Leg one cut at step 200 (2,000 samples); the Polyak average is drawn.
  np.testing.assert_allclose(curves['one'][0], [1000, 2000])
  np.testing.assert_allclose(curves['one'][1], [10.0, 9.0])
  np.testing.assert_allclose(curves['two'][0], [102000, 202000, 302000])
  np.testing.assert_allclose(curves['two'][1], [8.4, 8.3, 8.2])
  (pesq,) = axq.get_lines()
  np.testing.assert_allclose(pesq.get_xdata(), [302000])
  np.testing.assert_allclose(pesq.get_ydata(), [1.5])
  plt.close('all')
