r"""Train where the dataset (and TFDS) is not: pack the splits, then train.

A lent accelerator machine starts bare, cannot reach the network and has no
TFDS; this packs a prepared dataset's splits into one compressed .npz each
(int16 audio, concatenated, with its lengths) and runs `launch.py` there
with `load_split` reading the packs instead:

  # here: write DIR/train.npz, DIR/validation.npz (and test.npz with
  # --with_test); --config's data.* picks the dataset, and launch.py's
  # flags want a --workdir (any folder; nothing is written there)
  python experiments/tools/data_pack.py --export=DIR --workdir=/tmp/x \
      --config=experiments/configs/wavernn.py
  # there: launch.py's own flags after the pack folder
  python experiments/tools/data_pack.py --packs=DIR --config=... --workdir=...

The packed source is what `datasets.load_split` returns (`len()`, `[i]` ->
{'audio', 'id', 'text'}), so training windows and batches are the same.
"""

import os
import sys
import types

from absl import app
from absl import flags
import numpy as np

import wavernn_jax.training

_EXPORT = flags.DEFINE_string('export', None, 'write the packs to this folder.')
_PACKS = flags.DEFINE_string('packs', None, 'train from the packs in this '
                             'folder (launch.py flags follow).')
_WITH_TEST = flags.DEFINE_bool('with_test', False,
                                'export: also the test split.')


class Pack:
  """One split, read from a pack: `len()` and `[i]` like a TFDS source."""

  def __init__(self, path: str):
    with np.load(path) as f:
      self._audio = f['audio']
      self._ends = np.cumsum(f['lengths'])
      self._ids = f['ids']

  def __len__(self):
    return len(self._ends)

  def __getitem__(self, i):
    start = self._ends[i - 1] if i else 0
    return {'audio': self._audio[start:self._ends[i]],
            'id': self._ids[i].encode(), 'text': b''}


def export(folder: str, config, splits=('train', 'validation')) -> None:
  """Writes folder/SPLIT.npz for each split of the config's dataset."""
  from wavernn_jax.training import input_pipeline  # pylint: disable=g-import-not-at-top
  os.makedirs(folder, exist_ok=True)
  for split in splits:
    source = input_pipeline.load_split(config, split)
    rows = [source[i] for i in range(len(source))]
    path = os.path.join(folder, f'{split}.npz')
    np.savez_compressed(
        path + '.partial.npz',
        audio=np.concatenate([r['audio'] for r in rows]).astype(np.int16),
        lengths=np.array([len(r['audio']) for r in rows], np.int64),
        ids=np.array([r['id'].decode() for r in rows]))
    os.replace(path + '.partial.npz', path)
    print(f'{path}: {len(rows)} utterances, {os.path.getsize(path)} bytes')


def use_packs(folder: str) -> None:
  """`training.datasets.load_split` reads the packs (no TFDS import)."""
  module = types.ModuleType('wavernn_jax.training.datasets')

  def load_split(name, split, data_dir=None, manual_dir=None,
                 sample_rate=None):
    del name, data_dir, manual_dir, sample_rate  # The packs are one dataset.
    path = os.path.join(folder, f'{split}.npz')
    if not os.path.exists(path):
      raise ValueError(f'no pack {path}; write it with '
                       'experiments/tools/data_pack.py --export')
    return Pack(path)

  module.load_split = load_split
  sys.modules['wavernn_jax.training.datasets'] = module
  wavernn_jax.training.datasets = module  # Also where `from ... import` looks.


def main(argv):
  if _EXPORT.value:
    if launch._CONFIG.value is None:
      launch._fail('--export needs '
                   '--config=experiments/configs/wavernn.py[:...] '
                   '(its data.* picks the dataset)')
    export(_EXPORT.value, launch._CONFIG.value,
           ('train', 'validation') + (('test',) if _WITH_TEST.value else ()))
    return
  if not _PACKS.value:
    launch._fail('give --export=DIR or --packs=DIR; see the docstring')
  use_packs(_PACKS.value)
  launch.main(argv)


if __name__ == '__main__':
  # launch.py's flags too; imported only here, so tests that import this
  # module beside others defining --workdir do not clash.
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(
      os.path.abspath(__file__)))))  # launch.py sits at the repo root.
  import launch  # pylint: disable=g-import-not-at-top
  app.run(main, flags_parser=launch._parse_flags)
