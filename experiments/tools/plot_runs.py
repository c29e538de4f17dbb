r"""NLL curves of several training runs in one figure (docs/RESULTS.md).

  python experiments/tools/plot_runs.py --out=docs/pretrained_curves.png \
      --runs=dense384=workdirs/long/dense384,sparse864=workdirs/long/sparse864
  # one model's legs end to end (each warm-started from the last; x: scored
  # samples seen; leg = label=folder@samples_per_step[:until_step]):
  python experiments/tools/plot_runs.py --out=docs/chain.png \
      --chain=cpu=runs/dense384_lpc@3200,gpu=runs/gpu_pitch/leg1_batch128@51200
"""

import os
import sys

from absl import app
from absl import flags

from wavernn_jax.utils import plotting

_RUNS = flags.DEFINE_list('runs', None, 'label=workdir pairs.')
_CHAIN = flags.DEFINE_list(
    'chain', None, 'Instead of --runs: one model\'s legs in order, each '
    'label=folder@samples_per_step[:until_step] (plotting.plot_chain).')
_OUT = flags.DEFINE_string('out', None, 'The PNG to write.', required=True)
_X = flags.DEFINE_enum('x', 'step', ['step', 'train_seconds',
                                     'train_cpu_seconds'], 'The x axis.')


def _chain_legs(items):
  legs = []
  for item in items:
    label, _, rest = item.partition('=')
    folder, _, size = rest.partition('@')
    per_step, _, until = size.partition(':')
    if not (label and per_step.isdigit() and (not until or until.isdigit())
            and os.path.exists(os.path.join(folder, 'metrics.jsonl'))):
      sys.exit(f'error: --chain item {item!r} is not label=folder@'
               'samples_per_step[:until_step] with a metrics.jsonl in the '
               'folder; e.g. --chain=cpu=runs/dense384_lpc@3200:52877')
    legs.append((label, folder, int(per_step), int(until) if until else None))
  return legs


def main(argv):
  del argv
  if _CHAIN.value:
    plotting.plot_chain(_chain_legs(_CHAIN.value), _OUT.value)
    print(_OUT.value)
    return
  if not _RUNS.value:
    sys.exit('error: nothing to plot; give --runs=label=workdir,... or '
             '--chain=label=folder@samples_per_step,...')
  runs = {}
  for item in _RUNS.value:
    label, sep, workdir = item.partition('=')
    path = os.path.join(workdir, 'metrics.jsonl')
    if not sep or not os.path.exists(path):
      sys.exit(f'error: --runs item {item!r} is not label=workdir with a '
               'metrics.jsonl in the workdir; e.g. --runs=a=workdirs/demo')
    runs[label] = path
  plotting.plot_runs(runs, _OUT.value, x=_X.value)
  print(_OUT.value)


if __name__ == '__main__':
  app.run(main)
