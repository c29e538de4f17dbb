r"""The Subscale gap against samples seen, for every candidate (issue 27).

Reads the validation NLL (Polyak average, bits per sample) that each arm of
experiments/studies/subscale_pair.sh (CPU, 3,200 scored samples per step)
and of the H200 pair (runs/gpu_pairs/sub_*, 102,400 per step) logged every
500 steps, subtracts its dense pair's at the same step, prints one JSON line
per arm (the gap at each step) and plots the gaps against samples seen.

  python experiments/studies/subscale_gap_plot.py [--out=docs/subscale_gap_vs_samples.png]
"""

import json
import os

from absl import app
from absl import flags
import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top,wrong-import-position

_OUT = flags.DEFINE_string('out', 'docs/subscale_gap_vs_samples.png',
                           'the plot (PNG).')

# (label, arm's metrics, dense pair's metrics, scored samples per step[,
# dense steps per arm step: the arm's gap at step s is taken against the
# dense pair's at step ratio * s, the same samples seen]).
CPU, GPU = 8 * 400, 256 * 400
ARMS = (
    ('plain context net', 'runs/subscale_pair/subscale384', 'runs/subscale_pair/dense384', CPU),
    ('+ now_tap', 'runs/subscale_pair/subscale384_now', 'runs/subscale_pair/dense384', CPU),
    ('+ left_input', 'runs/subscale_pair/subscale384_left', 'runs/subscale_pair/dense384', CPU),
    ('+ left_input, 32 channels', 'runs/subscale_pair/subscale384_c32', 'runs/subscale_pair/dense384', CPU),
    ('+ left_samples=4', 'runs/subscale_pair/subscale384_left4', 'runs/subscale_pair/dense384', CPU),
    ('+ left_samples=4, sub_bias', 'runs/subscale_pair/subscale384_bias', 'runs/subscale_pair/dense384', CPU),
    ('+ left_samples=15', 'runs/subscale_pair/subscale384_left15', 'runs/subscale_pair/dense384', CPU),
    ('+ left_samples=4, 4 crops of 800 (other validation windows)', 'runs/subscale_pair/subscale384_b4', 'runs/subscale_pair/dense384', CPU),
    ('+ left_samples=4, lpc_order=15', 'runs/subscale_pair/subscale384_lpc', 'runs/subscale_pair/dense384', CPU),
    ('+ left_samples=4, lpc_order=15, sub_bias', 'runs/subscale_pair/subscale384_lpc_bias', 'runs/subscale_pair/dense384', CPU),
    ('+ left_samples=4, lpc_order=15 vs dense with LPC', 'runs/subscale_pair/subscale384_lpc', 'runs/subscale_pair/dense384_lpc', CPU),
    ('+ left_samples=4, lpc_order=15, 4 crops of 800 (other validation windows)', 'runs/subscale_pair/subscale384_lpc_b4', 'runs/subscale_pair/dense384', CPU),
    ('+ left_samples=4, lpc_order=15, two-sided (default)', 'runs/subscale_pair/subscale384_lpc2', 'runs/subscale_pair/dense384', CPU),
    ('+ left_samples=4, lpc_order=15, two-sided vs dense with LPC', 'runs/subscale_pair/subscale384_lpc2', 'runs/subscale_pair/dense384_lpc', CPU),
    ('H200: now_tap + one sample', 'runs/gpu_pairs/sub_subscale384', 'runs/gpu_pairs/sub_dense384', GPU),
)


def validation(run: str) -> dict[int, float]:
  """{step: Polyak-averaged validation NLL} of a run's metrics.jsonl."""
  out = {}
  with open(os.path.join(run, 'metrics.jsonl')) as f:
    for line in f:
      row = json.loads(line)
      if 'nll_bits_ema' in row:
        out[row['step']] = row['nll_bits_ema']
  return out


def main(argv):
  del argv
  fig, ax = plt.subplots(figsize=(11, 4.6))
  ax.set_prop_cycle(color=plt.cm.tab20.colors)
  for label, arm, dense, per_step, *ratio in ARMS:
    if not os.path.exists(os.path.join(arm, 'metrics.jsonl')):
      print(json.dumps({'arm': label, 'run': arm, 'missing': True}))
      continue
    r = ratio[0] if ratio else 1
    a, d = validation(arm), validation(dense)
    steps = sorted(s for s in a if r * s in d)
    gaps = [round(a[s] - d[r * s], 3) for s in steps]
    print(json.dumps({'arm': label, 'run': arm, 'samples_per_step': per_step,
                      'steps': steps, 'gap_bits': gaps}))
    ax.plot([s * per_step / 1e6 for s in steps], gaps, 's--' if per_step == GPU
            else 'o-', label=label, markersize=3)
  ax.set_xscale('log')
  ax.set_xlabel('scored training samples seen (millions)')
  ax.set_ylabel('validation NLL gap to dense (bits/sample)')
  ax.axhline(0.3, color='gray', lw=0.8, ls=':')
  ax.text(ax.get_xlim()[0] * 1.1, 0.31, 'target 0.3 (CPU)', fontsize=7,
          color='gray')
  ax.set_title('Subscale minus dense, same H = 384 cell (Polyak average)')
  ax.legend(fontsize=7, loc='upper left', bbox_to_anchor=(1.01, 1.0))
  fig.tight_layout()
  os.makedirs(os.path.dirname(_OUT.value) or '.', exist_ok=True)
  fig.savefig(_OUT.value, dpi=120)


if __name__ == '__main__':
  app.run(main)
