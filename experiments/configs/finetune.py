r"""Fine-tune a trained model (e.g. a shipped one) to a new voice.

  python launch.py \
      --config=experiments/configs/finetune.py:from=pretrained/dense384_lpc_pitch_v2,wavs=my_voice/ \
      --workdir=workdirs/ft_my_voice --config.train.max_cpu_seconds=1800

`from`'s model (its stored config: cell, mel, LPC, pitch, sparsity) is
trained further on the new audio, starting from its Polyak-averaged params
(`train.init_from`) with a fresh optimizer and a lower, flat learning rate.
It stops at `train.max_cpu_seconds` (CPU time, across resumes: rerun with
a larger budget to go on) and is then used like any run:
`launch.py --mode=vocode --workdir=workdirs/ft_my_voice --input=x.wav ...`.

`get_config(arg)` takes comma-separated key=value:
  from     the trained workdir or pretrained/NAME (required)
  wavs     a folder of the new voice's audio: LJSpeech layout or any
           .wav/.flac/.ogg under it, resampled to the model's rate; split by
           file name (90 / 5 / 5 %, data.split_for_id)
  data     a dataset name instead of `wavs`, e.g. asterisk_voices/fr
  lr       peak learning rate (default 3e-4: a fifth of the recipe's)
  batch    crops per step (default 8, the CPU recipe)
  scratch  true: the same model and data from a fresh init at the recipe's
           learning rate, the baseline a fine-tune is compared with
"""

import ml_collections

from experiments.configs import wavernn
from wavernn_jax.training import checkpoint
from wavernn_jax.training import config_args

ARG_DEFAULTS = {'from': '', 'wavs': '', 'data': '', 'lr': 3e-4, 'batch': 8,
                'scratch': False}


def get_config(arg: str = '') -> ml_collections.ConfigDict:
  args = config_args.parse(arg, ARG_DEFAULTS)
  source = args['from']
  if not source:
    raise ValueError('finetune.py needs from=<trained workdir or '
                     'pretrained/NAME>, e.g. '
                     'finetune.py:from=pretrained/dense384_lpc_pitch_v2,'
                     'wavs=my_voice/.')
  if bool(args.wavs) == bool(args.data):
    raise ValueError('finetune.py needs one of wavs=<folder of audio> or '
                     'data=<dataset name>, e.g. data=asterisk_voices/fr.')
  # The defaults of today's options, then everything the source stored.
  c = wavernn.get_config('')
  c.update(checkpoint.latest_config(source))
  if args.wavs:
    c.data.update(name='wav_folder', manual_dir=args.wavs)
  else:
    c.data.update(name=args.data, manual_dir='')
  c.data.batch_size = args.batch
  c.train.update(
      init_from='' if args.scratch else source, distill_from='',
      learning_rate=1.5e-3 if args.scratch else args.lr,
      warmup_steps=100 if args.scratch else 50,
      # A cosine far beyond the budget: the LR stays near its peak, and
      # max_cpu_seconds ends the run.
      steps=1_000_000, end_lr_fraction=0.05,
      # A 200-step average: a 10-minute fine-tune is ~800 steps.
      ema_decay=0.995, max_seconds=0.0, max_cpu_seconds=1800.0,
      log_every=50, eval_every=250, ckpt_every=250, sample_seconds=1.0)
  return c
