"""Random-access speech datasets for training: build once, then index.

`load_split` prepares a TFDS dataset (array_record) on first use and returns
its data source: `len(source)`, `source[i]` -> {'audio': int16 [T],
'id': bytes, 'text': bytes}. No TensorFlow is needed.

Datasets (builders in `data/`, see their module docstrings):
  asterisk_allison: ~23 min of one speaker at 16 kHz, from Debian packages.
  asterisk_voices/<voice>: the same prompts in other voices at 16 kHz, from
    Debian packages: fr (June), es (Allison, in Spanish), it (Carlo), ru
    (IvrvoiceRU), en (Allison), and multi (en + es + fr + it).
  wav_folder: a user folder (LJSpeech layout or plain) at 16/22.05/24 kHz.
"""

import hashlib
import os

from absl import logging

from wavernn_jax.utils import errors

VOICE_CONFIGS = ('fr', 'es', 'it', 'ru', 'en', 'multi')
NAMES = ('asterisk_allison', 'wav_folder') + tuple(
    f'asterisk_voices/{v}' for v in VOICE_CONFIGS)


def _builder(name: str, data_dir: str, manual_dir: str | None,
             sample_rate: int | None):
  """Returns (builder, download config) for a dataset name."""
  # pylint: disable=g-import-not-at-top
  # TFDS is imported on use: config_checks reads NAMES without it.
  import tensorflow_datasets as tfds
  # Imported here: the builders register with TFDS on import, and live in
  # `data/` at the repo root rather than in this package.
  if name == 'asterisk_allison':
    from data.asterisk_allison import asterisk_allison_dataset_builder as lib
    if sample_rate not in (None, lib.SAMPLE_RATE):
      raise errors.UserError(
          f'asterisk_allison is stored at {lib.SAMPLE_RATE} Hz, not '
          f'{sample_rate} Hz; use sample_rate={lib.SAMPLE_RATE} or wav_folder')
    builder = lib.AsteriskAllison(data_dir=data_dir)
    return builder, tfds.download.DownloadConfig(try_download_gcs=False)
  if name.startswith('asterisk_voices/') and name in NAMES:
    from data.asterisk_voices import asterisk_voices_dataset_builder as lib
    if sample_rate not in (None, lib.SAMPLE_RATE):
      raise errors.UserError(
          f'{name} is stored at {lib.SAMPLE_RATE} Hz, not {sample_rate} Hz; '
          f'use sample_rate={lib.SAMPLE_RATE} or wav_folder')
    builder = lib.AsteriskVoices(config=name.split('/', 1)[1],
                                 data_dir=data_dir)
    return builder, tfds.download.DownloadConfig(try_download_gcs=False)
  if name == 'wav_folder':
    from data.wav_folder import wav_folder_dataset_builder as lib
    if manual_dir is None:
      raise errors.UserError(
          'wav_folder needs manual_dir: the folder of your audio')
    if sample_rate not in lib.SAMPLE_RATES:
      raise errors.UserError(f'wav_folder sample_rate must be one of '
                             f'{lib.SAMPLE_RATES} Hz, got {sample_rate}')
    folder = os.path.abspath(os.fspath(manual_dir))
    # One prepared copy per folder, so two folders never share a dataset dir.
    digest = hashlib.md5(folder.encode('utf-8')).hexdigest()[:10]
    folder_dir = os.path.join(
        data_dir, f'wav_folder_{os.path.basename(folder)}_{digest}')
    builder = lib.WavFolder(config=f'sr{sample_rate}', data_dir=folder_dir)
    return builder, tfds.download.DownloadConfig(
        manual_dir=folder, try_download_gcs=False)
  raise errors.UserError(f'unknown dataset {name!r}; use one of {NAMES}')


def load_split(name: str, split: str, data_dir: str,
               manual_dir: str | None = None, sample_rate: int | None = None):
  """Returns a split as a random-access data source, building it if needed.

  The first call writes the dataset under `data_dir` (asterisk_allison takes
  ~10 s); later calls only open it. A prepared wav_folder dataset is not
  rebuilt when its folder changes: delete its directory under `data_dir`.

  Args:
    name: one of NAMES: 'asterisk_allison', 'asterisk_voices/<voice>' or
      'wav_folder'.
    split: 'train', 'validation' or 'test' (TFDS slices like 'train[:10]'
      also work).
    data_dir: where prepared datasets are stored ('~' is expanded).
    manual_dir: wav_folder only: the folder of audio (LJSpeech or plain).
    sample_rate: Hz; asterisk_*: None or 16000; wav_folder: 16000,
      22050 or 24000.

  Returns:
    A sequence of examples {'audio': int16 np.ndarray [T], 'id': bytes,
    'text': bytes}, with `len()` and integer indexing.

  Raises:
    ValueError: unknown name, bad sample rate, or an empty or absent split.
  """
  # TFDS does not expand '~'; unexpanded, it would build under ./~/.
  data_dir = os.path.expanduser(os.fspath(data_dir))
  if manual_dir is not None:
    manual_dir = os.path.expanduser(os.fspath(manual_dir))
  builder, download_config = _builder(name, data_dir, manual_dir, sample_rate)
  if not builder.data_path.exists():
    logging.info('Preparing %s in %s (first use).', name, builder.data_path)
  builder.download_and_prepare(download_config=download_config)
  base_split = split.split('[')[0]
  if base_split not in builder.info.splits:
    raise errors.UserError(
        f'{name} has no {base_split!r} split (it would be empty; available: '
        f'{sorted(builder.info.splits)}); add more audio or use another split')
  source = builder.as_data_source(split=split)
  if len(source) == 0:
    raise errors.UserError(
        f'{name} split {split!r} is empty; use a larger slice '
        'or another split')
  return source
