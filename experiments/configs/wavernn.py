r"""WaveRNN vocoder experiments.

Usage:
  python launch.py --config=experiments/configs/wavernn.py:preset=demo --workdir=DIR
  python launch.py --config=experiments/configs/wavernn.py:preset=tiny,hidden=64 ...

`get_config(arg)` takes comma-separated key=value overrides:
  variant      dense | sparse | subscale (PAPER.md §1-3)
  preset       tiny (tests) | demo (the main job, ~10 min on 2 CPU cores)
               | paper (WaveRNN-896 at 24 kHz)
  hidden       H, GRU units (int)
  conditional  condition on log-mel frames (bool)
  seed         root PRNG seed (int)
  steps        training steps (int)
  ckpt_every   steps between checkpoints (int)
  sparsity     final sparsity Z of the pruned matrices, in [0, 1) (float;
               variant=sparse, or with variant=subscale)
  block        pruning block shape BHxBW, e.g. 16x1, 4x4, 1x1 (str)
  batch_factor subscale: B, sub-tensors per utterance (int)
  horizon      subscale: F, future horizon in folded samples (int)
  mel          default | hifigan: HiFi-GAN's / NVIDIA Tacotron 2's mel
               (22,050 Hz, n_fft 1024, hop 256, win 1024, 80 Slaney mels,
               0-8,000 Hz, magnitude, ln clamped at 1e-5), so the vocoder
               reads such an acoustic model's output (needs a 22.05 kHz
               wav_folder corpus)
"""

import ml_collections

from wavernn_jax.models import subscale
from wavernn_jax.training import config_args

ARG_DEFAULTS = dict(variant='dense', preset='demo', hidden=-1,
                    conditional=True, seed=0, steps=-1, ckpt_every=-1,
                    sparsity=-1.0, block='16x1', batch_factor=16, horizon=64,
                    mel='default')
# The mel=hifigan front-end convention (mel.MelConfig fields).
HIFIGAN_MEL = dict(sample_rate=22050, n_fft=1024, win_length=1024,
                   hop_length=256, n_mels=80, fmin=0.0, fmax=8000.0,
                   padding='hifigan')
VARIANTS = ('dense', 'sparse', 'subscale')


def get_config(arg: str = '') -> ml_collections.ConfigDict:
  args = config_args.parse(arg, ARG_DEFAULTS)
  if args.variant not in VARIANTS:
    raise ValueError(f'variant={args.variant!r} is unknown; use one of '
                     f'{VARIANTS}.')
  if args.preset not in ('tiny', 'demo', 'paper'):
    raise ValueError(f'preset={args.preset!r} is unknown; use tiny, demo or '
                     'paper.')
  if args.mel not in ('default', 'hifigan'):
    raise ValueError(f'mel={args.mel!r} is unknown; use default or hifigan.')

  c = ml_collections.ConfigDict()
  c.variant = args.variant  # dense | sparse | subscale.
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
  c.mel.padding = 'center'  # center (librosa center=True) | hifigan (mel.MelConfig).

  c.model = ml_collections.ConfigDict()
  c.model.hidden = 256  # H, GRU units (paper: 896).
  c.model.conditional = args.conditional  # False: unconditional WaveRNN.
  c.model.cond_channels = 128  # channels of the conditioning convs.
  c.model.cond_layers = 2  # conv layers at frame rate.
  c.model.cond_kernel = 5  # frames per conv kernel (odd).
  c.model.cond_res_blocks = 0  # residual blocks (MelResNet-style) after the convs.
  c.model.upsample = 'repeat'  # frames -> samples: repeat (nearest) | linear.
  c.model.embed_inputs = False  # c_{t-1}, f_{t-1}, c_t as learned embeddings.
  c.model.emphasis = 0.0  # alpha of integer pre-emphasis (0: off; LPCNet 0.85).
  c.model.lpc_order = 0  # model the excitation after order-K LPC from the mel (0: off; LPCNet 16).
  c.model.pitch = False  # also condition on pitch period (embedded) + voicing estimated from the mel (LPCNet's features).
  c.model.mulaw = False  # ablation beside the paper: 8-bit mu-law codes in the coarse byte, fine byte 0 (fatchord's RAW).
  c.model.matmul_dtype = 'float32'  # R, O1..O4 products: float32 | bfloat16.
  c.model.kernel = 'auto'  # teacher-forced recurrence (training, log_prob): auto (the fused CPU kernels where built, cpu_kernels.py) | xla | fused.

  c.data = ml_collections.ConfigDict()
  c.data.name = 'asterisk_allison'  # TFDS builder: asterisk_allison | asterisk_voices/<voice> | wav_folder.
  c.data.data_dir = '~/tensorflow_datasets'  # where TFDS keeps built datasets.
  c.data.manual_dir = ''  # wav_folder only: the folder of wavs (LJSpeech ok).
  c.data.crop_samples = 400  # samples scored per training window.
  c.data.batch_size = 32  # global batch (windows per step, all devices).
  c.data.eval_windows = 64  # validation windows scored at each eval.

  c.train = ml_collections.ConfigDict()
  c.train.steps = 1500  # optimizer steps (demo: see below).
  c.train.learning_rate = 1.5e-3  # peak Adam learning rate.
  c.train.warmup_steps = 100  # steps of linear warm-up.
  c.train.end_lr_fraction = 0.05  # final LR as a fraction of the peak (cosine).
  c.train.grad_clip = 1.0  # global gradient-norm clip.
  c.train.ema_decay = 0.0  # Polyak average of the params kept beside them (0: off); Vocoder.restore samples with it.
  c.train.log_every = 25  # steps between progress lines / scalars.
  c.train.eval_every = 250  # steps between validation evals.
  c.train.ckpt_every = 250  # steps between checkpoints.
  c.train.max_seconds = 660.0  # wall-clock budget in s (0: none); stops early.
  c.train.max_cpu_seconds = 0.0  # CPU-time budget in s across resumes (0: none).
  c.train.init_from = ''  # warm start: a workdir whose (averaged) params initialise a new run (train.warm_start_params).
  c.train.distill_from = ''  # a trained dense/sparse run (workdir or pretrained/NAME) whose teacher-forced distributions are soft targets (train.load_teacher).
  c.train.distill_weight = 0.5  # w: loss (1 - w) NLL + w CE(teacher, model).
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

  if args.preset in ('demo', 'paper'):
    # The recipe issue 11's equal-CPU-budget A/B chose (docs/RESULTS.md,
    # "Training recipes"): pre-emphasis and embedded byte inputs; on CPU
    # (demo) also batch 8, which learns faster per CPU-second than 32.
    c.model.update(emphasis=0.85, embed_inputs=True)
    # Round 4 of the A/B: a Polyak average of the params, scored and
    # sampled instead of them (better NLL, STOI, PESQ and MCD).
    c.train.ema_decay = 0.999
    # Round 5: LPC from the mel (LPCNet's noise shaping; better NLL, PESQ,
    # STOI and MCD). Subscale draws 16 samples at once, so it has no past
    # for a predictor and keeps modelling the signal itself.
    # Round 6: pitch period and voicing from the mel as conditioning
    # (LPCNet's other features; better PESQ-WB and STOI at the same NLL).
    # Measured on the dense cell only, so Subscale keeps it off for now.
    if args.variant != 'subscale':
      c.model.update(lpc_order=16, pitch=True)
    if args.preset == 'demo':
      c.data.batch_size = 8
      c.train.steps = 3000  # ~10 min at batch 8 on 2 CPU cores.

  if args.variant == 'subscale':
    c.subscale = ml_collections.ConfigDict()
    c.subscale.batch_factor = args.batch_factor  # B, sub-tensors; sub-tensor s holds samples B * i + s.
    c.subscale.horizon = args.horizon  # F, future horizon in folded samples (B * F samples of time).
    c.subscale.channels = 16  # context-net channels per sub-tensor (B times this in all).
    c.subscale.kernel = 2  # taps per dilated conv, in folded samples.
    # Sessions 6-7 (docs/RESULTS.md, "Subscale against dense"): each of
    # these narrowed the gap to dense at 5,000 steps (9.80 -> 9.61 -> 9.46
    # -> 9.38 bits).
    c.subscale.now_tap = True  # first layer also reads the current column of earlier sub-tensors (x_{t-1} directly).
    c.subscale.left_input = True  # the cell's input term also embeds the bytes of x_{t-1} = (s - 1, i) (none for s = 0).
    # With left_input: x_{t-1} ... x_{t-k} = (s - 1, i) ... (s - k, i), k of
    # them (each zero where s < k; at most B - 1).
    c.subscale.left_samples = max(1, min(4, args.batch_factor - 1))
    c.subscale.sub_bias = False  # a gate bias per sub-tensor (issue 27's first candidate; no gain).
    # Issue 27's noise shaping: model the excitation after linear prediction
    # from the min(s, lpc_order) samples of the column drawn before (s, i)
    # (0: off; it needs the mel: conditional models only). With
    # lpc_two_sided also from as many of the next column's drawn samples,
    # x_{t+B-s} ... (an interpolator; horizon >= 1). The default since
    # issue 27 (pretrained/subscale384_lpc2: 9.38 -> 8.80 bits at 5,000
    # steps; docs/RESULTS.md, "The Subscale gap").
    c.subscale.lpc_order = (min(15, args.batch_factor - 1)
                            if args.conditional else 0)
    c.subscale.lpc_two_sided = bool(c.subscale.lpc_order) and args.horizon >= 1
    # Folded samples, one ReLU conv layer each: the context net sees columns
    # j - F + 1 ... j + F of the earlier sub-tensors (subscale.dilations_for).
    c.subscale.dilations = subscale.dilations_for(max(args.horizon, 0),
                                                  c.subscale.kernel)
    # Crops: multiples of lcm(B, hop); B times the dense crop would give each
    # sub-tensor's recurrence as many steps as the dense one, at B times the
    # cost, so we take 4x longer crops and 4x fewer (same samples per step).
    if args.preset == 'tiny':
      c.subscale.channels = 4
    elif args.preset == 'demo':
      c.data.update(crop_samples=1600, batch_size=8)
    else:
      c.subscale.channels = 32
      c.data.update(crop_samples=3840, batch_size=8)

  # Block pruning (PAPER.md §2; wavernn_jax/models/sparsity.py): variant=sparse, or
  # subscale with sparsity > 0. Schedule z(t) = Z (1 - (1 - (t - t0)/S)^3).
  c.sparsity = ml_collections.ConfigDict()
  c.sparsity.enabled = args.variant == 'sparse' or (
      args.variant == 'subscale' and args.sparsity > 0)  # prune at all.
  c.sparsity.target = args.sparsity if args.sparsity >= 0 else 0.9  # Z, final fraction of zero weights per matrix.
  c.sparsity.block = args.block  # BHxBW: BH consecutive outputs of BW inputs (paper orientation).
  c.sparsity.start_step = 100  # t0, steps at sparsity 0 before pruning starts.
  c.sparsity.ramp_steps = 900  # S, steps from 0 to the final target.
  c.sparsity.update_every = 25  # N, steps between mask updates.
  c.sparsity.matrices = 'R_u,R_r,R_e'  # pruned matrices (sparsity.MATRICES): R_u,R_r,R_e[,O1,O2,O3,O4].
  c.sparsity.targets = ''  # per-matrix final sparsity overriding Z, e.g. 'R_u=0.9,R_e=0.97'.
  c.sparsity.balance_rows = True  # same kept blocks per block-row (the sparse kernel's K).
  c.sparsity.train_kernel = 'auto'  # R h in training: auto (block-sparse at stored density <= sparse_training.DENSITY_THRESHOLD) | sparse | dense.
  c.sparsity.train_kernel_density = 0.0  # auto: block-sparse at stored density <= this (0: sparse_training's defaults, 0.25).
  if args.preset == 'tiny':
    c.sparsity.update(start_step=1, ramp_steps=2, update_every=1)
  elif args.preset == 'paper':
    c.sparsity.update(start_step=1000, ramp_steps=200_000, update_every=500)

  if args.mel == 'hifigan':  # A 22.05 kHz corpus: asterisk_allison is 16 kHz.
    c.mel.update(HIFIGAN_MEL)
    c.data.name = 'wav_folder'
    hop = c.mel.hop_length  # Crops stay whole frames, about as long.
    c.data.crop_samples = max(hop, round(c.data.crop_samples / hop) * hop)
  if args.hidden != -1:
    c.model.hidden = args.hidden
  if args.steps != -1:
    c.train.steps = args.steps
  if args.ckpt_every != -1:
    c.train.ckpt_every = args.ckpt_every
  return c
