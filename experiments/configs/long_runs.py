r"""Named long runs: resumable lineages trained a stretch at a time.

Each run is `experiments/configs/wavernn.py` with the overrides below; the
script that trains one stretch of it (on one core, for a CPU budget, then
scores it and copies what resumes it to runs/NAME/) is

  experiments/tools/long_run.sh NAME CPU_SECONDS [CORE]

which calls `launch.py --config=experiments/configs/long_runs.py:NAME`.
Every run uses the chosen recipe (docs/RESULTS.md, "Recipe ablations at
equal budget"): batch 8, pre-emphasis 0.85, a Polyak
average (decay 0.999) that is scored and shipped, LPC (order 16) and pitch
from the mel, and a 200k-step cosine so the LR stays near its peak for
many sessions.

Runs (command chain, cost so far, scores: docs/RESULTS.md):

  sparse896_z95   Issue 23's large sparse model: H = 896, R and O1..O4
                  pruned in 16x1 blocks to 95 % (158,656 non-zero cell
                  weights), pruned from step 0 over 300 steps so that the
                  block-sparse step (0.9 s at 95 % on an AVX2 core, against
                  5.9 s dense) starts after ~35 steps.
                  The chosen recipe: resumed from runs/sparse896_z95/
                  (step 10,949, 8,076 CPU-s, validation 8.737 / Polyak
                  8.713 bits; 0.62 CPU-s per step on an AVX-512 core).
  sparse896_z97   The same at 97 % (~95,000 non-zero). Concluded after
                  1,778 CPU-s: 0.02 bit behind 95 % at equal CPU and no
                  cheaper to train (checkpoint in git history).
  sparse896_z95_distill  sparse896_z95 distilled from
                  pretrained/dense384_lpc_pitch_v2: loss 0.5 NLL + 0.5 CE
                  against the teacher's teacher-forced coarse and fine
                  distributions (train.distill_from). Concluded after
                  6,000 CPU-s (7,883 steps, 8.739 Polyak): ahead at equal
                  steps by 0.08 bit early and 0.01 at the end, but 1.17x
                  the CPU per step, so no better at equal CPU.
  sparse896_z95_anneal  A branch of sparse896_z95 at step 19,124 (SEEDS
                  below: long_run.sh copies that checkpoint in when the
                  branch has none) whose cosine ends at step 28,000: the
                  LR drops from 1.47e-3 to 4.0e-4 and decays to 7.5e-5.
                  It measures how much of the gap to the targets is the
                  high learning rate rather than capacity or samples.
                  Concluded at step 28,000 (19,124 -> 28,000 in ~5,800
                  CPU-s): validation 8.640 (Polyak; the parent 8.660).
  sparse896_z95_b32  A branch of sparse896_z95_anneal at step 28,000 with
                  4x the crops per step (batch 32): the cosine of a
                  34,000-step run puts the LR at 1.8e-4 there, decaying to
                  7.5e-5. It measured whether less gradient noise buys what
                  the learning rate did not (a batch-32 step costs 2.56
                  CPU-s, 4 batch-8 steps 2.52: no more samples per
                  CPU-second). Concluded at step
                  33,071 (12,300 CPU-s): validation 8.634 (Polyak; the
                  parent 8.640); shipped as pretrained/sparse896_lpc_pitch.
  sparse896_z95_long  Issue 37: the shipped flagship (step 33,071, the
                  b32 branch's full state, committed in runs/) trained on
                  for more samples: batch 8 again and a warm restart, a
                  cosine ending at step 48,000 that puts the LR at
                  ~4e-4 at the resume point and decays to 7.5e-5.
                  model.kernel=auto trains on the fused CPU kernel where
                  it is built (same checkpoints). Reached step 48,000 on
                  2026-12-07 (validation 8.624 Polyak, the parent 8.634;
                  XLA to step 35,000, then the fused path); its
                  checkpoint left the tree when long2 superseded it
                  (commit 15499a9 holds it).
  sparse896_z95_long2  Issue 37: sparse896_z95_long's step 48,000 trained
                  on: the same recipe and batch, a warm restart whose cosine
                  ends at step 80,000 (LR 5.7e-4 at the resume point,
                  decaying to 7.5e-5), on the fused CPU path. Concluded at
                  step 80,000 (47,283 CPU-s; validation 8.600 Polyak) and
                  shipped as pretrained/sparse896_lpc_pitch; its full
                  checkpoint left the tree (commit a728c0d holds it).
  sparse896_z95_long3  Issue 37: sparse896_z95_long2's step 80,000 (the end
                  of its cosine) trained on with a warm restart whose
                  cosine ends at step 110,000 (LR 3.2e-4 at the resume
                  point, decaying to 7.5e-5), on the fused CPU path.
                  At step 101,631 on 2026-12-07 (52,542 CPU-s; validation
                  8.594, Polyak 8.591; test NLL 8.379 at step 94,500).
                  Concluded at step 110,000 (54,473 CPU-s; validation
                  8.593, Polyak 8.589; test 8.375) and shipped as
                  pretrained/sparse896_lpc_pitch; its full checkpoint left
                  the tree (commit 27d574e holds it).
  sparse896_z95_long4  Issue 37: long3's step 110,000 (the end of its
                  cosine) trained on with a warm restart whose cosine ends
                  at step 150,000 (LR 3.3e-4 at the resume point): more
                  samples for the same cell. The control arm of
                  sparse896_z90_grow, at equal CPU. At 3,000 CPU-s (step
                  123,332): validation 8.593, Polyak 8.586; at step 132,826
                  (59,584 CPU-s in all) 8.586 / 8.583, in runs/.
  sparse896_z90_grow  Issue 37: the same branch point grown to 90 %
                  (twice the kept blocks, ~317,000 non-zero cell weights)
                  by experiments/tools/regrow.py: every trained block kept,
                  the new ones (largest dense gradient per block-row)
                  starting at zero, the same warm-restart cosine as long4.
                  It asks whether the flattening curve is capacity (the
                  grown cell pulls ahead at equal CPU) or samples. Made
                  once by `regrow.py --source=runs/sparse896_z95_long3
                  --name=sparse896_z90_grow`, then resumed by long_run.sh.
                  At 3,000 CPU-s (step 119,923; 0.30 CPU-s per step against
                  long4's 0.225): validation 8.600, Polyak 8.587, level
                  with long4 but not ahead; at step 123,432 (4,125 CPU-s
                  from 110,000) 8.592 / 8.585, in runs/.

Expected curves and the speed of the chosen run: docs/RESULTS.md, "A large
sparse model that is also real time".

All three feed the previous bytes as scalars (model.embed_inputs=False), as the
paper and the equal-non-zero pair do: the embedding tables (1.7 M weights
at H = 896, ten times the cell's non-zeros) cost 70 % of the sparse sampling
step on this code path (docs/RESULTS.md "Sampling speed").

The H = 384 lineage behind pretrained/dense384_lpc_pitch_v2 (dense384,
dense384_lpc, dense384_lpc_pitch and its batch arms) is concluded: its
checkpoints are at commit 79b7d93 (the archive) and its commands in
docs/PRETRAINED_HISTORY.md.
"""

import ml_collections

from experiments.configs import wavernn

# The 16x1 pruning of R and the heads, reaching the cheap regime early: the
# cubic schedule from step 0 over 300 steps, masks every 10 steps; the
# kernel trains a matrix block-sparse at stored density <= 0.5 (it beats
# the dense step there at batch 8: 4.6 vs 5.9 s at H = 896, RESULTS
# "Training throughput").
_FLAGSHIP_PRUNING = dict(matrices='R_u,R_r,R_e,O1,O2,O3,O4', start_step=0,
                         ramp_steps=300, update_every=10,
                         train_kernel_density=0.5)

# The flagship's cell: H = 896, R and the heads in 16x1 blocks, at Z.
_Z95 = 'variant=sparse,hidden=896,sparsity=0.95,block=16x1'
_Z90 = 'variant=sparse,hidden=896,sparsity=0.90,block=16x1'
RUNS = {
    'sparse896_z95': ('variant=sparse,hidden=896,sparsity=0.95,block=16x1',
                      _FLAGSHIP_PRUNING),
    'sparse896_z97': ('variant=sparse,hidden=896,sparsity=0.97,block=16x1',
                      _FLAGSHIP_PRUNING),
    'sparse896_z95_distill': (
        'variant=sparse,hidden=896,sparsity=0.95,block=16x1',
        _FLAGSHIP_PRUNING,
        dict(distill_from='pretrained/dense384_lpc_pitch_v2',
             distill_weight=0.5)),
    'sparse896_z95_anneal': (
        'variant=sparse,hidden=896,sparsity=0.95,block=16x1',
        _FLAGSHIP_PRUNING, dict(steps=28_000)),
    'sparse896_z95_b32': (
        'variant=sparse,hidden=896,sparsity=0.95,block=16x1',
        _FLAGSHIP_PRUNING, dict(steps=34_000)),
    'sparse896_z95_long': (_Z95, _FLAGSHIP_PRUNING, dict(steps=48_000)),
    'sparse896_z95_long2': (_Z95, _FLAGSHIP_PRUNING, dict(steps=80_000)),
    'sparse896_z95_long3': (_Z95, _FLAGSHIP_PRUNING, dict(steps=110_000)),
    'sparse896_z95_long4': (_Z95, _FLAGSHIP_PRUNING, dict(steps=150_000)),
    'sparse896_z90_grow': (_Z90, _FLAGSHIP_PRUNING, dict(steps=150_000)),
}

# Runs whose batch is not the recipe's 8 (crops per step).
BATCH = {'sparse896_z95_b32': 32}

# Branches: a run that starts from another run's committed checkpoint
# (its parameters, optimizer state, Polyak average and step) rather than
# from scratch. long_run.sh copies the checkpoint in on the first stretch.
SEEDS = {
    'sparse896_z95_anneal': 'runs/sparse896_z95',
    'sparse896_z95_b32': 'runs/sparse896_z95_anneal',
    'sparse896_z95_long2': 'runs/sparse896_z95_long',
    'sparse896_z95_long3': 'runs/sparse896_z95_long2',
    'sparse896_z95_long4': 'runs/sparse896_z95_long3',
}


def get_config(arg: str = '') -> ml_collections.ConfigDict:
  name = arg.strip()
  if name not in RUNS:
    raise ValueError(f'long run {name!r} is unknown; use one of '
                     f'{sorted(RUNS)} (experiments/configs/long_runs.py).')
  base, pruning, *train = RUNS[name]
  c = wavernn.get_config(f'{base},steps=200000')
  c.data.batch_size = BATCH.get(name, 8)
  c.model.update(emphasis=0.85, embed_inputs=False, lpc_order=16, pitch=True)
  c.train.update(ema_decay=0.999, max_seconds=0.0, log_every=100,
                 eval_every=1000, ckpt_every=500)
  c.sparsity.update(pruning)
  c.train.update(*train)
  return c
