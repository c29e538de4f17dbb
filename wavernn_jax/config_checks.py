"""Checks an experiment config before any work starts (one clear line each)."""

import math

from wavernn_jax import datasets
from wavernn_jax import errors
from wavernn_jax import mel as mel_lib
from wavernn_jax import model as model_lib

DATASETS = datasets.NAMES


class ConfigError(errors.UserError):
  """A config value is out of range or inconsistent."""


def _require(ok: bool, message: str):
  if not ok:
    raise ConfigError(message)


def validate(config) -> None:
  """Raises ConfigError naming the first bad value and how to fix it."""
  try:
    mel_lib.MelConfig(**config.mel.to_dict())
    model_lib.ModelConfig.from_config(config)
  except (ValueError, TypeError) as e:
    raise ConfigError(f'bad config: {e}') from None
  d, t, hop = config.data, config.train, config.mel.hop_length
  variants = ('dense', 'sparse', 'subscale')
  _require(config.get('variant', 'dense') in variants,
           f'variant={config.get("variant")!r} is unknown; use one of '
           f'{variants} (lower case), e.g. '
           '--config=experiments/configs/wavernn.py:variant=subscale.')
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
  if config.get('variant') == 'subscale':
    _require(config.model.get('upsample', 'repeat') == 'repeat',
             'variant=subscale folds frame-rate conditioning; set '
             'model.upsample=repeat.')
    _require(not config.model.get('lpc_order', 0),
             'variant=subscale generates 16 samples at once, so no sample '
             'has its whole past for LPC; set model.lpc_order=0 '
             '(subscale.lpc_order predicts from the samples the ordering has '
             'drawn).')
    _require(not config.subscale.get('lpc_order', 0) or (
        config.model.conditional and not config.model.get('mulaw', False)),
             f'subscale.lpc_order={config.subscale.get("lpc_order", 0)} '
             'computes its predictors from the mel of 16-bit audio; set '
             'subscale.lpc_order=0 for an unconditional or mu-law model.')
    _check_subscale(config)
  if config.get('sparsity') is not None and config.sparsity.enabled:
    _check_sparsity(config)


def _check_sparsity(config) -> None:
  """The sparsity section: targets in [0, 1), blocks that tile."""
  from wavernn_jax import sparsity  # pylint: disable=g-import-not-at-top
  try:
    sparsity.check_config(config)
  except ValueError as e:
    raise ConfigError(str(e)) from None


def _check_subscale(config) -> None:
  """The subscale section: ranges, and crops that fold evenly."""
  from wavernn_jax import subscale  # pylint: disable=g-import-not-at-top
  _require('subscale' in config, 'variant=subscale needs a config.subscale '
           'section; build the config with experiments/configs/wavernn.py.')
  try:
    sub = subscale.SubscaleConfig.from_config(config)
  except (ValueError, TypeError) as e:
    raise ConfigError(f'bad config: {e}') from None
  crop, hop = config.data.crop_samples, config.mel.hop_length
  step = math.lcm(sub.batch_factor, hop)
  _require(crop % sub.batch_factor == 0,
           f'data.crop_samples={crop} must be a multiple of '
           f'subscale.batch_factor={sub.batch_factor} (and of mel.hop_length'
           f'={hop}); e.g. {max(crop // step, 1) * step}.')
