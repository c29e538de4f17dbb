"""The flagship-shaped training step on random audio, for the benchmarks.

`bench_training.py`, `bench_memory.py` and `profile_train_step.py` time the
step users train with (`train.train_step`, jitted as `launch.py` runs it
on one device) without a corpus: the speed of a step does not depend on
the audio's values.
"""

import jax
import jax.numpy as jnp
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P
import numpy as np

from wavernn_jax.models import sparse_training
from wavernn_jax.models import variants
from wavernn_jax.training import input_pipeline
from wavernn_jax.training import train


def make(config, seed: int = 0, density: float | None = None):
  """The jitted training step of `config` on one device.

  Args:
    config: an experiment config.
    seed: of the params and the random audio.
    density: prune R one-shot to this kept fraction (balanced blocks of
      `sparsity.block`; needs sparsity enabled with R pruned) and freeze
      the masks; the step is dense or block-sparse as
      `sparsity.train_kernel` chooses at that density.

  Returns:
    (step_fn, state, window): step_fn(state, window) -> (state, metrics),
    with state donated; window is int16 [batch, window_samples] of random
    audio. step_fn.layout is the {key: `sparse_training.Layout`} it runs
    with (None: dense).
  """
  if density is not None:
    config = config.copy_and_resolve_references()
    config.sparsity.start_step = 2**30  # Masks frozen while timing.
  variant = variants.of(config)
  net, tx = variant.make_net(), train.make_optimizer(config)
  ctx = variant.context_frames
  mesh = jax.make_mesh((1,), ('data',))
  params = variant.init(jax.random.key(seed))
  state = train.TrainState(jnp.zeros((), jnp.int32), params, tx.init(params))
  layout = None
  if density is not None:
    params, opt_state, layout = sparse_training.prune_frozen(
        config, params, state.opt_state, density)
    state = train.TrainState(state.step, params, opt_state)
  window = np.random.default_rng(seed).integers(
      -3000, 3000, (config.data.batch_size,
                    input_pipeline.window_samples(config)), dtype=np.int16)
  step_fn = jax.jit(
      lambda s, w: train.train_step(net, variant.mel, ctx, tx, s, w, mesh,
                                    layout),
      in_shardings=(NamedSharding(mesh, P()), NamedSharding(mesh, P('data'))),
      donate_argnums=0)
  step_fn.layout = layout
  return step_fn, state, window
