r"""Sparse versus dense WaveRNN at fixed numbers of non-zero weights (Fig. 2).

  python launch.py --config=experiments/sparse_vs_dense.py --sweep --workdir=DIR
  python launch.py --config=experiments/sparse_vs_dense.py --sweep \
      --sweep_index=3 --workdir=DIR          # one point (e.g. one cluster job)
  python launch.py --mode=report --workdir=DIR

Every point trains the same demo WaveRNN setup (data, seed, steps, batch,
evaluation) with a hidden size chosen so that its cell (R, I, O1..O4 and
biases) has at most `budget` non-zero weights at its sparsity; all of R_u,
R_r, R_e and O1..O4 are pruned to that sparsity with the cubic schedule
(16x1 blocks). `get_config(arg)` args:
  preset   cpu (default; ~1 hour on 2 CPU cores) | tiny (tests, < 1 min)
  block    pruning block BHxBW (str, default 16x1)
"""

import ml_collections

from experiments import wavernn
from wavernn_jax import config_args
from wavernn_jax import sparsity

SPARSITIES = (0.0, 0.5, 0.8, 0.9, 0.95, 0.96, 0.98)
PRUNED = 'R_u,R_r,R_e,O1,O2,O3,O4'
HIDDEN_MULTIPLE = 32  # H multiple: H/2 must hold whole 16-row blocks.


def get_config(arg: str = '') -> ml_collections.ConfigDict:
  args = config_args.parse(arg, dict(preset='cpu', block='16x1'))
  if args.preset not in ('cpu', 'tiny'):
    raise ValueError(f'preset={args.preset!r} is unknown; use cpu or tiny.')
  tiny = args.preset == 'tiny'
  c = wavernn.get_config(f'variant=sparse,preset={"tiny" if tiny else "demo"},'
                         f'block={args.block}')
  # Scalar inputs, no emphasis: the budgets count I_prev / I_c as cell
  # weights, and points stay comparable with the sweep of docs/RESULTS.md.
  c.model.update(emphasis=0.0, embed_inputs=False)
  c.sweep = ml_collections.ConfigDict()
  c.sweep.preset = args.preset  # cpu | tiny.
  # Budgets of non-zero cell weights (count); one curve each.
  c.sweep.budgets = (20_000,) if tiny else (30_000, 60_000)
  c.sweep.sparsities = (0.0, 0.5, 0.9) if tiny else SPARSITIES  # Z values.
  c.sweep.eval_utterances = 2 if tiny else 8  # test-split utterances scored.
  c.sweep.speed_seconds = 0.05 if tiny else 0.5  # s of audio timed (batch 1).
  c.sparsity.matrices = PRUNED
  if not tiny:
    c.data.batch_size = 16  # windows per step (halved: many points to run).
    c.train.update(steps=600, max_seconds=0.0, eval_every=300,
                   ckpt_every=100, sample_seconds=0.25)
  steps = c.train.steps
  # Schedule relative to the run: prune from 10% to 60% of the steps.
  c.sparsity.update(start_step=max(steps // 10, 1),
                    ramp_steps=max(steps // 2, 1),
                    update_every=max(steps // 40, 1))
  return c


def point_name(budget: int, z: float, block: str) -> str:
  return f'budget{budget}_sparsity{z:.2f}_block{block}'


def _fit_sparsity(hidden: int, budget: int, z_max: float) -> float:
  """The sparsity (<= z_max) at which an H-cell has `budget` non-zeros."""
  matrices = tuple(PRUNED.split(','))
  lo, hi = 0.0, z_max
  for _ in range(40):  # cell_nonzero falls as the sparsity grows: bisect.
    mid = (lo + hi) / 2
    if sparsity.cell_nonzero(hidden, mid, matrices) > budget:
      lo = mid
    else:
      hi = mid
  return round(hi, 5)


def sweep(config) -> list[dict]:
  """The points: one dict each with name, budget and dotted overrides.

  Dense points: the largest even H whose cell fits the budget. Pruned
  points: H is a multiple of 32 (whole 16-unit blocks) and the applied
  sparsity is fitted so that the cell's non-zero count meets the budget
  (within a fraction of a percent); of the two sizes around the budget, the
  one whose fitted sparsity is nearest the nominal Z is taken. Both the
  nominal and the applied sparsity are reported.
  """
  points = []
  for budget in config.sweep.budgets:
    for z in config.sweep.sparsities:
      if z == 0:
        hidden, applied = sparsity.hidden_for_budget(budget, 0.0,
                                                     multiple=2), 0.0
      else:
        lo = sparsity.hidden_for_budget(
            budget, z, matrices=tuple(PRUNED.split(',')),
            multiple=HIDDEN_MULTIPLE)
        # Of the two grid sizes around the budget, the one whose fitted
        # sparsity is nearest the nominal Z.
        hidden, applied = min(
            ((h, _fit_sparsity(h, budget, 0.995))
             for h in (lo, lo + HIDDEN_MULTIPLE)),
            key=lambda pair: abs(pair[1] - z))
      points.append(dict(
          name=point_name(budget, z, config.sparsity.block), budget=budget,
          sparsity=z, overrides={'model.hidden': hidden,
                                 'sparsity.target': applied,
                                 'sparsity.enabled': z > 0,
                                 'variant': 'sparse' if z > 0 else 'dense'}))
  return points
