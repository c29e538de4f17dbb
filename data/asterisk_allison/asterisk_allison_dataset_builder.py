"""TFDS builder for the Asterisk core prompts read by Allison Smith (16 kHz).

The default corpus: ~25 minutes of studio speech by one professional speaker,
shipped by Debian as raw G.722 (16 kHz) files, with transcripts:

  apt-get install asterisk-core-sounds-en-g722 asterisk-core-sounds-en

Audio: `SOURCE_DIR` (recursively, e.g. `digits/1.g722`). Transcripts:
`TRANSCRIPT_PATH`, lines `name: transcript` (`name` may contain a subfolder,
`;` starts a comment). Licence: CC BY-SA 3.0 (Allison Smith, Digium).

Each example is one file: {'audio': int16 [T] at 16 kHz, 'id': the path
relative to SOURCE_DIR without extension, 'text': its transcript ('' if
none)}. TFDS returns 'id' and 'text' as UTF-8 bytes from a data source.

Dropped: silence and steady tones (`audio_io.is_silent_or_tone`), and files
whose whole transcript is a bracketed sound description such as
'[this is an error beep tone]' or '<beep ascending>' (this catches the noisy
`beeperr` buzzer and the `tt-monkeys` screams, which are not speech).
Unreadable files are skipped and reported, or raise with `strict=True`.

Splits, fixed by utterance id (see `data.split_for_id`): md5(id) % 100 in
0-89 train, 90-94 validation, 95-99 test.

Usage (no TensorFlow needed; stored as array_record):

  builder = AsteriskAllison(data_dir='/tmp/tfds_data')
  builder.download_and_prepare()
  train = builder.as_data_source(split='train')  # len(train), train[i]
"""

import gzip
import os
import re

from absl import logging
from etils import epath
import numpy as np
import tensorflow_datasets as tfds

import data

SAMPLE_RATE = 16000  # Hz, G.722 wideband
SOURCE_DIR = '/usr/share/asterisk/sounds/en_US_f_Allison'
TRANSCRIPT_PATH = '/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz'
_INSTALL_HINT = ('as root: apt-get install asterisk-core-sounds-en-g722 '
                 'asterisk-core-sounds-en')
# A transcript that is only a bracketed description is a sound effect.
SOUND_EFFECT = re.compile(r'^\s*(\[[^\]]*\]|<[^>]*>)\s*$')


def read_transcripts(path) -> dict[str, str]:
  """Reads `name: transcript` lines (gzip or plain text).

  Args:
    path: transcript file; `.gz` is decompressed.

  Returns:
    {name: transcript}, names as in the file (e.g. 'digits/1').
  """
  opener = gzip.open if os.fspath(path).endswith('.gz') else open
  transcripts = {}
  with opener(path, 'rt', encoding='utf-8', errors='replace') as f:
    for line in f:
      if line.startswith(';') or ':' not in line:
        continue
      name, text = line.split(':', 1)
      transcripts[name.strip()] = text.strip()
  return transcripts


def list_g722(source_dir) -> dict[str, str]:
  """Lists `.g722` files recursively.

  Args:
    source_dir: root folder.

  Returns:
    {utterance id (relative path, '/'-separated, no extension): path}.
  """
  files = {}
  for root, _, names in os.walk(source_dir, followlinks=True):
    for name in names:
      if name.endswith('.g722') and not name.startswith('.'):
        path = os.path.join(root, name)
        rel = os.path.relpath(path, source_dir)[:-len('.g722')]
        files[rel.replace(os.sep, '/')] = path
  return files


class AsteriskAllison(tfds.core.GeneratorBasedBuilder):
  """Asterisk English prompts by Allison Smith, 16 kHz int16."""

  VERSION = tfds.core.Version('1.0.0')
  RELEASE_NOTES = {'1.0.0': 'Initial release.'}

  @tfds.core.utils.classproperty
  @classmethod
  def code_path(cls) -> epath.Path:
    # TFDS 4.9.10's default imports `importlib_resources`, a backport that is
    # only installed on Python < 3.9; this file's path is what it computes.
    return epath.Path(__file__)

  def __init__(self, *, source_dir=None, transcript_path=None,
               strict: bool = False, **kwargs):
    """Builder; arguments other than those below go to TFDS.

    Args:
      source_dir: folder of `.g722` files; default `SOURCE_DIR`.
      transcript_path: transcript file; default `TRANSCRIPT_PATH`.
      strict: raise on an unreadable file instead of skipping it.
      **kwargs: TFDS builder arguments (data_dir, ...). file_format defaults
        to array_record, which random access needs and TensorFlow does not.
    """
    kwargs.setdefault('file_format', tfds.core.FileFormat.ARRAY_RECORD)
    super().__init__(**kwargs)
    self._source_dir = os.fspath(source_dir or SOURCE_DIR)
    self._transcript_path = os.fspath(transcript_path or TRANSCRIPT_PATH)
    self._strict = strict

  def _info(self) -> tfds.core.DatasetInfo:
    return tfds.core.DatasetInfo(
        builder=self,
        description=(
            'Asterisk core sound prompts (US English, Allison Smith), '
            f'mono int16 at {SAMPLE_RATE} Hz. Silence, tones and sound '
            'effects removed. Split by md5(id) % 100: 0-89 train, 90-94 '
            'validation, 95-99 test.'),
        features=data.features(),
        supervised_keys=None,
        homepage='https://www.asterisk.org/',
        metadata=tfds.core.MetadataDict(sample_rate=SAMPLE_RATE),
        license='CC BY-SA 3.0',
    )

  def _split_generators(self, dl_manager):
    del dl_manager  # the corpus comes from Debian packages, not downloads
    for path in (self._source_dir, self._transcript_path):
      if not os.path.exists(path):
        raise FileNotFoundError(f'{path} not found; install it {_INSTALL_HINT}')
    files = list_g722(self._source_dir)
    if not files:
      raise FileNotFoundError(
          f'no .g722 files in {self._source_dir}; install them {_INSTALL_HINT}')
    transcripts = read_transcripts(self._transcript_path)
    utterances, effects = [], []
    for utt_id in sorted(files):
      text = transcripts.get(utt_id, '')
      if SOUND_EFFECT.match(text):
        effects.append(utt_id)
        continue
      utterances.append(data.Utterance(utt_id, files[utt_id], text))
    if effects:
      logging.info(
          'asterisk_allison: dropped %d sound effect(s) by transcript: %s',
          len(effects), ', '.join(effects))
    splits = data.screen(utterances, SAMPLE_RATE, self._strict,
                         'asterisk_allison')
    return {name: self._generate_examples(utts)
            for name, utts in splits.items()}

  def _generate_examples(self, utterances):
    yield from data.generate_examples(utterances, SAMPLE_RATE)
