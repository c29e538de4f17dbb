r"""Training recipes compared at equal CPU budget (issue 11's A/B harness).

  taskset -c 0 python launch.py --config=experiments/configs/recipes.py --sweep \
      --sweep_index=0 --workdir=DIR &       # one point per core, two at once
  taskset -c 1 python launch.py --config=experiments/configs/recipes.py --sweep \
      --sweep_index=1 --workdir=DIR &
  python launch.py --mode=report --workdir=DIR

Every point is the demo WaveRNN (H = 256, same seed, same data) with one
recipe change, trained for the same CPU budget (`train.max_cpu_seconds`, CPU
seconds of the run's process, so other jobs on the machine do not shift it)
on one core. The learning rate stays at its peak after warm-up (the cosine
runs over far more steps than any budget reaches), so points that take more
or fewer steps per second are compared at the same point of their schedule.
Each point is scored on the test split: NLL in bits per 16-bit sample split
into coarse and fine bytes (all utterances), and PESQ-WB / STOI / MCD of
copy-synthesis on the first `quality_utterances`, next to Griffin-Lim.
`get_config(arg)` args:
  preset   cpu (default; `budget` s per point) | tiny (tests, seconds)
  budget   training CPU seconds per point (float, default 1200)
"""

import ml_collections

from experiments.configs import wavernn
from wavernn_jax.training import config_args

# name -> dotted overrides of the demo config. Append new recipes at the end:
# --sweep_index refers to positions in this list. After the first pair
# (batch 8 learned far faster than 32 per CPU-second), each candidate is
# one change on top of batch 8.
_B8 = {'data.batch_size': 8}
_EE = {'model.emphasis': 0.85, 'model.embed_inputs': True}
RECIPES = (
    ('baseline', {}),
    ('batch8', _B8),
    ('batch8+emphasis', dict(_B8, **{'model.emphasis': 0.85})),
    ('batch8+embed', dict(_B8, **{'model.embed_inputs': True})),
    ('batch8+cond', dict(_B8, **{'model.cond_res_blocks': 4,
                                 'model.upsample': 'linear'})),
    ('batch8+lr3e-3', dict(_B8, **{'train.learning_rate': 3e-3})),
    ('batch4+crop1000', {'data.crop_samples': 1000, 'data.batch_size': 4}),
    # Round 2 kept both emphasis and embeddings: the two together.
    ('batch8+emphasis+embed', dict(_B8, **_EE)),
    # Round 3, on top of the adopted recipe (points 5 and 6 above were
    # superseded by it before they ran): optimisation knobs.
    ('batch8+emphasis+embed+lr3e-3',
     dict(_B8, **_EE, **{'train.learning_rate': 3e-3})),
    ('batch4+crop1000+emphasis+embed',  # Crops are whole frames (hop 200).
     dict(_EE, **{'data.crop_samples': 1000, 'data.batch_size': 4})),
    # Round 4: the ablation beside the paper, on the adopted recipe: 8-bit
    # mu-law codes in the coarse byte, fine byte always 0 (`model.mulaw`).
    # Its NLL is per mu-law code; compare it by PESQ / STOI / MCD.
    ('batch8+emphasis+embed+mulaw8',
     dict(_B8, **_EE, **{'model.mulaw': True})),
    # Polyak averaging of the params (`train.ema_decay`; the average is
    # what is scored and sampled): unannealed peak-LR checkpoints sample
    # far worse than annealed ones (RESULTS, the long run).
    ('batch8+emphasis+embed+ema0.999',
     dict(_B8, **_EE, **{'train.ema_decay': 0.999})),
    # Round 5: LPCNet's noise shaping in full on the adopted recipe: the
    # excitation after order-16 LPC computed from the mel is modelled
    # (`model.lpc_order`), s_{t-1} and p_t are inputs.
    ('batch8+emphasis+embed+ema0.999+lpc16',
     dict(_B8, **_EE, **{'train.ema_decay': 0.999, 'model.lpc_order': 16})),
    # Round 6: LPCNet's other features, pitch period (embedded) and voicing,
    # estimated from the mel (`model.pitch`), on the round-5 winner.
    ('batch8+emphasis+embed+ema0.999+lpc16+pitch',
     dict(_B8, **_EE, **{'train.ema_decay': 0.999, 'model.lpc_order': 16,
                         'model.pitch': True})),
)


def get_config(arg: str = '') -> ml_collections.ConfigDict:
  args = config_args.parse(arg, dict(preset='cpu', budget=1200.0))
  if args.preset not in ('cpu', 'tiny'):
    raise ValueError(f'preset={args.preset!r} is unknown; use cpu or tiny.')
  tiny = args.preset == 'tiny'
  c = wavernn.get_config('preset=tiny' if tiny else 'preset=demo')
  # The baseline is the demo recipe before this A/B chose new defaults.
  c.model.update(emphasis=0.0, embed_inputs=False, lpc_order=0, pitch=False)
  c.train.ema_decay = 0.0
  if not tiny:
    c.data.batch_size = 32
  c.sweep = ml_collections.ConfigDict()
  c.sweep.preset = args.preset  # cpu | tiny.
  c.sweep.kind = 'recipes'  # report layout (sweep.report).
  c.sweep.eval_utterances = 2 if tiny else 32  # test utterances for the NLL.
  c.sweep.quality_utterances = 1 if tiny else 8  # copy-synthesis scored.
  c.sweep.speed_seconds = 0.05 if tiny else 0.5  # s of audio timed (batch 1).
  if not tiny:
    # Far more steps than the budget allows: the LR stays at its peak.
    c.train.update(steps=100_000, max_seconds=0.0, max_cpu_seconds=args.budget,
                   eval_every=500, ckpt_every=500, log_every=50)
  return c


def sweep(config) -> list[dict]:
  """One point per recipe: name and dotted overrides of the demo config."""
  del config
  return [dict(name=name, recipe=name, overrides=dict(overrides))
          for name, overrides in RECIPES]
