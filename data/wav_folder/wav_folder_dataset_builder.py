"""TFDS builder for a user's own folder of speech: LJSpeech layout or plain.

The folder is passed as TFDS `manual_dir` and may be either

* LJSpeech layout: `metadata.csv` with `id|transcript|normalized transcript`
  lines and the audio in `wavs/<id>.wav`. 'text' is the normalized
  transcript (the raw one if there is no third field). A line whose wav is
  missing is skipped and reported (`strict=True` raises instead).
* a plain folder: every `.wav`, `.flac` and `.ogg` under it (recursively);
  'id' is the relative path without extension, 'text' is ''.

Audio is mixed to mono and resampled to the config's rate: `sr16000`,
`sr22050` or `sr24000`. Silent and tone files are dropped and unreadable
ones skipped, as for `asterisk_allison`. Splits, fixed by utterance id (see
`data.split_for_id`): md5(id) % 100 in 0-89 train, 90-94 validation, 95-99
test. A split that would be empty (tiny folders) is not written.

TFDS does not notice later changes to the folder: delete the prepared
dataset directory (or use a new data_dir) to rebuild.

Real LJSpeech (13,100 clips, 24 h, 22.05 kHz; download it yourself):

  wget https://data.keithito.com/data/speech/LJSpeech-1.1.tar.bz2
  tar xjf LJSpeech-1.1.tar.bz2   # -> LJSpeech-1.1/{metadata.csv,wavs/}

  builder = WavFolder(config='sr22050', data_dir='/tmp/tfds_data/ljspeech')
  builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
      manual_dir='LJSpeech-1.1'))
  train = builder.as_data_source(split='train')

or `wavernn_jax.training.datasets.load_split('wav_folder', 'train', data_dir,
manual_dir='LJSpeech-1.1', sample_rate=22050)`.
"""

import dataclasses
import os

from absl import logging
from etils import epath
import numpy as np
import tensorflow_datasets as tfds

import data

from wavernn_jax.utils import errors

AUDIO_EXTENSIONS = ('.wav', '.flac', '.ogg')
METADATA_FILE = 'metadata.csv'  # marks the LJSpeech layout
SAMPLE_RATES = (16000, 22050, 24000)  # Hz, one BuilderConfig each


@dataclasses.dataclass(eq=False)
class WavFolderConfig(tfds.core.BuilderConfig):
  """A stored sample rate."""
  sample_rate: int = 16000  # Hz


class NoAudioError(FileNotFoundError):
  """The manual_dir has no audio files; the message is one line."""


def _no_audio(folder) -> NoAudioError:
  return NoAudioError(
      f'no audio files found in {folder}; pass as manual_dir a folder with '
      f'{METADATA_FILE} + wavs/ (LJSpeech layout) or '
      f'{"/".join(AUDIO_EXTENSIONS)} files')


def read_ljspeech(folder: str, strict: bool) -> list[data.Utterance]:
  """Reads an LJSpeech-layout folder's metadata.

  Args:
    folder: folder holding metadata.csv and wavs/.
    strict: raise on a line whose wav is missing instead of skipping it.

  Returns:
    One utterance per metadata line whose wav exists.

  Raises:
    FileNotFoundError: a missing wav and `strict`.
  """
  utterances, missing = [], []
  with open(os.path.join(folder, METADATA_FILE), encoding='utf-8') as f:
    # Split on '|' by hand: LJSpeech transcripts hold unbalanced quotes.
    for line in f:
      fields = line.rstrip('\r\n').split('|')
      utt_id = fields[0].strip()
      if not utt_id:
        continue
      # Prefer the normalized transcript (numbers spelled out).
      text = fields[2] if len(fields) > 2 else ''.join(fields[1:2])
      path = os.path.join(folder, 'wavs', utt_id + '.wav')
      if not os.path.exists(path):
        if strict:
          raise FileNotFoundError(
              f'{path} listed in {METADATA_FILE} is missing; restore it or '
              'remove its line')
        missing.append(utt_id)
        continue
      utterances.append(data.Utterance(utt_id, path, text.strip()))
  if missing:
    logging.warning(
        'wav_folder: skipped %d line(s) of %s whose wav is missing: %s. '
        'Pass strict=True to stop on them instead.', len(missing),
        os.path.join(folder, METADATA_FILE), data.first_names(missing))
  return utterances


def list_audio(folder: str) -> list[data.Utterance]:
  """Lists audio files recursively (hidden files skipped).

  Args:
    folder: root folder.

  Returns:
    Utterances with id = relative path without extension ('/'-separated).

  Raises:
    ValueError: two files share an id (e.g. `a.wav` and `a.flac`).
  """
  utterances = {}
  for root, dirs, names in os.walk(folder, followlinks=True):
    dirs[:] = [d for d in dirs if not d.startswith('.')]
    for name in names:
      stem, ext = os.path.splitext(name)
      if ext.lower() not in AUDIO_EXTENSIONS or name.startswith('.'):
        continue
      path = os.path.join(root, name)
      utt_id = os.path.relpath(os.path.join(root, stem), folder).replace(
          os.sep, '/')
      if utt_id in utterances:
        raise errors.UserError(
            f'{path} and {utterances[utt_id].path} both give utterance id '
            f'{utt_id!r}; keep one of them')
      utterances[utt_id] = data.Utterance(utt_id, path, '')
  return [utterances[k] for k in sorted(utterances)]


class WavFolder(tfds.core.GeneratorBasedBuilder):
  """A user's speech folder (LJSpeech layout or plain), mono int16."""

  VERSION = tfds.core.Version('1.0.0')
  RELEASE_NOTES = {'1.0.0': 'Initial release.'}
  BUILDER_CONFIGS = [
      WavFolderConfig(name=f'sr{rate}', sample_rate=rate,
                      description=f'audio resampled to {rate} Hz')
      for rate in SAMPLE_RATES
  ]
  MANUAL_DOWNLOAD_INSTRUCTIONS = (
      'Pass your corpus folder as manual_dir: either LJSpeech layout '
      '(metadata.csv + wavs/<id>.wav) or a folder of .wav/.flac/.ogg files.')

  @tfds.core.utils.classproperty
  @classmethod
  def code_path(cls) -> epath.Path:
    # TFDS 4.9.10's default imports `importlib_resources`, a backport that is
    # only installed on Python < 3.9; this file's path is what it computes.
    return epath.Path(__file__)

  def __init__(self, *, strict: bool = False, **kwargs):
    """Builder; arguments other than `strict` go to TFDS.

    Args:
      strict: raise on a missing or unreadable file instead of skipping it.
      **kwargs: TFDS builder arguments (config, data_dir, ...). file_format
        defaults to array_record, which random access needs and TensorFlow
        does not.
    """
    kwargs.setdefault('file_format', tfds.core.FileFormat.ARRAY_RECORD)
    super().__init__(**kwargs)
    self._strict = strict

  def _info(self) -> tfds.core.DatasetInfo:
    rate = self.builder_config.sample_rate
    return tfds.core.DatasetInfo(
        builder=self,
        description=(
            f'Speech from a local folder, mono int16 at {rate} Hz. Silence '
            'and tones removed. Split by md5(id) % 100: 0-89 train, 90-94 '
            'validation, 95-99 test.'),
        features=data.features(),
        supervised_keys=None,
        metadata=tfds.core.MetadataDict(sample_rate=rate),
    )

  def _split_generators(self, dl_manager):
    try:
      folder = os.fspath(dl_manager.manual_dir)
    except AssertionError:
      # TFDS raises a multi-line AssertionError for a missing or empty dir.
      raise _no_audio(getattr(dl_manager, '_manual_dir', None)) from None
    if os.path.exists(os.path.join(folder, METADATA_FILE)):
      utterances = read_ljspeech(folder, self._strict)
    else:
      utterances = list_audio(folder)
    if not utterances:
      raise _no_audio(folder)
    rate = self.builder_config.sample_rate
    splits = data.screen(utterances, rate, self._strict, 'wav_folder')
    return {name: self._generate_examples(utts)
            for name, utts in splits.items()}

  def _generate_examples(self, utterances):
    yield from data.generate_examples(utterances,
                                      self.builder_config.sample_rate)
