"""WaveRNN with dual softmax and mel conditioning (PAPER.md §1).

Notation: B batch, T samples, F mel frames (T = F * P), P hop (samples per
frame), M mel bins, H hidden size, H2 = H / 2, G = 3H gate pre-activations.
Gates are laid out [u | r | e]; each gate is split into a coarse half and a
fine half of H2 units, so a G-vector reshapes to [3, 2, H2].

All weight matrices are stored as [inputs, outputs] (Flax's Dense layout), so
every product is `x @ W` and XLA never transposes a weight inside the
sampling loop. The paper's R, ONE matrix [3H, H] = [R_u; R_r; R_e], is the
transpose of our `R` [H, 3H].

The cell is written once, as pure functions of the weights (`recur`,
`input_term`, `c_term`, `gru`, `head`), and used both by the teacher-forced
scan (training, `log_prob`), where only the recurrence is sequential, and by
the step-by-step sampler (`sampling.py`, through `coarse` and `fine`).
"""

import dataclasses
import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from wavernn_jax.features import lpc
from wavernn_jax.features import mel as mel_lib
from wavernn_jax.features import pitch as pitch_lib
from wavernn_jax.features import quantization
from wavernn_jax.kernels import cpu_kernels
from wavernn_jax.utils import errors

Weights = dict[str, Any]

# Init for [in, out] matrices: variance 1 / fan_in.
_matrix_init = nn.initializers.lecun_normal()
UPSAMPLERS = ('repeat', 'linear')
PITCH_EMBED = 32  # width of the pitch-period embedding (`model.pitch`).


def _byte_embedding_init(fan_in: int):
  """Init of [..., 256, D] byte embeddings: scale(byte) * w, w ~ 1/fan_in.

  At init an embedded byte adds what the scalar input would (`I_prev`), so
  the two models start alike; training can then bend the map per byte.
  """
  def init(key, shape, dtype=jnp.float32):
    w = jax.random.normal(key, shape[:-2] + (1, shape[-1]), dtype)
    values = quantization.scale(jnp.arange(shape[-2]))[:, None]
    return w * values / math.sqrt(fan_in)
  return init


@dataclasses.dataclass(frozen=True)
class ModelConfig:
  """Hyper-parameters of the network (built from the experiment config)."""
  hidden: int = 896  # H, units of the GRU state (even).
  n_mels: int = 80  # M, mel bins of the conditioning.
  hop_length: int = 200  # P, samples per mel frame.
  conditional: bool = True  # False: unconditional model, mel is ignored.
  cond_channels: int = 128  # channels of the conditioning convolutions.
  cond_layers: int = 2  # conv layers at frame rate.
  cond_kernel: int = 5  # frames per conv kernel (odd).
  cond_res_blocks: int = 0  # residual blocks (1x1 convs) after the convs.
  upsample: str = 'repeat'  # frames -> samples: 'repeat' | 'linear'.
  embed_inputs: bool = False  # bytes in as learned embeddings, not scalars.
  emphasis: float = 0.0  # pre-emphasis alpha of the modelled signal (0: off).
  mulaw: bool = False  # ablation: 8-bit mu-law codes, not 16-bit samples.
  lpc_order: int = 0  # K: model the excitation after LPC from the mel (0: off).
  pitch: bool = False  # condition on pitch period + voicing from the mel too.
  mel: mel_lib.MelConfig | None = None  # the features (lpc_order, pitch need it).
  matmul_dtype: str = 'float32'  # R and O1..O4 in products: float32 | bfloat16.
  kernel: str = 'auto'  # teacher-forced recurrence: auto | xla | fused (cpu_kernels).

  def __post_init__(self):
    if self.hidden <= 0 or self.hidden % 2:
      raise errors.UserError(
          f'hidden={self.hidden} must be a positive even number '
          '(split into coarse and fine halves); e.g. hidden=896.')
    if self.cond_kernel % 2 == 0 or self.cond_kernel <= 0:
      raise errors.UserError(f'cond_kernel={self.cond_kernel} must be odd.')
    if self.upsample not in UPSAMPLERS:
      raise errors.UserError(
          f'upsample={self.upsample!r} is unknown; use one of '
          f'{UPSAMPLERS}.')
    if not 0.0 <= self.emphasis < 1.0:
      raise errors.UserError(f'emphasis={self.emphasis} must be in [0, 1) '
                             '(0: off; LPCNet uses 0.85).')
    if self.matmul_dtype not in ('float32', 'bfloat16'):
      raise errors.UserError(
          f'matmul_dtype={self.matmul_dtype!r} is unknown; use '
          'float32 or bfloat16.')
    if not 0 <= self.lpc_order <= 32:
      raise errors.UserError(f'lpc_order={self.lpc_order} must be in [0, 32] '
                             '(0: off; LPCNet uses 16).')
    if self.lpc_order and (not self.conditional or self.mulaw
                           or self.mel is None):
      raise errors.UserError('lpc_order > 0 computes the LPC from the mel: it '
                             'needs conditional=True, mulaw=False and the mel '
                             'config (ModelConfig.from_config).')
    if self.pitch and (not self.conditional or self.mel is None):
      raise errors.UserError(
          'pitch=True computes pitch features from the mel: it '
          'needs conditional=True and the mel config '
          '(ModelConfig.from_config).')
    if self.kernel not in cpu_kernels.KERNELS:
      raise errors.UserError(
          f'model.kernel={self.kernel!r} is unknown; use one of '
          f'{cpu_kernels.KERNELS} (auto: the fused CPU kernels where built).')
    if self.cond_res_blocks < 0:
      raise errors.UserError(
          f'cond_res_blocks={self.cond_res_blocks} must be >= 0.')

  @property
  def cond_radius(self) -> int:
    """Frames of context on each side that one output frame depends on."""
    return self.cond_layers * (self.cond_kernel // 2)

  @property
  def context_frames(self) -> tuple[int, int]:
    """Mel frames (before, after) that one frame's input terms read: the
    conditioner's radius on each side, one more after with
    upsample='linear' (the step to the next frame); none unconditional."""
    if not self.conditional:
      return 0, 0
    linear = 1 if self.upsample == 'linear' else 0
    return self.cond_radius, self.cond_radius + linear

  @classmethod
  def from_config(cls, config) -> 'ModelConfig':
    m = config.model
    # .get: configs of checkpoints made before these options existed.
    return cls(hidden=m.hidden, n_mels=config.mel.n_mels,
               hop_length=config.mel.hop_length, conditional=m.conditional,
               cond_channels=m.cond_channels, cond_layers=m.cond_layers,
               cond_kernel=m.cond_kernel,
               cond_res_blocks=m.get('cond_res_blocks', 0),
               upsample=m.get('upsample', 'repeat'),
               embed_inputs=m.get('embed_inputs', False),
               emphasis=m.get('emphasis', 0.0),
               mulaw=m.get('mulaw', False),
               lpc_order=m.get('lpc_order', 0),
               pitch=m.get('pitch', False),
               mel=mel_lib.MelConfig(**config.mel.to_dict()),
               matmul_dtype=m.get('matmul_dtype', 'float32'),
               kernel=m.get('kernel', 'auto'))

  def fused(self) -> bool:
    """Whether the teacher-forced recurrence runs the fused CPU kernels
    (`cpu_kernels.use_fused`; float32 products only)."""
    if self.matmul_dtype != 'float32':
      if self.kernel == 'fused':
        raise errors.UserError('model.kernel=fused multiplies in float32; '
                               'use model.matmul_dtype=float32 or '
                               'model.kernel=xla.')
      return False
    try:
      return cpu_kernels.use_fused(self.kernel)
    except ValueError as e:
      raise errors.UserError(str(e)) from None


# ---------------------------------------------------------------- the cell --


def matmul(x, w_IxO):
  """x @ W; weights stored in bfloat16 are multiplied with f32 accumulation."""
  if w_IxO.dtype == jnp.float32:
    return x @ w_IxO
  return jnp.dot(x.astype(w_IxO.dtype), w_IxO,
                 preferred_element_type=jnp.float32)


def recur(w: Weights, h_BxH):
  """R h: the one recurrent mat-vec per step, reshaped [B, 3, 2, H2]."""
  rh_BxG = matmul(h_BxH, w['R'])
  return rh_BxG.reshape(h_BxH.shape[0], 3, 2, -1)


def rows(table_NxG, idx):
  """table[idx]: [*idx.shape, G]. One index (the batch-1 sampler's step)
  is a dynamic slice, which XLA-CPU runs much faster inside the sampling
  loop than a gather (H = 896, 95 % sparse: 88 -> 66 us per sample with
  embedded bytes; docs/RESULTS.md, the issue-23 section); the values are
  the same either way."""
  if math.prod(idx.shape) == 1:
    row = jax.lax.dynamic_slice_in_dim(table_NxG, idx.reshape(-1)[0], 1)
    return row.reshape(idx.shape + table_NxG.shape[1:])
  return table_NxG[idx]


def input_term(w: Weights, xin_xG, prev_c, prev_f, sig_x2=None):
  """I* [c_{t-1}, f_{t-1}] + conditioning + bias, reshaped [..., 3, 2, H2].

  Leading dims of `xin_xG` broadcast against those of the previous bytes.
  With embedded inputs (`E_prev` in w) the bytes select rows of learned
  tables instead of scaling the columns of `I_prev`. With LPC (`I_lpc` in
  w) the bytes are the previous excitation's and `sig_x2` adds the signal
  side, [s_{t-1}, p_t] * lpc.INPUT_SCALE (LPCNet's inputs).
  """
  if 'E_prev' in w:
    x_xG = (xin_xG + rows(w['E_prev'][0], prev_c) +
            rows(w['E_prev'][1], prev_f))
  else:
    prev_x2 = jnp.stack([quantization.scale(prev_c),
                         quantization.scale(prev_f)], axis=-1)
    x_xG = xin_xG + two_inputs(prev_x2, w['I_prev'])
  if sig_x2 is not None:
    x_xG = x_xG + two_inputs(sig_x2, w['I_lpc'])
  return x_xG.reshape(x_xG.shape[:-1] + (3, 2, -1))


def two_inputs(a_x2, w_2xG):
  """a @ W for two inputs, as two broadcast multiply-adds: XLA fuses them
  with the sums around them, where a dot with 2 contracted elements ran
  20 ms forward and 55 ms backward over a training window's 3,200 rows
  (issue 37's trace)."""
  return a_x2[..., :1] * w_2xG[0] + a_x2[..., 1:] * w_2xG[1]


def lpc_inputs(s_prev, p):
  """The signal-side inputs [..., 2] of `input_term` with LPC."""
  return jnp.stack([s_prev, p], -1).astype(jnp.float32) * lpc.INPUT_SCALE


def split_lpc(w: Weights, xin_BxU):
  """Frame inputs -> (conditioning terms, LPC coefficients [B, K] or None).

  With LPC, `WaveRNN.condition` appends each frame's K coefficients to its
  terms (G or 2G columns, K < G), so chunking and folding carry them along.
  """
  if 'I_lpc' not in w:
    return xin_BxU, None
  k = xin_BxU.shape[-1] % w['b_I'].shape[-1]
  return xin_BxU[..., :-k], xin_BxU[..., -k:]


def c_term(w: Weights, c):
  """The masked part of I*: c_t's input to the fine halves, [..., 3, H2]."""
  if 'E_c' in w:
    return rows(w['E_c'], c).reshape(c.shape + (3, -1))
  return quantization.scale(c)[..., None, None] * w['I_c'][0].reshape(3, -1)


def frame_inputs(w: Weights, xin_BxU, hop: int):
  """A frame's input terms for its P samples: [B, G] as is, or [P, B, G].

  `WaveRNN.condition` gives [B, G] per frame with upsample='repeat' (every
  sample of the frame gets it) and [B, 2G] with 'linear': the frame's value
  and its step to the next frame's, interpolated here at p / P, p < P.
  Frame f is centred on sample f P (centred STFT), so sample f P + p lies
  p / P of the way to frame f + 1.
  """
  g = w['b_I'].shape[-1]
  if xin_BxU.shape[-1] == g:
    return xin_BxU
  return upsample_linear(xin_BxU[..., :g], xin_BxU[..., g:], hop)


def upsample_linear(start_BxG, slope_BxG, hop: int):
  """start + (p / P) slope for p = 0..P-1: [P, B, G]."""
  ramp_P = jnp.arange(hop, dtype=jnp.float32) / hop
  return start_BxG[None] + ramp_P[:, None, None] * slope_BxG[None]


def gru(h, rh, x):
  """GRU update; gates on axis 1 of rh and x ([B, 3, ...], h is [B, ...]).

  Works on one half ([B, 3, H2]) or both halves ([B, 3, 2, H2]) alike. r
  multiplies (R_e h), as in the paper.
  """
  u = jax.nn.sigmoid(rh[:, 0] + x[:, 0])
  r = jax.nn.sigmoid(rh[:, 1] + x[:, 1])
  e = jnp.tanh(r * rh[:, 2] + x[:, 2])
  return u * h + (1.0 - u) * e


def head(w: Weights, y, first: str, second: str):
  """O_second relu(O_first y + b) + b: logits [..., 256]."""
  hid = jax.nn.relu(matmul(y, w[first]) + w['b_' + first])
  return matmul(hid, w[second]) + w['b_' + second]


def coarse(w: Weights, h_BxH, rh_Bx3x2xH2, x_Bx3x2xH2):
  """Coarse half of the new state and the coarse logits (no c_t input)."""
  h2 = h_BxH.shape[-1] // 2
  yc_BxH2 = gru(h_BxH[:, :h2], rh_Bx3x2xH2[:, :, 0], x_Bx3x2xH2[:, :, 0])
  return yc_BxH2, head(w, yc_BxH2, 'O1', 'O2')


def fine(w: Weights, h_BxH, rh_Bx3x2xH2, x_Bx3x2xH2, c_B):
  """Fine half of the new state and the fine logits, given c_t."""
  h2 = h_BxH.shape[-1] // 2
  yf_BxH2 = gru(h_BxH[:, h2:], rh_Bx3x2xH2[:, :, 1],
                x_Bx3x2xH2[:, :, 1] + c_term(w, c_B))
  return yf_BxH2, head(w, yf_BxH2, 'O3', 'O4')


def cell(w: Weights, h_BxH, xin_BxG, prev_c_B, prev_f_B, c_B, sig_Bx2=None):
  """One step as the sampler takes it: new state [B, H], logits [B, 2, 256]."""
  rh = recur(w, h_BxH)
  x = input_term(w, xin_BxG, prev_c_B, prev_f_B, sig_Bx2)
  yc, logits_c = coarse(w, h_BxH, rh, x)
  yf, logits_f = fine(w, h_BxH, rh, x, c_B)
  return jnp.concatenate([yc, yf], -1), jnp.stack([logits_c, logits_f], 1)


# ------------------------------------------------------------- the modules --


class Conditioner(nn.Module):
  """Mel frames -> gate pre-activations at frame rate (conv stack + linear).

  With `pitch`, each frame's pitch period (a learned embedding) and voicing
  from the mel (`pitch.from_mel`) are appended to it as more channels of
  the first conv's input (after the mel: a warm start zero-pads them).
  The frame-rate output is upsampled to samples inside the scans, one frame
  at a time (`frame_inputs`), so no [B, T, G] tensor is ever made.
  """
  cfg: ModelConfig

  @nn.compact
  def __call__(self, mel_BxFxM, valid_F=None, per_frame: bool = True):
    """Frame-rate terms [B, F, G].

    `per_frame`: the pitch features of each frame computed alone
    (`lpc.per_frame`: the same for any window); training passes False (the
    batched computation, a rounding flip apart in rare frames, and faster).

    `valid_F` (1 = a frame of the utterance, 0 = padding around it) zeroes
    every conv's input outside the utterance, as 'SAME' padding does at its
    ends: a window of frames with its neighbours (`Vocoder`'s fixed-shape
    chunks) then gets the same terms as the whole utterance.
    """
    mask = (lambda x: x) if valid_F is None else (
        lambda x: jnp.where(valid_F[:, None] > 0, x, 0.0))
    # Log-mel magnitudes lie in about [-11.5, 3]; centre them near 0.
    x = (mel_BxFxM + 4.0) / 4.0
    if self.cfg.pitch:  # LPCNet's pitch features: period embedded, voicing.
      period_BxF, voicing_BxF = pitch_lib.from_mel(mel_BxFxM, self.cfg.mel,
                                                   per_frame)
      lo, _ = pitch_lib.lag_range(self.cfg.mel)
      table = nn.Embed(pitch_lib.num_lags(self.cfg.mel), PITCH_EMBED,
                       name='pitch_embed')
      x = jnp.concatenate([x, table(period_BxF - lo),
                           voicing_BxF[..., None]], -1)
    for i in range(self.cfg.cond_layers):
      x = nn.relu(nn.Conv(self.cfg.cond_channels, (self.cfg.cond_kernel,),
                          padding='SAME', name=f'conv{i}')(mask(x)))
    # MelResNet-style (fatchord): 1x1 residual blocks deepen the stack at
    # frame rate without widening its receptive field (context_frames).
    for i in range(self.cfg.cond_res_blocks):
      y = nn.relu(nn.Dense(self.cfg.cond_channels, name=f'res{i}_a')(x))
      x = x + nn.Dense(self.cfg.cond_channels, name=f'res{i}_b',
                       kernel_init=nn.initializers.zeros)(y)
    return nn.Dense(3 * self.cfg.hidden, name='I_cond')(x)


class WaveRNN(nn.Module):
  """The dense WaveRNN: weights, conditioning and the teacher-forced scan."""
  cfg: ModelConfig

  def setup(self):
    h, h2 = self.cfg.hidden, self.cfg.hidden // 2
    self.R = self.param('R', nn.initializers.orthogonal(), (h, 3 * h))
    if self.cfg.embed_inputs:  # One table row per byte value.
      self.E_prev = self.param('E_prev', _byte_embedding_init(2),
                               (2, 256, 3 * h))
      self.E_c = self.param('E_c', _byte_embedding_init(1), (256, 3 * h2))
    else:
      self.I_prev = self.param('I_prev', _matrix_init, (2, 3 * h))
      # Masked part of I*: c_t reaches only the fine halves of u, r, e.
      self.I_c = self.param('I_c', _matrix_init, (1, 3 * h2))
    self.b_I = self.param('b_I', nn.initializers.zeros, (3 * h,))
    if self.cfg.lpc_order:  # [s_{t-1}, p_t] -> gates.
      self.I_lpc = self.param('I_lpc', _matrix_init, (2, 3 * h))
    for name, shape in (('O1', (h2, h2)), ('O2', (h2, 256)),
                        ('O3', (h2, h2)), ('O4', (h2, 256))):
      setattr(self, name, self.param(name, _matrix_init, shape))
      setattr(self, 'b_' + name,
              self.param('b_' + name, nn.initializers.zeros, shape[1:]))
    if self.cfg.conditional:
      self.conditioner = Conditioner(self.cfg)

  def weights(self) -> Weights:
    """The cell's weights as a flat dict of arrays."""
    inputs = ['E_prev', 'E_c'] if self.cfg.embed_inputs else ['I_prev', 'I_c']
    names = ['R'] + inputs + ['b_I', 'O1', 'O2', 'O3', 'O4', 'b_O1', 'b_O2',
                              'b_O3', 'b_O4']
    if self.cfg.lpc_order:
      names.append('I_lpc')
    w = {n: getattr(self, n) for n in names}
    if self.cfg.matmul_dtype == 'bfloat16':  # f32 master weights, bf16 products.
      w.update({n: w[n].astype(jnp.bfloat16) for n in ('R', 'O1', 'O2', 'O3',
                                                        'O4')})
    return w

  def condition(self, mel_BxFxM, batch: int, frames: int, valid_F=None,
                per_frame: bool = True):
    """Frame-rate input terms (conditioning + bias) for `frame_inputs`.

    `valid_F`: of a window of frames padded around the utterance (the
    `Conditioner`'s), or None (the whole utterance). `per_frame`: as the
    `Conditioner`'s, for the LPC coefficients too.

    Returns:
      [B, F, G]; with upsample='linear' [B, F, 2G]: each frame's terms and
      the step to the next frame's (0 after the last frame). With LPC the
      frame's K coefficients follow (`split_lpc`).
    """
    if not self.cfg.conditional:
      return jnp.broadcast_to(self.b_I, (batch, frames, 3 * self.cfg.hidden))
    x = self.conditioner(mel_BxFxM, valid_F, per_frame) + self.b_I
    if self.cfg.upsample == 'linear':
      nxt = jnp.concatenate([x[:, 1:], x[:, -1:]], axis=1)
      step = nxt - x
      if valid_F is not None:  # 0 after the utterance's last frame.
        has_next = jnp.concatenate([valid_F[1:], valid_F[:1] * 0])
        step = jnp.where(has_next[:, None] > 0, step, 0.0)
      x = jnp.concatenate([x, step], axis=-1)
    if self.cfg.lpc_order:
      x = jnp.concatenate([x, lpc.from_mel(
          mel_BxFxM, self.cfg.mel, self.cfg.lpc_order, self.cfg.emphasis,
          per_frame)], -1)
    return x

  def __call__(self, audio_BxT, mel_BxFxM=None, context_frames: int = 0,
               return_logits: bool = False, cell_weights=None,
               per_frame: bool = True):
    """Teacher-forced ln-probs of every sample.

    Args:
      audio_BxT: int16 audio, T = F * P (pre-emphasised when the model is;
        with LPC the scores are those of its excitation, the same numbers).
      mel_BxFxM: log-mel frames (None when unconditional).
      context_frames: frames at each end of the window that only give
        context (training crops); their samples are not scored, except the
        last one before the scored span, which is the first previous sample.
      return_logits: also return logits [B, T', 2, 256] (tests).
      cell_weights: cell weights used instead of the parameters' of the
        same name, e.g. {'R': a block-sparse R gathered from the parameter}
        (sparse_training.py).
      per_frame: the mel's LPC and pitch features per frame (`condition`);
        False in training.

    Returns:
      ln P(c_t | ...) and ln P(f_t | c_t, ...), each float32 [B, T'] with
      T' = T - 2 * context_frames * P (and the logits if asked).
    """
    p, ctx = self.cfg.hop_length, context_frames
    b, t = audio_BxT.shape
    w = dict(self.weights(), **(cell_weights or {}))
    xin_BxFxG, a_BxFxK = split_lpc(w, self.condition(
        mel_BxFxM, b, t // p, per_frame=per_frame))
    sig_BxTx2 = None
    if a_BxFxK is not None:  # Score the excitation; s and p are inputs.
      s_BxT = audio_BxT
      audio_BxT, p_BxT = lpc.residual(s_BxT, a_BxFxK, p)
      s_prev = jnp.pad(s_BxT[:, :-1], ((0, 0), (1, 0)))
      sig_BxTx2 = lpc_inputs(s_prev, p_BxT)
    if ctx:
      xin_BxFxG = xin_BxFxG[:, ctx:-ctx]
      prev_B = audio_BxT[:, ctx * p - 1]
      audio_BxT = audio_BxT[:, ctx * p:-ctx * p]
      if sig_BxTx2 is not None:
        sig_BxTx2 = sig_BxTx2[:, ctx * p:-ctx * p]
    else:
      prev_B = jnp.zeros((b,), jnp.int16)
    return teacher_forced(w, audio_BxT, xin_BxFxG, prev_B, return_logits,
                          sig_BxTx2, fused=self.cfg.fused())


# Frames per call of the fused recurrence (the largest divisor of F up to
# this): a training window (2 frames) is one call; a whole utterance is
# scanned in chunks, so no [T, B, G] tensor of a long input is ever made.
FUSED_CHUNK_FRAMES = 16


def scores(w: Weights, head_fn, h_xH, c, fi, return_logits: bool):
  """(ln P(c), ln P(f | c), logits or None) of the states h_xH [..., H]
  through the heads (`head_fn`: `head` or `fused_head`)."""
  hidden = h_xH.shape[-1]
  logits_c = head_fn(w, h_xH[..., :hidden // 2], 'O1', 'O2')
  logits_f = head_fn(w, h_xH[..., hidden // 2:], 'O3', 'O4')
  lp_c = jnp.take_along_axis(jax.nn.log_softmax(logits_c), c[..., None],
                             -1)[..., 0]
  lp_f = jnp.take_along_axis(jax.nn.log_softmax(logits_f), fi[..., None],
                             -1)[..., 0]
  logits = jnp.stack([logits_c, logits_f], -2) if return_logits else None
  return lp_c, lp_f, logits


def teacher_forced(w: Weights, audio_BxT, xin_BxFxG, prev_B,
                   return_logits=False, sig_BxTx2=None, fused=False):
  """Teacher-forced ln P of every sample, frame by frame.

  With the inputs known, only the recurrence (R h and the gates) is
  sequential: per frame, the input terms of its P steps (with c_t into the
  fine halves) are computed at once, the P steps of `gru` are scanned, and
  the heads run on the P new states at once. Same functions as `cell`.
  `sig_BxTx2`: the LPC inputs of every sample (`lpc_inputs`), or None.
  With `fused`, the input terms of a chunk of frames are computed at once,
  its whole recurrence is one call of `cpu_kernels.gru_sequence` (and its
  gradient one more), and the heads run on all of the chunk's states.
  """
  if fused:
    return _teacher_forced_fused(w, audio_BxT, xin_BxFxG, prev_B,
                                 return_logits, sig_BxTx2)
  b, t = audio_BxT.shape
  f = xin_BxFxG.shape[1]
  p = t // f
  hidden = w['R'].shape[0]
  full_BxT1 = jnp.concatenate([prev_B[:, None], audio_BxT], axis=1)
  c_BxT1, f_BxT1 = quantization.split(full_BxT1)
  to_steps = lambda x: x.T.reshape(f, p, b)  # [B, T] -> [F, P, B].
  steps = (to_steps(c_BxT1[:, :-1]), to_steps(f_BxT1[:, :-1]),
           to_steps(c_BxT1[:, 1:]), to_steps(f_BxT1[:, 1:]))
  if sig_BxTx2 is not None:  # [B, T, 2] -> [F, P, B, 2].
    steps += (jnp.moveaxis(sig_BxTx2, 0, 1).reshape(f, p, b, 2),)

  def recurrence(h_BxH, x_Bx3x2xH2):
    h_Bx2xH2 = gru(h_BxH.reshape(b, 2, -1), recur(w, h_BxH), x_Bx3x2xH2)
    h_BxH = h_Bx2xH2.reshape(b, hidden)
    return h_BxH, h_BxH

  def frame_step(h_BxH, inputs):
    xin_BxU, (pc, pf, c, fi, *sig) = inputs
    x_PxBx3x2xH2 = input_term(w, frame_inputs(w, xin_BxU, p), pc, pf, *sig)
    x_PxBx3x2xH2 = x_PxBx3x2xH2.at[..., 1, :].add(c_term(w, c))
    h_BxH, h_PxBxH = jax.lax.scan(recurrence, h_BxH, x_PxBx3x2xH2)
    return h_BxH, scores(w, head, h_PxBxH, c, fi, return_logits)

  h0 = jnp.zeros((b, hidden), jnp.float32)
  _, (lp_c, lp_f, logits) = jax.lax.scan(
      frame_step, h0, (jnp.swapaxes(xin_BxFxG, 0, 1), steps))
  from_steps = lambda x: x.reshape(t, b).T  # [F, P, B] -> [B, T].
  out = (from_steps(lp_c), from_steps(lp_f))
  if return_logits:
    out += (jnp.moveaxis(logits.reshape(t, b, 2, 256), 0, 1),)
  return out


def fused_matmul(x, w_IxO):
  """x @ W, a block-sparse W (`sparse_sampling.BlockSparse`, float32)
  through `cpu_kernels.block_sparse_matmul`; any other W as `matmul`."""
  if not hasattr(w_IxO, 'idx') or w_IxO.values.dtype != jnp.float32:
    return matmul(x, w_IxO)
  lead = x.shape[:-1]
  y = cpu_kernels.block_sparse_matmul(x.reshape(-1, x.shape[-1]),
                                      *cpu_kernels.kept_blocks(w_IxO))
  return y.reshape(lead + (w_IxO.shape[1],))


def fused_head(w: Weights, y, first: str, second: str):
  """`head` with block-sparse products through the CPU kernel."""
  hid = jax.nn.relu(fused_matmul(y, w[first]) + w['b_' + first])
  return fused_matmul(hid, w[second]) + w['b_' + second]


def _teacher_forced_fused(w: Weights, audio_BxT, xin_BxFxG, prev_B,
                          return_logits=False, sig_BxTx2=None):
  """`teacher_forced` with the recurrence in `cpu_kernels.gru_sequence`."""
  b, t = audio_BxT.shape
  f = xin_BxFxG.shape[1]
  p = t // f
  hidden = w['R'].shape[0]
  chunk = max(d for d in range(1, min(f, FUSED_CHUNK_FRAMES) + 1)
              if f % d == 0)
  full_BxT1 = jnp.concatenate([prev_B[:, None], audio_BxT], axis=1)
  c_BxT1, f_BxT1 = quantization.split(full_BxT1)
  # [B, T] -> [F / chunk, chunk, P, B].
  to_steps = lambda x: x.T.reshape(f // chunk, chunk, p, b)
  steps = (to_steps(c_BxT1[:, :-1]), to_steps(f_BxT1[:, :-1]),
           to_steps(c_BxT1[:, 1:]), to_steps(f_BxT1[:, 1:]))
  if sig_BxTx2 is not None:
    steps += (jnp.moveaxis(sig_BxTx2, 0, 1).reshape(f // chunk, chunk, p, b,
                                                    2),)
  vals, idx = cpu_kernels.kept_blocks(w['R'])
  g = w['b_I'].shape[-1]
  # Scalar byte inputs and frame-rate terms (upsample='repeat'): the kernel
  # makes each step's input terms itself, x_t = xin[f] + a_t @ w_a.
  affine = 'E_prev' not in w and xin_BxFxG.shape[-1] == g
  if affine:
    c_row = jnp.zeros((3, 2, hidden // 2), jnp.float32).at[:, 1].set(
        w['I_c'][0].reshape(3, -1)).reshape(g)
    w_KxG = jnp.concatenate([w['I_prev'], c_row[None]] + (
        [w['I_lpc']] if sig_BxTx2 is not None else []), 0)

  def frame_terms(xin_BxU, inputs):
    pc, pf, c, _, *sig = inputs
    x_PxBx3x2xH2 = input_term(w, frame_inputs(w, xin_BxU, p), pc, pf, *sig)
    return x_PxBx3x2xH2.at[..., 1, :].add(c_term(w, c))

  def kernel_inputs(xin_CxBxU, frames):
    """(xin, a, w_a) of `gru_sequence` for a chunk of frames."""
    if affine:
      pc, pf, c, _, *sig = (x.reshape((chunk * p, b) + x.shape[3:])
                            for x in frames)
      a = [quantization.scale(pc), quantization.scale(pf),
           quantization.scale(c)]
      a_NxBxK = jnp.stack(a, -1)
      if sig:
        a_NxBxK = jnp.concatenate([a_NxBxK, sig[0]], -1)
      return xin_CxBxU, a_NxBxK, w_KxG
    x = jax.vmap(frame_terms)(xin_CxBxU, frames)  # [C, P, B, 3, 2, H2].
    return (x.reshape(chunk * p, b, g), jnp.zeros((chunk * p, b, 0)),
            jnp.zeros((0, g)))

  def chunk_step(h_BxH, inputs):
    xin_CxBxU, frames = inputs
    h_NxBxH = cpu_kernels.gru_sequence(*kernel_inputs(xin_CxBxU, frames),
                                       h_BxH, vals, idx)
    c, fi = frames[2].reshape(-1, b), frames[3].reshape(-1, b)
    return h_NxBxH[-1], scores(w, fused_head, h_NxBxH, c, fi, return_logits)

  xin = jnp.swapaxes(xin_BxFxG, 0, 1)
  xin = xin.reshape((f // chunk, chunk) + xin.shape[1:])
  h0 = jnp.zeros((b, hidden), jnp.float32)
  _, (lp_c, lp_f, logits) = jax.lax.scan(chunk_step, h0, (xin, steps))
  from_steps = lambda x: x.reshape(t, b).T  # [F / chunk, N, B] -> [B, T].
  out = (from_steps(lp_c), from_steps(lp_f))
  if return_logits:
    out += (jnp.moveaxis(logits.reshape(t, b, 2, 256), 0, 1),)
  return out


def param_count(params) -> int:
  return sum(math.prod(x.shape) for x in jax.tree_util.tree_leaves(params))
