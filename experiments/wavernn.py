r"""WaveRNN vocoder experiments.

Usage:
  python launch.py --config=experiments/wavernn.py:preset=demo --workdir=DIR
  python launch.py --config=experiments/wavernn.py:preset=tiny,hidden=64 ...

`get_config(arg)` takes comma-separated key=value overrides:
  variant      dense (sparse and subscale come with their issues)
  preset       tiny (tests) | demo (the main job, ~10 min on 2 CPU cores)
               | paper (WaveRNN-896 at 24 kHz)
  hidden       H, GRU units (int)
  conditional  condition on log-mel frames (bool)
  seed         root PRNG seed (int)
  steps        training steps (int)
  ckpt_every   steps between checkpoints (int)
"""

import ml_collections

from wavernn_jax import config_args

ARG_DEFAULTS = dict(variant='dense', preset='demo', hidden=-1,
                    conditional=True, seed=0, steps=-1, ckpt_every=-1)


def get_config(arg: str = '') -> ml_collections.ConfigDict:
  args = config_args.parse(arg, ARG_DEFAULTS)
  if args.variant != 'dense':
    raise ValueError(f'variant={args.variant!r} is not available yet; '
                     'use variant=dense.')
  if args.preset not in ('tiny', 'demo', 'paper'):
    raise ValueError(f'preset={args.preset!r} is unknown; use tiny, demo or '
                     'paper.')

  c = ml_collections.ConfigDict()
  c.variant = args.variant  # dense.
  c.preset = args.preset  # tiny | demo | paper.
  c.seed = args.seed  # root PRNG seed; split into named uses.

  c.mel = ml_collections.ConfigDict()
  c.mel.sample_rate = 16000  # Hz; audio is resampled to it.
  c.mel.n_fft = 1024  # samples per FFT.
  c.mel.win_length = 800  # samples in the Hann window (50 ms).
  c.mel.hop_length = 200  # samples between mel frames (12.5 ms).
  c.mel.n_mels = 80  # mel bins.
  c.mel.fmin = 40.0  # Hz.
  c.mel.fmax = 8000.0  # Hz, <= sample_rate / 2.

  c.model = ml_collections.ConfigDict()
  c.model.hidden = 384  # H, GRU units (paper: 896).
  c.model.conditional = args.conditional  # False: unconditional WaveRNN.
  c.model.cond_channels = 128  # channels of the conditioning convs.
  c.model.cond_layers = 2  # conv layers at frame rate.
  c.model.cond_kernel = 5  # frames per conv kernel (odd).

  c.data = ml_collections.ConfigDict()
  c.data.name = 'asterisk_allison'  # TFDS builder: asterisk_allison | wav_folder.
  c.data.data_dir = '~/tensorflow_datasets'  # where TFDS keeps built datasets.
  c.data.manual_dir = ''  # wav_folder only: the folder of wavs (LJSpeech ok).
  c.data.crop_samples = 1000  # samples scored per training window.
  c.data.batch_size = 16  # global batch (windows per step, all devices).
  c.data.eval_windows = 64  # validation windows scored at each eval.

  c.train = ml_collections.ConfigDict()
  c.train.steps = 4000  # optimizer steps.
  c.train.learning_rate = 1e-3  # peak Adam learning rate.
  c.train.warmup_steps = 100  # steps of linear warm-up.
  c.train.end_lr_fraction = 0.05  # final LR as a fraction of the peak (cosine).
  c.train.grad_clip = 1.0  # global gradient-norm clip.
  c.train.log_every = 25  # steps between progress lines / scalars.
  c.train.eval_every = 1000  # steps between validation evals.
  c.train.ckpt_every = 500  # steps between checkpoints.
  c.train.max_seconds = 600.0  # wall-clock budget in s (0: none); stops early.
  c.train.sample_seconds = 1.0  # s of audio generated at each eval.

  if args.preset == 'tiny':
    c.mel.update(n_fft=256, win_length=256, hop_length=64, n_mels=16)
    c.model.update(hidden=32, cond_channels=16, cond_layers=1, cond_kernel=3)
    c.data.update(crop_samples=256, batch_size=4, eval_windows=4)
    c.train.update(steps=4, warmup_steps=1, log_every=1, eval_every=4,
                   ckpt_every=2, max_seconds=0.0, sample_seconds=0.05)
  elif args.preset == 'paper':
    c.mel.update(sample_rate=24000, n_fft=1024, win_length=960,
                 hop_length=240, fmax=12000.0)
    c.model.hidden = 896
    c.data.update(name='wav_folder', crop_samples=960, batch_size=32)
    c.train.update(steps=500_000, learning_rate=2e-4, warmup_steps=1000,
                   eval_every=10_000, ckpt_every=5000, max_seconds=0.0)

  if args.hidden != -1:
    c.model.hidden = args.hidden
  if args.steps != -1:
    c.train.steps = args.steps
  if args.ckpt_every != -1:
    c.train.ckpt_every = args.ckpt_every
  return c
