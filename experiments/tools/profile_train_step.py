r"""Where a training step's time goes, op by op (issue 37's roofline).

  python experiments/tools/profile_train_step.py [--kernel=fused] [--batch=8] \
      [--hidden=896] [--density=0.05] [--top=20]

Builds the flagship-shaped step (`synthetic_step.make`: the demo preset's
LPC + pitch recipe with scalar byte inputs, R and O1..O4 pruned one-shot to
--density in 16x1 blocks, masks frozen), runs it a few times, then records
--repeats steps under `jax.profiler.trace` and reads the Perfetto trace that
JAX writes: one JSON line per XLA op (thunk) or FFI call, its ms per step
and its share of the step, the largest first, then the step's total. Pin it
to one quiet core (taskset -c 0). The op names are XLA's (`ffi_call.N` are
the fused kernels: the two largest are the recurrence's backward and
forward); `--hlo=FILE` writes the compiled HLO to look a name up.
"""

import collections
import glob
import gzip
import json
import os
import tempfile

from absl import app
from absl import flags
import jax

from experiments.configs import wavernn
from wavernn_jax.kernels import cpu_kernels
from wavernn_jax.utils import timing
from experiments.tools import synthetic_step

_KERNEL = flags.DEFINE_enum('kernel', 'fused', ['xla', 'fused'],
                            'model.kernel.')
_BATCH = flags.DEFINE_integer('batch', 8, 'data.batch_size.')
_HIDDEN = flags.DEFINE_integer('hidden', 896, 'H.')
_DENSITY = flags.DEFINE_float('density', 0.05, 'kept fraction of R, O1..O4.')
_REPEATS = flags.DEFINE_integer('repeats', 3, 'steps traced.')
_TOP = flags.DEFINE_integer('top', 20, 'ops printed.')
_HLO = flags.DEFINE_string('hlo', None, 'write the compiled HLO here.')


def main(argv):
  del argv
  cpu_kernels.tune_malloc()
  config = wavernn.get_config(f'preset=demo,variant=sparse,'
                              f'hidden={_HIDDEN.value},block=16x1')
  config.sparsity.update(matrices='R_u,R_r,R_e,O1,O2,O3,O4',
                         train_kernel='sparse')
  config.model.update(kernel=_KERNEL.value, embed_inputs=False)
  config.data.batch_size = _BATCH.value
  step, state, window = synthetic_step.make(config, density=_DENSITY.value)
  compiled = step.lower(state, window).compile()
  if _HLO.value:
    with open(_HLO.value, 'w') as f:
      f.write(compiled.as_text())
  for _ in range(3):
    state, metrics = compiled(state, window)
  jax.block_until_ready(metrics)
  folder = tempfile.mkdtemp(prefix='profile_train_step_')
  with jax.profiler.trace(folder, create_perfetto_trace=True):
    for _ in range(_REPEATS.value):
      state, metrics = compiled(state, window)
    jax.block_until_ready(metrics)
  path = glob.glob(os.path.join(folder, '**', '*.trace.json.gz'),
                   recursive=True)[0]
  with gzip.open(path) as f:
    events = json.load(f)
  events = events['traceEvents'] if isinstance(events, dict) else events
  total, calls = collections.Counter(), collections.Counter()
  for e in events:
    if e.get('ph') == 'X' and 'dur' in e:
      total[e['name']] += e['dur'] / 1000.0 / _REPEATS.value
      calls[e['name']] += 1
  step_ms = total.get('ThunkExecutor::Execute (wait for completion)', 0.0)
  ops = [(n, ms) for n, ms in total.most_common()
         if not n.startswith(('ThunkExecutor', '$', 'PjitFunction'))]
  common = dict(kernel=_KERNEL.value, batch=_BATCH.value,
                hidden=_HIDDEN.value, density=_DENSITY.value)
  for name, ms in ops[:_TOP.value]:
    print(json.dumps(dict(what='op', op=name, ms_per_step=round(ms, 2),
                          share=round(ms / step_ms, 4) if step_ms else None,
                          **common)))
  print(json.dumps(dict(what='step', ms_per_step=round(step_ms, 2),
                        ops_listed_ms=round(sum(ms for _, ms in ops), 2),
                        **common, **timing.machine())))


if __name__ == '__main__':
  app.run(main)
