r"""Training throughput: scored samples per second, per core and in all.

  python experiments/tools/bench_training.py [--preset=demo] [--hidden=256] \
      [--dtypes=float32,bfloat16] [--cores=1,2] [--steps=20] [--batch=8]

Each (matmul dtype, cores) setting runs the jitted training step of the
preset in a fresh child process pinned to that many cores (`taskset`; XLA
sizes its thread pool from the affinity mask) and prints one JSON line:
compile time, mean step time over `--steps` steps after two warm-up steps,
scored samples per second (batch x crop / step time), the same per core,
and the process's CPU time per step. "Two runs on one core each" is the
1-core row times two; compare it with the 2-core row. Run it on a quiet
machine (pause training with kill -STOP / -CONT).

  python experiments/tools/bench_training.py --mode=sparse [--hidden=864] \
      [--densities=1.0,0.5,0.2,0.1,0.05] [--reference_hidden=256]

Sparse mode (issue 13): R pruned one-shot to each density (balanced blocks
of --block, masks frozen), the step timed with R dense (`path=dense`) and
block-sparse (`path=kernel`, sparse_training.py), plus the dense model of
--reference_hidden (`path=reference`); one JSON line each, with the stored
density of the kernel (its K bucket's padding included).

  python experiments/tools/bench_training.py --mode=sparse --hidden=896 \
      --densities=0.05 --matrices=R_u,R_r,R_e,O1,O2,O3,O4 --noembed_inputs \
      --reference_hidden=384 --cores=1 --batch=8 --train_kernels=xla,fused

Issue 37: each setting runs once per `--train_kernels` value
(`model.kernel`: xla, the lax.scan reference, or fused, the CPU kernels of
cpu_kernels.py), with "train_kernel" in its JSON line; --noembed_inputs
feeds the bytes as scalars, as the flagship sparse896_lpc_pitch does.
"""

import json
import os
import subprocess
import sys
import time

from absl import app
from absl import flags

from wavernn_jax.utils import timing

_PRESET = flags.DEFINE_string('preset', 'demo',
                              'experiments/configs/wavernn.py preset.')
_HIDDEN = flags.DEFINE_integer('hidden', -1, 'H (-1: the preset\'s).')
_DTYPES = flags.DEFINE_list('dtypes', ['float32', 'bfloat16'],
                            'model.matmul_dtype values.')
_CORES = flags.DEFINE_list('cores', ['1', '2'], 'cores per run (taskset).')
_FIRST_CORE = flags.DEFINE_integer(
    'first_core', 0, 'the first core of each run\'s mask (another run may '
    'hold core 0).')
_STEPS = flags.DEFINE_integer('steps', 20, 'timed steps per setting.')
_BATCH = flags.DEFINE_integer('batch', -1, 'data.batch_size (-1: preset\'s).')
_MODE = flags.DEFINE_enum('mode', 'dtypes', ['dtypes', 'sparse'],
                          'dtypes: dtype x cores; sparse: R density x path.')
_DENSITIES = flags.DEFINE_list('densities', ['1.0', '0.5', '0.2', '0.1',
                                             '0.05'],
                               'sparse mode: kept fractions of R.')
_BLOCK = flags.DEFINE_string('block', '16x1', 'sparse mode: block BHxBW.')
_MATRICES = flags.DEFINE_string('matrices', 'R_u,R_r,R_e',
                                'sparse mode: sparsity.matrices pruned to '
                                'each density (add O1,O2,O3,O4 for the '
                                'heads).')
_PATHS = flags.DEFINE_list('paths', ['dense', 'kernel'],
                           'sparse mode: dense (masked dense products) and/or '
                           'kernel (block-sparse products).')
_REFERENCE = flags.DEFINE_integer('reference_hidden', 256,
                                  'sparse mode: H of the dense reference '
                                  '(0: none).')
_KERNELS = flags.DEFINE_list('train_kernels', ['auto'],
                             'model.kernel values (auto | xla | fused), one '
                             'run each.')
_EMBED = flags.DEFINE_bool('embed_inputs', True,
                           'model.embed_inputs (the demo preset\'s True; the '
                           'flagship feeds scalars: --noembed_inputs).')
_KERNEL = flags.DEFINE_string('kernel', 'auto', 'internal: model.kernel.')
_CHILD = flags.DEFINE_string('child', None,
                             'internal: dtype:cores[:path:density].')


def _child(dtype: str, cores: int, path: str = 'dense',
           density: float | None = None) -> dict:
  import jax  # pylint: disable=g-import-not-at-top
  from experiments.configs import wavernn  # pylint: disable=g-import-not-at-top
  from experiments.tools import synthetic_step  # pylint: disable=g-import-not-at-top
  variant = 'sparse' if density is not None else 'dense'
  config = wavernn.get_config(f'preset={_PRESET.value},variant={variant},'
                              f'hidden={_HIDDEN.value},block={_BLOCK.value}')
  config.model.matmul_dtype = dtype
  config.model.kernel = _KERNEL.value
  config.model.embed_inputs = _EMBED.value
  if density is not None:
    config.sparsity.matrices = _MATRICES.value
  config.sparsity.train_kernel = 'sparse' if path == 'kernel' else 'dense'
  if _BATCH.value > 0:
    config.data.batch_size = _BATCH.value
  from wavernn_jax.kernels import cpu_kernels  # pylint: disable=g-import-not-at-top
  from wavernn_jax.models import model  # pylint: disable=g-import-not-at-top
  cpu_kernels.tune_malloc()  # As launch.py does.
  fused = model.ModelConfig.from_config(config).fused()
  step, state, window = synthetic_step.make(config, density=density)
  t0 = time.time()
  compiled = step.lower(state, window).compile()
  compile_s = time.time() - t0
  for _ in range(2):
    state, metrics = compiled(state, window)
  jax.block_until_ready(metrics)
  t0, c0 = time.time(), time.process_time()
  for _ in range(_STEPS.value):
    state, metrics = compiled(state, window)
  jax.block_until_ready(metrics)
  step_s = (time.time() - t0) / _STEPS.value
  cpu_s = (time.process_time() - c0) / _STEPS.value
  scored = config.data.batch_size * config.data.crop_samples
  layout = step.layout
  return dict(what='train_step', preset=_PRESET.value,
              hidden=config.model.hidden, matmul_dtype=dtype, cores=cores,
              path=path, density=density, train_kernel=_KERNEL.value,
              fused=fused, embed_inputs=_EMBED.value,
              matrices=config.sparsity.matrices if density else None,
              stored_density=layout and {k: round(v.density, 4)
                                         for k, v in layout.items()},
              threads_visible=os.cpu_count() and len(os.sched_getaffinity(0)),
              batch=config.data.batch_size,
              crop_samples=config.data.crop_samples,
              compile_s=round(compile_s, 2), step_s=round(step_s, 4),
              cpu_s_per_step=round(cpu_s, 4),
              scored_samples_per_s=round(scored / step_s),
              scored_samples_per_s_per_core=round(scored / step_s / cores),
              loss=float(metrics['loss']))


def main(argv):
  del argv
  if _CHILD.value:
    dtype, cores, *rest = _CHILD.value.split(':')
    if rest:
      path, density = rest
      rest = [path, None if density == 'none' else float(density)]
    print(json.dumps(_child(dtype, int(cores), *rest)), flush=True)
    return
  root = os.path.dirname(os.path.dirname(os.path.dirname(
      os.path.abspath(__file__))))  # The repo root.
  # What the numbers were measured on.
  print(json.dumps(dict(what='machine', **timing.machine())), flush=True)
  # (dtype, H, path, density) per child; each runs at every --cores.
  if _MODE.value == 'dtypes':
    settings = [(d, _HIDDEN.value, None) for d in _DTYPES.value]
  else:
    hidden = 864 if _HIDDEN.value == -1 else _HIDDEN.value
    settings = [('float32', hidden, f'{path}:{float(density)}')
                for density in _DENSITIES.value
                for path in _PATHS.value]
    if _REFERENCE.value:
      settings.append(('float32', _REFERENCE.value, 'reference:none'))
  runs = [(s, k, c) for s in settings for k in _KERNELS.value
          for c in _CORES.value]
  for (dtype, hidden, rest), kernel, cores in runs:
    mask = ','.join(str(_FIRST_CORE.value + i) for i in range(int(cores)))
    child = f'{dtype}:{cores}' + (f':{rest}' if rest else '')
    subprocess.run(['taskset', '-c', mask, sys.executable,
                    os.path.abspath(__file__), f'--preset={_PRESET.value}',
                    f'--hidden={hidden}', f'--steps={_STEPS.value}',
                    f'--batch={_BATCH.value}', f'--block={_BLOCK.value}',
                    f'--matrices={_MATRICES.value}', f'--kernel={kernel}',
                    '--embed_inputs' if _EMBED.value else '--noembed_inputs',
                    f'--child={child}'],
                   cwd=root, env=dict(os.environ, PYTHONPATH=os.pathsep.join(
                       filter(None, [root, os.environ.get('PYTHONPATH')]))),
                   check=True)


if __name__ == '__main__':
  app.run(main)
