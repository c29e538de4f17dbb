"""Checks an experiment config before any work starts (one clear line each)."""

from wavernn_jax.models import variants
from wavernn_jax.training import datasets
from wavernn_jax.utils import errors

DATASETS = datasets.NAMES


# A config value is out of range or inconsistent (errors.ConfigError).
ConfigError = errors.ConfigError


def _require(ok: bool, message: str):
  if not ok:
    raise ConfigError(message)


def validate(config) -> None:
  """Raises ConfigError naming the first bad value and how to fix it."""
  variant = variants.of(config)  # The model: parsed and checked once.
  d, t = config.data, config.train
  hop = variant.mel.hop_length
  _require(d.name in DATASETS,
           f'data.name={d.name!r} is unknown; use one of {DATASETS}.')
  _require(d.name != 'wav_folder' or bool(d.manual_dir),
           'data.name=wav_folder needs data.manual_dir=<folder of wavs>.')
  _require(d.crop_samples > 0 and d.crop_samples % hop == 0,
           f'data.crop_samples={d.crop_samples} must be a positive multiple '
           f'of mel.hop_length={hop}; e.g. {max(d.crop_samples // hop, 1) * hop}.')
  _require(d.batch_size > 0, f'data.batch_size={d.batch_size} must be > 0.')
  _require(d.eval_windows > 0,
           f'data.eval_windows={d.eval_windows} must be > 0.')
  _require(t.steps > 0, f'train.steps={t.steps} must be > 0.')
  _require(t.learning_rate > 0,
           f'train.learning_rate={t.learning_rate} must be > 0.')
  _require(t.grad_clip > 0, f'train.grad_clip={t.grad_clip} must be > 0.')
  for key in ('log_every', 'eval_every', 'ckpt_every'):
    _require(t[key] > 0, f'train.{key}={t[key]} must be > 0 (steps).')
  _require(t.get('max_cpu_seconds', 0.0) >= 0,
           f'train.max_cpu_seconds={t.get("max_cpu_seconds")} must be >= 0 '
           '(0: no limit).')
  _require(t.max_seconds >= 0,
           f'train.max_seconds={t.max_seconds} must be >= 0 (0: no limit).')
  variant.check(config)
  if config.get('sparsity') is not None and config.sparsity.enabled:
    _check_sparsity(config)


def _check_sparsity(config) -> None:
  """The sparsity section: targets in [0, 1), blocks that tile."""
  from wavernn_jax.models import sparsity  # pylint: disable=g-import-not-at-top
  try:
    sparsity.check_config(config)
  except ValueError as e:
    raise ConfigError(str(e)) from None
