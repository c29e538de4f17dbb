"""The user-facing vocoder: features, teacher-forced ln P, and generation.

    voc = Vocoder.from_config(config, seed=0)
    voc = Vocoder.restore(workdir)
    mel = voc.mel(wave)                      # [B, T // hop, n_mels]
    lp = voc.log_prob(audio, mel)            # [B, T], ln P per sample
    audio, lp = voc.generate(mel, seed=0)    # int16 [B, F * hop], [B, F * hop]

`log_prob` runs the training graph (`model.WaveRNN.__call__`); `generate`
runs the sampler (`sampling.sample`); at temperature 1 they agree.
"""

import dataclasses
import functools

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from wavernn_jax.features import mel as mel_lib
from wavernn_jax.features import quantization
from wavernn_jax.models import model as model_lib
from wavernn_jax.models import sparsity as sparsity_lib
from wavernn_jax.models import variants
from wavernn_jax.synthesis import sampling
from wavernn_jax.synthesis import sparse_sampling
from wavernn_jax.synthesis import streaming
from wavernn_jax.synthesis import windows
from wavernn_jax.training import checkpoint
from wavernn_jax.utils import errors

# How far above the largest value its own mel can reach (nats) a mel may
# go before it is refused as another front-end's scale: generous, so that
# a TTS model's overshoot passes.
MEL_HEADROOM = 4.6  # ln 100.


# Raised for bad audio or mel (errors.InputError; this name is the API's).
InputError = errors.InputError

# The fixed shapes of generate() and stream(): see windows.py.
GENERATE_CHUNK_FRAMES = windows.GENERATE_CHUNK_FRAMES
COND_WINDOW_FRAMES = windows.COND_WINDOW_FRAMES
window_terms = windows.window_terms


def _check_fold(target_frames, overlap_frames) -> None:
  """`generate(fold=True)`'s segment sizes, checked before any sampling."""
  for name, value, low in (('target_frames', target_frames, 1),
                           ('overlap_frames', overlap_frames, 0)):
    if (isinstance(value, bool) or not isinstance(value, (int, np.integer))
        or value < low):
      raise InputError(f'{name}={value!r} must be an integer >= {low}; '
                       'e.g. target_frames=100, overlap_frames=8.')
  if target_frames < 2 * overlap_frames:
    raise InputError(
        f'target_frames={target_frames} must be at least twice '
        f'overlap_frames={overlap_frames} (the cross-fade needs both '
        'overlaps inside one segment); raise target_frames or lower '
        'overlap_frames.')


def mel_config(config) -> mel_lib.MelConfig:
  return mel_lib.MelConfig(**config.mel.to_dict())


@functools.partial(jax.jit, static_argnums=(0,))
def _log_prob(net, params, audio_BxT, mel_BxFxM, cell_weights=None):
  """ln P of the coarse and of the fine byte of every sample [B, T, 2].

  `cell_weights`: the pruned matrices block-sparse, as the sampler
  multiplies them (a dense R of the flagship streams 9.6 MB per step).
  """
  lp_c, lp_f = net.apply(params, audio_BxT, mel_BxFxM,
                         cell_weights=cell_weights)
  return jnp.stack([lp_c, lp_f], -1)


@functools.partial(jax.jit, static_argnums=(0,))
def _weights(net, params):
  return net.apply(params, method='weights')


# Vocoder.sparse_dtype by name (launch.py --sample_dtype).
SPARSE_DTYPES = {'float32': np.float32, 'float16': jnp.float16,
                 'bfloat16': jnp.bfloat16}


class Vocoder:
  """A WaveRNN with its feature settings and parameters."""

  # generate(): None = run a matrix block-sparse when its density is at most
  # sparse_sampling.DENSITY_THRESHOLD (measured), True = always, False = never.
  sparse_kernel = None
  # Storage of the sampler's block-sparse values: float32, float16 (the
  # fused CPU sampler then reads half the bytes per sample: F16C) or
  # bfloat16. Both samplers multiply the stored numbers in float32.
  sparse_dtype = np.float32

  def __init__(self, config: ml_collections.ConfigDict, params,
               step: int = 0):
    self.config = config
    self.params = params
    self.step = step  # training steps behind these parameters.
    self.averaged = False  # the Polyak average (train.ema_decay) of them.
    self.variant = variants.of(config)  # The model, parsed once.
    self.net = self.variant.make_net()

  @property
  def model_config(self) -> model_lib.ModelConfig:
    """The cell and its features, as the variant parsed them."""
    return self.variant.model

  @property
  def mel_config(self) -> mel_lib.MelConfig:
    """The mel front-end, as the variant parsed it."""
    return self.variant.mel

  @classmethod
  def from_config(cls, config, seed: int = 0) -> 'Vocoder':
    """A randomly initialised vocoder for an experiment config."""
    return cls(config, init_params(config, jax.random.key(seed)))

  @classmethod
  def restore(cls, workdir, step: int | None = None, average: bool = True,
              kernel: str | None = None,
              sparse_dtype: str | None = None) -> 'Vocoder':
    """The vocoder of a training workdir's latest (or given) checkpoint.

    With `average`, the Polyak-averaged params where the run kept them
    (train.ema_decay > 0); else the trained params. `kernel` replaces the
    run's model.kernel (auto | xla | fused: which sampler and scorer run).
    `sparse_dtype` (float32 | float16 | bfloat16) sets `sparse_dtype`.
    """
    config = ml_collections.ConfigDict(checkpoint.latest_config(workdir))
    if kernel is not None:
      config.model.kernel = kernel
    ckpt = checkpoint.Checkpointer(workdir)
    step = ckpt.latest_step() if step is None else step
    params = ckpt.restore_params(step, average)
    voc = cls(config, params, step)
    voc.averaged = average and ckpt.has_ema(step)
    if sparse_dtype is not None:
      voc.sparse_dtype = SPARSE_DTYPES[sparse_dtype]
    return voc

  def export(self, path) -> None:
    """Writes the parameters only (no optimizer state) as a restorable dir.

    `Vocoder.restore(path)` loads it like a training workdir.
    """
    ckpt = checkpoint.Checkpointer(path, max_to_keep=1)
    ckpt.save(self.step, {'step': self.step, 'params': self.params},
              self.config.to_dict())
    ckpt.close()

  def weights(self) -> model_lib.Weights:
    """The cell's weights as a flat dict (`WaveRNN.weights`): dense arrays."""
    return _weights(self.net, self.params)

  def sampler_weights(self) -> model_lib.Weights:
    """The weights the sampler multiplies: block-sparse where it pays
    (`sparse_sampling.sampler_weights`, `sparse_kernel`, `sparse_dtype`)."""
    return sparse_sampling.sampler_weights(self.weights(), self.pruned_specs(),
                                           self.sparse_kernel,
                                           self.sparse_dtype)

  def conditioning(self, mel=None, batch: int = 1, frames: int | None = None):
    """The input terms of a whole utterance in one program (`condition`):
    [B, F, U] per frame (U: the gates' terms, their slopes with linear
    upsampling, the LPC coefficients). mel [B, F, n_mels] (None when
    unconditional, with `frames`). `generate` computes the same terms in
    fixed windows (`window_terms`)."""
    if mel is not None:
      mel = np.asarray(mel, np.float32)
      batch, frames = mel.shape[:2]
    return windows.conditioning(self.net, batch, frames, self.params, mel)

  @property
  def sample_rate(self) -> int:
    return int(self.mel_config.sample_rate)

  @property
  def hop_length(self) -> int:
    return int(self.mel_config.hop_length)

  @property
  def n_mels(self) -> int:
    return int(self.mel_config.n_mels)

  def prune(self, sparsity: float = 0.96, block=(16, 1),
            matrices=('R_u', 'R_r', 'R_e'), balance_rows: bool = True):
    """One-shot block magnitude pruning of `matrices`, in place.

    Args:
      sparsity: fraction of zero weights in each matrix, in [0, 1).
      block: (BH, BW), BH consecutive outputs of BW inputs.
      matrices: names of `sparsity.MATRICES`.
      balance_rows: keep the same number of blocks in every block-row.

    Returns:
      self.
    """
    specs = [sparsity_lib.Spec(n, sparsity, tuple(block)) for n in matrices]
    try:
      sparsity_lib.check_specs(specs, self.model_config.hidden)
    except ValueError as e:
      raise InputError(str(e)) from None
    self.params, _ = sparsity_lib.prune_params(self.params, specs,
                                               balance_rows)
    self._pruned = dict(getattr(self, '_pruned', {}),
                        **{sp.name: sp for sp in specs})
    return self

  def pruned_specs(self) -> tuple:
    """Specs of the pruned matrices: from `prune`, else the config."""
    from_config = {sp.name: sp for sp in sparsity_lib.specs_from_config(
        self.config)}
    return tuple(dict(from_config, **getattr(self, '_pruned', {})).values())

  def recurrent_matrices(self) -> dict:
    """{'R_u', 'R_r', 'R_e': np.ndarray [H, H]}, rows = outputs (paper)."""
    r = np.asarray(self.params['params']['R'])
    h = r.shape[0]
    return {n: r[:, i * h:(i + 1) * h].T.copy()
            for i, n in enumerate(('R_u', 'R_r', 'R_e'))}

  def sparsity_report(self) -> dict:
    """{name: {'shape': [out, in], 'block': [bh, bw], 'density'}} per pruned."""
    achieved = sparsity_lib.matrix_sparsity(self.params, self.pruned_specs())
    return {sp.name: {'shape': list(sparsity_lib.paper_shape(
        sp.name, self.model_config.hidden)), 'block': list(sp.block),
                      'density': 1.0 - achieved[sp.name]}
            for sp in self.pruned_specs()}

  @property
  def mel_spec(self) -> dict:
    """The exact mel definition this model reads (`mel.describe`)."""
    return mel_lib.describe(self.mel_config)

  def multiply_adds_per_sample(self) -> dict:
    """Multiply-adds the sampler spends on each output sample, by part.

    'cell': the non-zero weights of the per-sample matrices (R, I_prev,
    I_c, I_lpc, O1..O4; an embedded byte is a table row read, not a
    product); 'lpc': the predictor's taps; 'conditioning': the conditioning
    network's weights (it runs once per frame) over the hop. Biases,
    gates and the softmax draw are not counted. 'total' sums them; twice
    it, times the sample rate, is the FLOP/s of real time.

    Raises:
      InputError: for a Subscale model (its context net runs per folded
        step; not counted here).
    """
    if not self.variant.counts_multiply_adds:
      raise InputError('multiply_adds_per_sample counts the dense and sparse '
                       'cells; a Subscale model also runs its context net.')
    w = jax.device_get(self.weights())
    cell = sum(int(np.count_nonzero(x)) for k, x in w.items()
               if not k.startswith(('b_', 'E_')))
    frame = 0
    if self.model_config.conditional:
      cond = self.params['params']['conditioner']
      frame = sum(int(np.count_nonzero(leaf)) for path, leaf in
                  jax.tree_util.tree_leaves_with_path(cond)
                  if getattr(path[-1], 'key', '') == 'kernel')
    out = dict(cell=cell, lpc=int(self.model_config.lpc_order),
               conditioning=frame / self.hop_length)
    out['total'] = out['cell'] + out['lpc'] + out['conditioning']
    return out

  def mel(self, wave) -> np.ndarray:
    """Log-mel frames [B, T // hop, n_mels] of float or int16 audio."""
    wave = np.asarray(wave)
    if wave.ndim == 1:
      wave = wave[None]
    if wave.ndim != 2:
      raise InputError(f'wave must have shape [T] or [B, T], got {wave.shape}.')
    if not (wave.dtype == np.int16 or np.issubdtype(wave.dtype, np.floating)):
      raise InputError(f'wave must be int16 or float, got {wave.dtype}.')
    if np.issubdtype(wave.dtype, np.floating) and not np.isfinite(wave).all():
      raise InputError('wave has NaN or infinite values; clean the audio.')
    return np.asarray(mel_lib.log_mel(quantization.to_float(wave),
                                      self.mel_config))

  def log_prob(self, audio, mel=None, parts: bool = False) -> np.ndarray:
    """Teacher-forced ln P(sample_t | past, mel), float32 [B, T].

    With parts=True: ln P(c_t | ...) and ln P(f_t | c_t, ...), [B, T, 2].
    """
    audio = np.asarray(audio)
    if audio.ndim == 1:
      audio = audio[None]
    if audio.dtype != np.int16 or audio.ndim != 2:
      raise InputError(f'audio must be int16 [B, T], got {audio.dtype} '
                       f'{audio.shape}; convert with quantization.to_int16.')
    if audio.shape[1] % self.hop_length:
      raise InputError(f'audio length {audio.shape[1]} is not a multiple of '
                       f'hop_length={self.hop_length}; trim it to '
                       f'{audio.shape[1] // self.hop_length * self.hop_length}.')
    frames = audio.shape[1] // self.hop_length
    mel = self.check_mel(mel, audio.shape[0], frames)
    if self.model_config.emphasis:  # A bijection: same ln P as the audio.
      audio = quantization.emphasise(audio, self.model_config.emphasis)
    if self.model_config.mulaw:  # ln P of the mu-law codes (lossy).
      audio = quantization.mulaw_encode(audio)
    sparse = {k: v for k, v in self.sampler_weights().items()
              if isinstance(v, sparse_sampling.BlockSparse)}
    lp = np.asarray(_log_prob(self.net, self.params, audio, mel,
                              sparse or None))
    return lp if parts else lp.sum(-1)

  def generate(self, mel=None, seed: int = 0, temperature: float = 1.0, *,
               num_samples: int | None = None, batch_size: int = 1,
               fold: bool = False, target_frames: int = 100,
               overlap_frames: int = 8, progress=None):
    """Samples audio with the jitted `lax.scan` sampler.

    Args:
      mel: log-mel frames [B, F, n_mels] (or [F, n_mels]); None when the
        model is unconditional.
      seed: PRNG seed of the draws.
      temperature: > 0; divides the logits of both softmaxes.
      num_samples: unconditional only: samples to generate (rounded up to
        whole frames).
      batch_size: unconditional only: utterances to generate.
      fold: generate one long utterance as a batch of overlapping segments
        of `target_frames` (+ 2 * `overlap_frames`) and cross-fade them
        (faster; the joins are approximate, and `lp` there is cross-faded).
      target_frames: frames per folded segment.
      overlap_frames: frames shared by neighbouring folded segments.
      progress: optional callable(frames_done, frames_total).

    Returns:
      audio int16 [B, F * hop] and ln P of each drawn sample under the
      model (temperature 1), float32 [B, F * hop].
    """
    if not temperature > 0:
      raise InputError(f'temperature={temperature} must be > 0.')
    if fold:
      _check_fold(target_frames, overlap_frames)
    if self.model_config.conditional:
      mel = self.check_mel(mel)
      b, frames = mel.shape[:2]
    else:
      if not num_samples or num_samples <= 0:
        raise InputError('an unconditional model needs num_samples > 0.')
      b, frames = batch_size, -(-num_samples // self.hop_length)
    if fold and b != 1:
      raise InputError(f'fold=True takes one utterance, got a batch of {b}; '
                       'generate the others in their own calls.')
    terms = self.variant.utterance_terms(self, mel, b, frames, lazy=not fold)
    if fold:
      segs = sampling.fold(terms[:, :frames], target_frames, overlap_frames)
      audio, lp = self.sample_terms(segs, seed, temperature, progress)
      unfold = functools.partial(sampling.unfold, target=target_frames,
                                 overlap=overlap_frames, hop=self.hop_length,
                                 frames=frames)
      audio = np.clip(np.round(unfold(audio.astype(np.float32))), -32768,
                      32767).astype(np.int16)
      return audio, unfold(lp)
    return self.sample_terms(terms, seed, temperature, progress, frames)

  def stream(self, chunks, seed: int = 0, temperature: float = 1.0):
    """Vocodes mel frames as they arrive (`streaming.py`).

    Args:
      chunks: an iterable of log-mel chunks, each float [n, n_mels] with
        n >= 1 (e.g. an acoustic model's output, frame by frame).
      seed: PRNG seed of the draws, as `generate`'s.
      temperature: > 0, as `generate`'s.

    Yields:
      int16 audio [m * hop_length] as soon as the conditioning's look-ahead
      (`streaming.lookahead_frames`) allows; the concatenation equals
      `generate(mel, seed, temperature)[0][0]` for the whole mel, bit for
      bit, for any chunking.
    """
    return streaming.stream(self, chunks, seed, temperature)

  def sample_terms(self, terms, seed: int = 0, temperature: float = 1.0,
                   progress=None, frames: int | None = None):
    """Samples every row (`Variant.sample`: terms of whole utterances, a
    function giving windows of them, or folded segments); decoded from
    mu-law and de-emphasised as modelled."""
    audio, lp = self.variant.sample(self, terms, frames, seed, temperature,
                                    progress)
    if self.model_config.mulaw:
      audio = np.asarray(quantization.mulaw_decode(audio))
    if self.model_config.emphasis:
      audio = np.asarray(quantization.deemphasise(
          audio, float(self.model_config.emphasis)))
    return audio, lp

  def check_mel(self, mel, batch=None, frames=None):
    """The mel as float32 [B, F, n_mels] (None for an unconditional model);
    InputError in one line when it cannot be this model's."""
    if not self.model_config.conditional:
      return None
    if mel is None:
      raise InputError('this model is conditional: pass mel frames '
                       '(voc.mel(wave)).')
    mel = np.asarray(mel)
    if mel.ndim == 2:
      mel = mel[None]
    if not np.issubdtype(mel.dtype, np.floating):
      raise InputError(f'mel must be float, got {mel.dtype}.')
    if mel.ndim != 3 or mel.shape[2] != self.n_mels:
      raise InputError(f'mel must have shape [B, frames, {self.n_mels}], '
                       f'got {mel.shape}; compute it with voc.mel(wave).')
    if batch is not None and mel.shape[:2] != (batch, frames):
      raise InputError(f'mel has shape {mel.shape} but the audio needs '
                       f'[{batch}, {frames}, {self.n_mels}] '
                       '(frames = samples // hop_length).')
    if not np.isfinite(mel).all():
      raise InputError('mel has NaN or infinite values; recompute it from '
                       'clean audio.')
    self.check_range(mel)
    return mel.astype(np.float32)

  def check_range(self, mel, what: str = 'mel') -> None:
    """One line when the values cannot be this model's log-mel."""
    low, high = mel_lib.value_range(self.mel_config)
    if mel.min() < low - 0.01 or mel.max() > high + MEL_HEADROOM:
      raise InputError(
          f'{what} values span [{mel.min():.2f}, {mel.max():.2f}], outside '
          f'what this model\'s mel gives ([{low:.2f}, {high:.2f}] for audio '
          'in [-1, 1]): another front-end\'s scale (dB, log10, power?); '
          'compute it as voc.mel_spec says, or with voc.mel(wave).')


def make_net(config):
  """The Flax module of `config`'s variant (`Variant.make_net`)."""
  return variants.of(config).make_net()


def init_params(config, key):
  """Initial parameters of the model of `config` (shape-independent)."""
  return variants.of(config).init(key)
