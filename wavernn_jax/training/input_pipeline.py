"""Training windows and evaluation batches from a random-access data source.

A data source is anything with `len()` and `[i] -> {'audio': int16 [T], ...}`
(e.g. `tfds.data_source`). Training windows go through grain: shuffle every
epoch, crop a random window, batch. Batch `i` of the stream is a pure function
of (seed, i), so resuming at step s just starts the stream at batch s, and
each process reads only its own rows of every global batch.
"""

import grain
import numpy as np

from wavernn_jax.models import variants
from wavernn_jax.utils import errors


def load_split(config, split: str):
  """The data source of one split of the config's dataset (built if needed)."""
  from wavernn_jax.training import datasets  # pylint: disable=g-import-not-at-top
  return datasets.load_split(
      config.data.name, split, data_dir=config.data.data_dir,
      manual_dir=config.data.manual_dir or None,
      sample_rate=config.mel.sample_rate)


def context_frames(config) -> int:
  """Frames of context on each side of a training window
  (`Variant.context_frames`)."""
  return variants.of(config).context_frames


def window_samples(config) -> int:
  return config.data.crop_samples + 2 * context_frames(
      config) * config.mel.hop_length


def _crop(audio, length: int, rng: np.random.Generator):
  """A random `length`-sample window; short utterances are zero-padded."""
  audio = np.asarray(audio, np.int16)
  if len(audio) < length:
    start = rng.integers(0, length - len(audio) + 1)
    return np.pad(audio, (start, length - len(audio) - start))
  start = rng.integers(0, len(audio) - length + 1)
  return audio[start:start + length]


def _windows(source, length: int, seed: int, shuffle: bool):
  ds = grain.MapDataset.source(source)
  if shuffle:
    ds = ds.shuffle(seed=seed).repeat(None)
  else:
    ds = ds.repeat(None)
  return ds.random_map(lambda ex, rng: _crop(ex['audio'], length, rng),
                       seed=seed)


def train_batches(source, config, *, start_step: int = 0,
                  process_index: int = 0, process_count: int = 1):
  """Iterator over this process's rows of each global training batch.

  Args:
    source: the training split.
    config: experiment config (data.batch_size is the global batch).
    start_step: first batch to yield (resume).
    process_index: this process (jax.process_index()).
    process_count: processes sharing each global batch.

  Yields:
    int16 [batch_size // process_count, window_samples(config)].
  """
  if len(source) == 0:
    raise errors.UserError('the training split is empty; check the dataset '
                           '(data.name / data.manual_dir).')
  batch = config.data.batch_size
  if batch % process_count:
    raise errors.UserError(f'data.batch_size={batch} must be divisible by the '
                           f'{process_count} processes.')
  local = batch // process_count
  windows = _windows(source, window_samples(config), config.seed, True)
  first = process_index * local

  def make_batch(step):
    base = step * batch + first
    return np.stack([windows[base + k] for k in range(local)])

  steps = grain.MapDataset.range(start_step, config.train.steps + 1)
  return iter(steps.map(make_batch).to_iter_dataset(
      grain.ReadOptions(num_threads=2, prefetch_buffer_size=4)))


def eval_windows(source, config) -> np.ndarray:
  """Fixed validation windows [N, window] (N = data.eval_windows)."""
  if len(source) == 0:
    raise errors.UserError(
        'the validation split is empty; use a larger corpus.')
  windows = _windows(source, window_samples(config), config.seed + 1, False)
  return np.stack([windows[i] for i in range(config.data.eval_windows)])


def utterance_batches(utterances, hop: int, batch_size: int):
  """Whole utterances grouped by length, zero-padded to whole frames.

  Args:
    utterances: list of int16 arrays.
    hop: samples per frame; lengths are padded to a multiple of it.
    batch_size: utterances per batch.

  Yields:
    (audio int16 [b, T], mask bool [b, T]) with T a multiple of hop.
  """
  order = np.argsort([len(u) for u in utterances])
  for i in range(0, len(order), batch_size):
    group = [utterances[j] for j in order[i:i + batch_size]]
    t = -(-max(len(u) for u in group) // hop) * hop
    audio = np.zeros((len(group), t), np.int16)
    mask = np.zeros((len(group), t), bool)
    for k, u in enumerate(group):
      audio[k, :len(u)] = u
      mask[k, :len(u)] = True
    yield audio, mask
