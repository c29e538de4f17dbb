"""The model variants behind one interface.

A config names its model with a string, `variant` (dense, sparse or
subscale), and flags. `variants.of(config)` reads it once into a `Variant`;
the rest of the library asks the variant instead of checking the string.
There are two implementations:

- `DenseOrder`: the WaveRNN that emits one sample per step, in time order
  (PAPER.md §1). `variant=dense` and `variant=sparse` are both this one: a
  sparse model is the same cell with pruned matrices, a weight transform
  (`sparsity.py` in training, `sparse_sampling.py` in the sampler).
- `Subscale`: the utterance folded into B sub-tensors, one sample of each
  per step, with a context network (PAPER.md §3, `subscale.py`).

What a variant answers: its Flax module (`make_net`) and initial
parameters (`init`); the frames of context a training crop needs
(`context_frames`); its own config rules (`check`); the input terms of an
utterance (`utterance_terms`) and how they are sampled (`sample`); and
what it supports (`streams`, `distillable`, `counts_multiply_adds`,
`recurrence_path`).
"""

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from wavernn_jax.features import mel as mel_lib
from wavernn_jax.models import model as model_lib
from wavernn_jax.models import subscale as subscale_lib
from wavernn_jax.synthesis import sampling
from wavernn_jax.synthesis import subscale_sampling
from wavernn_jax.synthesis import windows
from wavernn_jax.utils import errors

NAMES = ('dense', 'sparse', 'subscale')


@dataclasses.dataclass(frozen=True)
class Variant:
  """The parsed model: its name, cell and features (common to both)."""
  name: str
  model: model_lib.ModelConfig
  mel: mel_lib.MelConfig

  # Vocoder.stream: mel in chunks, audio out as it is drawn.
  streams = True
  # Per-sample logits in time order, which train.distill_from matches.
  distillable = True
  # Vocoder.multiply_adds_per_sample counts the cell, LPC and conditioning.
  counts_multiply_adds = True
  # Samples each step of the recurrence emits (Subscale: one per sub-tensor).
  samples_per_step = 1

  def make_net(self):
    raise NotImplementedError

  def init(self, key):
    """Initial parameters (shape-independent: a one-frame dummy input)."""
    audio = jnp.zeros((1, self.mel.hop_length), jnp.int16)
    mel = (jnp.zeros((1, 1, self.mel.n_mels), jnp.float32)
           if self.model.conditional else None)
    return jax.jit(self.make_net().init)(key, audio, mel)

  @property
  def context_frames(self) -> int:
    """Frames of context on each side of a training window: enough that
    the scored frames see the same STFT samples and the same conditioning
    receptive field as in a whole utterance (so training crops and
    `Vocoder.log_prob` agree); at least 1, for the previous sample."""
    if not self.model.conditional:
      return 1
    stft = math.ceil(self.mel.n_fft / 2 / self.mel.hop_length)
    return stft + self.model.cond_radius

  def check(self, config) -> None:
    """Raises errors.ConfigError for a config this variant cannot run."""

  def recurrence_path(self, net) -> str | None:
    """Which path the teacher-forced recurrence runs (for the log)."""
    del net
    return None

  def utterance_terms(self, voc, mel, batch: int, frames: int,
                      lazy: bool = True):
    """The input terms of whole utterances [B, F', U] (F' >= F), or with
    `lazy` (where the variant samples window by window) a function
    (start, count) -> the terms of those frames."""
    raise NotImplementedError

  def sample(self, voc, terms, frames: int, seed: int, temperature: float,
             progress=None):
    """Rows of audio (int16 [B, F P], as modelled: before mu-law decoding
    and de-emphasis) and ln P of each draw, from `utterance_terms`' terms
    (or `sampling.fold`'s segments) with the vocoder's sampler weights."""
    raise NotImplementedError


class DenseOrder(Variant):
  """The dense-order WaveRNN (dense, or sparse by a weight transform)."""

  def make_net(self):
    return model_lib.WaveRNN(self.model)

  def recurrence_path(self, net) -> str:
    return ('the fused CPU kernels' if net.cfg.fused() else
            "XLA's lax.scan")

  def utterance_terms(self, voc, mel, batch, frames, lazy=True):
    if lazy:  # Conditioning as the sampler reaches it.
      return functools.partial(windows.window_terms, voc.net, voc.params,
                               mel, batch=batch)
    return windows.window_terms(voc.net, voc.params, mel, 0, frames,
                                batch=batch)

  def sample(self, voc, terms, frames, seed, temperature, progress=None):
    """Fixed chunks of GENERATE_CHUNK_FRAMES (one compiled sampler for any
    length) on the sampler model.kernel picks; lazy terms a window at a
    time, so the first samples wait for one window's conditioning. The
    draws depend on the frame index only: chunking never changes them."""
    w = voc.sampler_weights()
    fused = sampling.pick_fused(w, self.model.kernel)
    key, temp = jax.random.key(seed), jnp.float32(temperature)
    chunk, window = windows.GENERATE_CHUNK_FRAMES, windows.COND_WINDOW_FRAMES
    if not callable(terms):
      b, padded, _ = terms.shape
      frames = padded if frames is None else frames
      whole = -(-frames // chunk) * chunk
      terms = terms[:, :whole]
      if terms.shape[1] < whole:
        terms = jnp.pad(terms, ((0, 0), (0, whole - padded), (0, 0)))
      audio, lp, _ = sampling.sample_chunks(
          w, terms, key, temp, voc.hop_length, chunk, frames=frames,
          progress=progress, fused=fused)
      return audio, lp
    carry, audio, lp = None, [], []
    for start in range(0, frames, window):
      count = min(window, frames - start)
      xin = terms(start, count)
      report = progress and (lambda done, _, s=start: progress(s + done,
                                                                frames))
      a, l, carry = sampling.sample_chunks(
          w, xin[:, :-(-count // chunk) * chunk], key, temp, voc.hop_length,
          chunk, carry, start, count, report, fused)
      audio.append(a)
      lp.append(l)
    return np.concatenate(audio, 1), np.concatenate(lp, 1)


@dataclasses.dataclass(frozen=True)
class Subscale(Variant):
  """The Subscale WaveRNN: B sub-tensors, a context network."""
  subscale: subscale_lib.SubscaleConfig = None

  # A whole utterance is folded before the first step: no stream.
  streams = False
  # Its logits come in folded order, one step per B samples.
  distillable = False
  # Its context net runs per folded step: not counted.
  counts_multiply_adds = False

  def make_net(self):
    return subscale_lib.SubscaleWaveRNN(self.model, self.subscale)

  @property
  def samples_per_step(self) -> int:
    return self.subscale.batch_factor

  @property
  def context_frames(self) -> int:
    """The dense-order context, and the horizon: the last scored samples
    see their whole future horizon of folded samples."""
    horizon = math.ceil((self.subscale.horizon + 1) *
                        self.subscale.batch_factor / self.mel.hop_length)
    return max(super().context_frames, horizon)

  def check(self, config) -> None:
    m, s = self.model, self.subscale
    _require(m.upsample == 'repeat',
             'variant=subscale folds frame-rate conditioning; set '
             'model.upsample=repeat.')
    _require(not m.lpc_order,
             'variant=subscale generates 16 samples at once, so no sample '
             'has its whole past for LPC; set model.lpc_order=0 '
             '(subscale.lpc_order predicts from the samples the ordering has '
             'drawn).')
    _require(not s.lpc_order or (m.conditional and not m.mulaw),
             f'subscale.lpc_order={s.lpc_order} computes its predictors from '
             'the mel of 16-bit audio; set subscale.lpc_order=0 for an '
             'unconditional or mu-law model.')
    crop, hop = config.data.crop_samples, self.mel.hop_length
    step = math.lcm(s.batch_factor, hop)
    _require(crop % s.batch_factor == 0,
             f'data.crop_samples={crop} must be a multiple of '
             f'subscale.batch_factor={s.batch_factor} (and of mel.hop_length'
             f'={hop}); e.g. {max(crop // step, 1) * step}.')

  def utterance_terms(self, voc, mel, batch, frames, lazy=True):
    del lazy  # One scan per utterance: all its terms first.
    return windows.conditioning(voc.net, batch, frames, voc.params, mel)

  def sample(self, voc, terms, frames, seed, temperature, progress=None):
    frames = terms.shape[1] if frames is None else frames
    out = subscale_sampling.generate(voc.net, voc.params,
                                     voc.sampler_weights(),
                                     terms[:, :frames], seed, temperature,
                                     voc.hop_length)
    if progress:
      progress(frames, frames)
    return out


def _require(ok: bool, message: str) -> None:
  if not ok:
    raise errors.ConfigError(message)


def of(config) -> Variant:
  """The config's model, parsed once (`variant`, `model`, `mel` and, for
  Subscale, `subscale`). Raises errors.ConfigError for an unknown name or
  a bad value."""
  name = config.get('variant', 'dense')
  if name not in NAMES:
    raise errors.ConfigError(
        f'variant={name!r} is unknown; use one of {NAMES} (lower case), e.g. '
        '--config=experiments/configs/wavernn.py:variant=subscale.')
  try:
    common = dict(name=name, model=model_lib.ModelConfig.from_config(config),
                  mel=mel_lib.MelConfig(**config.mel.to_dict()))
    if name != 'subscale':
      return DenseOrder(**common)
    _require('subscale' in config, 'variant=subscale needs a config.subscale '
             'section; build the config with experiments/configs/wavernn.py.')
    return Subscale(**common,
                    subscale=subscale_lib.SubscaleConfig.from_config(config))
  except errors.ConfigError:
    raise
  except (ValueError, TypeError) as e:
    raise errors.ConfigError(f'bad config: {e}') from None
