r"""What pruning O1..O4 too costs in held-out NLL (issue 12).

  taskset -c 0 python launch.py --config=experiments/configs/prune_outputs.py \
      --sweep --sweep_index=0 --workdir=DIR     # one point per core
  python launch.py --mode=report --workdir=DIR

The sampler is ~2.6x faster at H = 896 when the output layers O1..O4 are
pruned as well as R_u, R_r, R_e (docs/RESULTS.md, "Sampling through
Vocoder.generate"); the paper prunes R only. This experiment gives the
other half of that trade: pairs of models with the same hidden size, the
same sparsity of R, the same seed, data, steps and pruning schedule (the
sparse-vs-dense sweep's recipe, experiments/configs/sparse_vs_dense.py),
one pruning R only and one pruning R and O1..O4 to the same sparsity; each
scored by held-out NLL on the test split and samples/s of `generate` at
batch 1.
`get_config(arg)` args:
  preset   cpu (default; 3,000 steps a point) | tiny (tests, < 1 min)
  hidden   H of every point (int, default 352; a multiple of 32)
  seeds    seeds per pair (int, default 1)
  steps    training steps per point (int, default 3000)
"""

import ml_collections

from experiments.configs import sparse_vs_dense
from wavernn_jax.training import config_args

GATES = 'R_u,R_r,R_e'
# curve label -> pruned matrices.
PRUNING = (('R pruned (paper)', GATES),
           ('R and O1..O4 pruned', sparse_vs_dense.PRUNED))


def get_config(arg: str = '') -> ml_collections.ConfigDict:
  args = config_args.parse(arg, dict(preset='cpu', hidden=352, seeds=1,
                                     steps=3000))
  c = sparse_vs_dense.get_config(f'preset={args.preset},steps={args.steps},'
                                 f'seeds={args.seeds}')
  if args.hidden <= 0 or args.hidden % sparse_vs_dense.HIDDEN_MULTIPLE:
    raise ValueError(f'hidden={args.hidden} must be a positive multiple of '
                     f'{sparse_vs_dense.HIDDEN_MULTIPLE} (whole 16-unit '
                     'blocks); e.g. hidden=352.')
  c.sweep.hidden = 64 if args.preset == 'tiny' else args.hidden
  c.sweep.sparsities = (0.9,) if args.preset == 'tiny' else (0.9, 0.95)
  return c


def sweep(config) -> list[dict]:
  """Per seed and sparsity: the R-only point, then the R + O1..O4 point."""
  points = []
  for seed in range(config.sweep.seeds):
    for z in config.sweep.sparsities:
      for curve, matrices in PRUNING:
        tag = 'RO' if 'O1' in matrices else 'R'
        points.append(dict(
            name=f'hidden{config.sweep.hidden}_sparsity{z:.2f}_{tag}_'
                 f'seed{seed}',
            curve=curve, sparsity=z, seed=seed,
            overrides={'model.hidden': config.sweep.hidden,
                       'sparsity.target': z, 'sparsity.enabled': True,
                       'sparsity.matrices': matrices, 'variant': 'sparse',
                       'seed': seed}))
  return points
