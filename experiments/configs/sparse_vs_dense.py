r"""Sparse versus dense WaveRNN at fixed numbers of non-zero weights (Fig. 2).

  python launch.py --config=experiments/configs/sparse_vs_dense.py --sweep --workdir=DIR
  taskset -c 0 python launch.py --config=experiments/configs/sparse_vs_dense.py \
      --sweep --sweep_index=3 --workdir=DIR  # one point (one core, one job)
  python launch.py --mode=report --workdir=DIR

Every point trains the same demo WaveRNN setup (data, steps, recipe,
evaluation) with a hidden size chosen so that its cell (R, I, O1..O4 and
biases) has at most `budget` non-zero weights at its sparsity; all of R_u,
R_r, R_e and O1..O4 are pruned to that sparsity with the cubic schedule
(16x1 blocks), from 10 % to 50 % of the steps, so every pruned model trains
its second half at its final sparsity. Each (budget, sparsity) runs with
`seeds` seeds (the model's init and the data order); the points are listed
seed by seed, so a partly run sweep has whole curves first. Training runs R
through the block-sparse kernel once it is sparse enough
(`sparsity.train_kernel=auto`), so a step costs about what its non-zeros do.
`get_config(arg)` args:
  preset   cpu (default; 3,000 steps a point) | tiny (tests, < 1 min)
  block    pruning block BHxBW (str, default 16x1)
  seeds    seeds per point (int, default 2; tiny: 1)
  steps    training steps per point (int, default 3000)
"""

import ml_collections

from experiments.configs import wavernn
from wavernn_jax.models import sparsity
from wavernn_jax.training import config_args

SPARSITIES = (0.0, 0.5, 0.8, 0.9, 0.95)
PRUNED = 'R_u,R_r,R_e,O1,O2,O3,O4'
HIDDEN_MULTIPLE = 32  # H multiple: H/2 must hold whole 16-row blocks.


def get_config(arg: str = '') -> ml_collections.ConfigDict:
  args = config_args.parse(arg, dict(preset='cpu', block='16x1', seeds=-1,
                                     steps=3000))
  if args.preset not in ('cpu', 'tiny'):
    raise ValueError(f'preset={args.preset!r} is unknown; use cpu or tiny.')
  tiny = args.preset == 'tiny'
  c = wavernn.get_config(f'variant=sparse,preset={"tiny" if tiny else "demo"},'
                         f'block={args.block}')
  # The demo recipe (batch 8, pre-emphasis 0.85) with scalar inputs: the
  # budgets count I_prev / I_c as cell weights, and byte embeddings would
  # add 1,536 H looked-up table entries that the paper's count has no
  # place for.
  c.model.update(emphasis=0.85, embed_inputs=False, lpc_order=0,
                 pitch=False)
  c.train.ema_decay = 0.0  # As measured (runs/sweep13): no Polyak average.
  c.sweep = ml_collections.ConfigDict()
  c.sweep.preset = args.preset  # cpu | tiny.
  # Budgets of non-zero cell weights (count); one curve each.
  c.sweep.budgets = (20_000,) if tiny else (30_000, 60_000)
  c.sweep.sparsities = (0.0, 0.5, 0.9) if tiny else SPARSITIES  # Z values.
  c.sweep.seeds = args.seeds if args.seeds > 0 else (1 if tiny else 2)
  c.sweep.eval_utterances = 2 if tiny else 8  # test-split utterances scored.
  c.sweep.speed_seconds = 0.05 if tiny else 0.5  # s of audio timed (batch 1).
  c.sparsity.matrices = PRUNED
  if not tiny:
    c.data.batch_size = 8  # windows per step (the demo recipe's).
    c.train.update(steps=args.steps, max_seconds=0.0, eval_every=500,
                   ckpt_every=250, log_every=100, sample_seconds=0.25)
  steps = c.train.steps
  # Schedule relative to the run: prune from 10% to 50% of the steps.
  c.sparsity.update(start_step=max(steps // 10, 1),
                    ramp_steps=max(steps * 2 // 5, 1),
                    update_every=max(steps // 40, 1))
  return c


def point_name(budget: int, z: float, block: str, seed: int) -> str:
  return f'budget{budget}_sparsity{z:.2f}_block{block}_seed{seed}'


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
  sizes = {}
  for budget in config.sweep.budgets:
    for z in config.sweep.sparsities:
      if z == 0:
        sizes[budget, z] = sparsity.hidden_for_budget(budget, 0.0,
                                                      multiple=2), 0.0
      else:
        lo = sparsity.hidden_for_budget(
            budget, z, matrices=tuple(PRUNED.split(',')),
            multiple=HIDDEN_MULTIPLE)
        # Of the two grid sizes around the budget, the one whose fitted
        # sparsity is nearest the nominal Z.
        sizes[budget, z] = min(
            ((h, _fit_sparsity(h, budget, 0.995))
             for h in (lo, lo + HIDDEN_MULTIPLE)),
            key=lambda pair: abs(pair[1] - z))
  points = []
  for seed in range(config.sweep.seeds):
    for (budget, z), (hidden, applied) in sizes.items():
      points.append(dict(
          name=point_name(budget, z, config.sparsity.block, seed),
          budget=budget, sparsity=z, seed=seed,
          overrides={'model.hidden': hidden, 'sparsity.target': applied,
                     'sparsity.enabled': z > 0,
                     'variant': 'sparse' if z > 0 else 'dense',
                     'seed': seed}))
  return points
