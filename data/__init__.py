"""TFDS dataset builders, and the split rule and screening they share.

Split rule (fixed, by utterance, independent of file order and machine):
bucket = int(md5(utterance_id as UTF-8).hexdigest(), 16) % 100;
buckets 0-89 are 'train', 90-94 'validation', 95-99 'test'.

Both builders read every file twice: once while planning the splits (to
drop unreadable, silent and tone files, so that no split ends up empty,
which TFDS cannot write), and once while writing the examples.
"""

import dataclasses
import hashlib
from collections.abc import Iterable, Iterator

from absl import logging
import numpy as np
import tensorflow_datasets as tfds

from wavernn_jax.utils import audio_io

# (split name, first bucket, last bucket + 1) of the md5 bucket in [0, 100).
SPLIT_BUCKETS = (('train', 0, 90), ('validation', 90, 95), ('test', 95, 100))
_REPORT_FIRST = 5  # how many file names a skip report lists


class NoUsableAudioError(ValueError):
  """Every file was unreadable, silent or a tone; the message is one line."""


def features() -> tfds.features.FeaturesDict:
  """The features of every speech builder: int16 audio, id, transcript."""
  return tfds.features.FeaturesDict({
      'audio': tfds.features.Tensor(shape=(None,), dtype=np.int16),
      'id': tfds.features.Text(),
      'text': tfds.features.Text(),
  })


def split_for_id(utterance_id: str) -> str:
  """Returns 'train', 'validation' or 'test' for an utterance id.

  Args:
    utterance_id: stable id of the utterance, e.g. 'digits/1' or 'LJ001-0001'.

  Returns:
    The split name given by the md5 bucket (see module docstring).
  """
  digest = hashlib.md5(utterance_id.encode('utf-8')).hexdigest()
  bucket = int(digest, 16) % 100
  for name, first, end in SPLIT_BUCKETS:
    if first <= bucket < end:
      return name
  raise AssertionError(f'bucket {bucket} outside SPLIT_BUCKETS')


@dataclasses.dataclass(frozen=True)
class Utterance:
  """One source file to turn into an example."""
  id: str  # utterance id: the example key, and what the split is hashed on
  path: str  # audio file
  text: str  # transcript, '' if unknown
  # What the split is hashed on when it is not the id: the prompt of a
  # multi-voice corpus ('digits/1' for id 'fr/digits/1'), so that a prompt
  # is in the same split for every voice.
  split_key: str = ''


def first_names(items: list[str]) -> str:
  """The first few names, comma-separated, with how many more there are."""
  more = f', ... ({len(items) - _REPORT_FIRST} more)' if len(
      items) > _REPORT_FIRST else ''
  return ', '.join(items[:_REPORT_FIRST]) + more


def screen(utterances: Iterable[Utterance], sample_rate: int, strict: bool,
           dataset: str) -> dict[str, list[Utterance]]:
  """Reads every file, drops unusable ones, and groups the rest by split.

  Unreadable files are skipped and reported with logging.warning (count and
  first names), or raise if `strict`. Silent and tone files
  (`audio_io.is_silent_or_tone`) are dropped and reported with logging.info.

  Args:
    utterances: candidate files.
    sample_rate: rate the audio is read at, Hz.
    strict: raise on the first unreadable file instead of skipping it.
    dataset: name used in the log lines.

  Returns:
    {split name: utterances in that split}, only for non-empty splits.

  Raises:
    audio_io.AudioFileError: an unreadable file and `strict`.
    NoUsableAudioError: no file is left (nothing is written then).
  """
  utterances = list(utterances)
  splits = {}
  unreadable, errors, dropped = [], [], []
  # A progress bar: on a large corpus this pass takes minutes.
  for utt in tfds.core.utils.tqdm(utterances, unit=' files',
                                  desc=f'{dataset}: screening files'):
    try:
      audio = audio_io.read_audio(utt.path, sample_rate)
    except audio_io.AudioFileError as e:
      if strict:
        raise
      unreadable.append(utt.id)
      errors.append(str(e))
      continue
    if audio_io.is_silent_or_tone(audio, sample_rate):
      dropped.append(utt.id)
      continue
    splits.setdefault(split_for_id(utt.split_key or utt.id), []).append(utt)
  if unreadable:
    logging.warning(
        '%s: skipped %d unreadable file(s): %s. First error: %s. '
        'Pass strict=True to stop on them instead.', dataset, len(unreadable),
        first_names(unreadable), errors[0])
  if dropped:
    logging.info('%s: dropped %d silent or tone file(s): %s', dataset,
                 len(dropped), first_names(dropped))
  logging.info('%s: %s', dataset, ', '.join(
      f'{name} {len(splits.get(name, []))}' for name, _, _ in SPLIT_BUCKETS))
  if not splits:  # Raising here leaves no (empty) prepared dataset behind.
    raise NoUsableAudioError(
        f'{dataset}: none of the {len(utterances)} audio file(s) is usable '
        f'({len(unreadable)} unreadable, {len(dropped)} silent or tones); '
        'add speech recordings to the folder')
  return splits


def generate_examples(utterances: list[Utterance],
                      sample_rate: int) -> Iterator[tuple[str, dict]]:
  """Yields TFDS (key, example) pairs for screened utterances.

  Args:
    utterances: files that passed `screen`.
    sample_rate: rate the audio is stored at, Hz.

  Yields:
    (utterance id, {'audio': int16 [T], 'id': str, 'text': str}).
  """
  for utt in utterances:
    audio = audio_io.read_audio(utt.path, sample_rate)
    yield utt.id, {'audio': audio.astype(np.int16), 'id': utt.id,
                   'text': utt.text}
