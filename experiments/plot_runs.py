r"""NLL curves of several training runs in one figure (docs/RESULTS.md).

  python experiments/plot_runs.py --out=docs/pretrained_curves.png \
      --runs=dense384=workdirs/long/dense384,sparse864=workdirs/long/sparse864
"""

import os

from absl import app
from absl import flags

from wavernn_jax import plotting

_RUNS = flags.DEFINE_list('runs', None, 'label=workdir pairs.', required=True)
_OUT = flags.DEFINE_string('out', None, 'The PNG to write.', required=True)
_X = flags.DEFINE_enum('x', 'step', ['step', 'train_seconds',
                                     'train_cpu_seconds'], 'The x axis.')


def main(argv):
  del argv
  runs = {}
  for item in _RUNS.value:
    label, sep, workdir = item.partition('=')
    path = os.path.join(workdir, 'metrics.jsonl')
    if not sep or not os.path.exists(path):
      raise app.UsageError(f'--runs item {item!r} must be label=workdir with '
                           'a metrics.jsonl in the workdir.')
    runs[label] = path
  plotting.plot_runs(runs, _OUT.value, x=_X.value)
  print(_OUT.value)


if __name__ == '__main__':
  app.run(main)
