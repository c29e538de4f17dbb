"""WaveRNN with dual softmax and mel conditioning (PAPER.md §1).

Notation: B batch, T samples, F mel frames (T = F * P), P hop (samples per
frame), M mel bins, H hidden size, H2 = H / 2, G = 3H gate pre-activations.
Gates are laid out [u | r | e]; each gate is split into a coarse half and a
fine half of H2 units, so a G-vector reshapes to [3, 2, H2].

All weight matrices are stored as [outputs, inputs] (rows are outputs), as in
the paper: R is ONE matrix [3H, H] = [R_u; R_r; R_e].

The cell is written once, as pure functions of the weights (`recur`, `coarse`,
`fine`), and used both by the teacher-forced scan (training, `log_prob`) and
by the step-by-step sampler (`sampling.py`).
"""

import dataclasses
import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from wavernn_jax import quantization

Weights = dict[str, Any]

# Init for [out, in] matrices: variance 1 / fan_in.
_matrix_init = nn.initializers.variance_scaling(
    1.0, 'fan_in', 'truncated_normal', in_axis=1, out_axis=0)


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

  def __post_init__(self):
    if self.hidden <= 0 or self.hidden % 2:
      raise ValueError(f'hidden={self.hidden} must be a positive even number '
                       '(split into coarse and fine halves); e.g. hidden=896.')
    if self.cond_kernel % 2 == 0 or self.cond_kernel <= 0:
      raise ValueError(f'cond_kernel={self.cond_kernel} must be odd.')

  @property
  def cond_radius(self) -> int:
    """Frames of context on each side that one output frame depends on."""
    return self.cond_layers * (self.cond_kernel // 2)

  @classmethod
  def from_config(cls, config) -> 'ModelConfig':
    m = config.model
    return cls(hidden=m.hidden, n_mels=config.mel.n_mels,
               hop_length=config.mel.hop_length, conditional=m.conditional,
               cond_channels=m.cond_channels, cond_layers=m.cond_layers,
               cond_kernel=m.cond_kernel)


# ---------------------------------------------------------------- the cell --


def recur(w: Weights, h_BxH):
  """R h: the one recurrent mat-vec per step, reshaped [B, 3, 2, H2]."""
  rh_BxG = h_BxH @ w['R'].T
  return rh_BxG.reshape(h_BxH.shape[0], 3, 2, -1)


def input_term(w: Weights, xin_BxG, prev_c_B, prev_f_B):
  """I* [c_{t-1}, f_{t-1}] + conditioning + bias, reshaped [B, 3, 2, H2]."""
  prev_Bx2 = jnp.stack([quantization.scale(prev_c_B),
                        quantization.scale(prev_f_B)], axis=-1)
  x_BxG = xin_BxG + prev_Bx2 @ w['I_prev'].T
  return x_BxG.reshape(x_BxG.shape[0], 3, 2, -1)


def _gru(h_BxH2, rh_Bx3xH2, x_Bx3xH2):
  """One half of the GRU update; r multiplies (R_e h), as in the paper."""
  u = jax.nn.sigmoid(rh_Bx3xH2[:, 0] + x_Bx3xH2[:, 0])
  r = jax.nn.sigmoid(rh_Bx3xH2[:, 1] + x_Bx3xH2[:, 1])
  e = jnp.tanh(r * rh_Bx3xH2[:, 2] + x_Bx3xH2[:, 2])
  return u * h_BxH2 + (1.0 - u) * e


def _head(w: Weights, y_BxH2, first: str, second: str):
  hid = jax.nn.relu(y_BxH2 @ w[first].T + w['b_' + first])
  return hid @ w[second].T + w['b_' + second]


def coarse(w: Weights, h_BxH, rh_Bx3x2xH2, x_Bx3x2xH2):
  """Coarse half of the new state and the coarse logits (no c_t input)."""
  h2 = h_BxH.shape[-1] // 2
  yc_BxH2 = _gru(h_BxH[:, :h2], rh_Bx3x2xH2[:, :, 0], x_Bx3x2xH2[:, :, 0])
  return yc_BxH2, _head(w, yc_BxH2, 'O1', 'O2')


def fine(w: Weights, h_BxH, rh_Bx3x2xH2, x_Bx3x2xH2, c_B):
  """Fine half of the new state and the fine logits, given c_t."""
  h2 = h_BxH.shape[-1] // 2
  c_term_Bx3xH2 = (quantization.scale(c_B)[:, None] *
                   w['I_c'][:, 0]).reshape(-1, 3, h2)
  yf_BxH2 = _gru(h_BxH[:, h2:], rh_Bx3x2xH2[:, :, 1],
                 x_Bx3x2xH2[:, :, 1] + c_term_Bx3xH2)
  return yf_BxH2, _head(w, yf_BxH2, 'O3', 'O4')


def cell(w: Weights, h_BxH, xin_BxG, prev_c_B, prev_f_B, c_B):
  """Teacher-forced step: new state [B, H] and logits [B, 2, 256]."""
  rh = recur(w, h_BxH)
  x = input_term(w, xin_BxG, prev_c_B, prev_f_B)
  yc, logits_c = coarse(w, h_BxH, rh, x)
  yf, logits_f = fine(w, h_BxH, rh, x, c_B)
  return jnp.concatenate([yc, yf], -1), jnp.stack([logits_c, logits_f], 1)


# ------------------------------------------------------------- the modules --


class Conditioner(nn.Module):
  """Mel frames -> gate pre-activations at frame rate (conv stack + linear).

  The frame-rate output is repeated P times (nearest-neighbour upsampling)
  by the scans, which never materialise a [B, T, G] tensor.
  """
  cfg: ModelConfig

  @nn.compact
  def __call__(self, mel_BxFxM):
    # Log-mel magnitudes lie in about [-11.5, 3]; centre them near 0.
    x = (mel_BxFxM + 4.0) / 4.0
    for i in range(self.cfg.cond_layers):
      x = nn.relu(nn.Conv(self.cfg.cond_channels, (self.cfg.cond_kernel,),
                          padding='SAME', name=f'conv{i}')(x))
    return nn.Dense(3 * self.cfg.hidden, name='I_cond')(x)


class WaveRNN(nn.Module):
  """The dense WaveRNN: weights, conditioning and the teacher-forced scan."""
  cfg: ModelConfig

  def setup(self):
    h, h2 = self.cfg.hidden, self.cfg.hidden // 2
    self.R = self.param('R', nn.initializers.orthogonal(), (3 * h, h))
    self.I_prev = self.param('I_prev', _matrix_init, (3 * h, 2))
    # Masked part of I*: c_t reaches only the fine halves of u, r, e.
    self.I_c = self.param('I_c', _matrix_init, (3 * h2, 1))
    self.b_I = self.param('b_I', nn.initializers.zeros, (3 * h,))
    for name, shape in (('O1', (h2, h2)), ('O2', (256, h2)),
                        ('O3', (h2, h2)), ('O4', (256, h2))):
      setattr(self, name, self.param(name, _matrix_init, shape))
      setattr(self, 'b_' + name,
              self.param('b_' + name, nn.initializers.zeros, shape[:1]))
    if self.cfg.conditional:
      self.conditioner = Conditioner(self.cfg)

  def weights(self) -> Weights:
    """The cell's weights as a flat dict of arrays."""
    names = ['R', 'I_prev', 'I_c', 'b_I', 'O1', 'O2', 'O3', 'O4', 'b_O1',
             'b_O2', 'b_O3', 'b_O4']
    return {n: getattr(self, n) for n in names}

  def condition(self, mel_BxFxM, batch: int, frames: int):
    """Frame-rate input terms [B, F, G] (conditioning + bias)."""
    if not self.cfg.conditional:
      return jnp.broadcast_to(self.b_I, (batch, frames, 3 * self.cfg.hidden))
    return self.conditioner(mel_BxFxM) + self.b_I

  def __call__(self, audio_BxT, mel_BxFxM=None, context_frames: int = 0,
               return_logits: bool = False):
    """Teacher-forced ln-probs of every sample.

    Args:
      audio_BxT: int16 audio, T = F * P.
      mel_BxFxM: log-mel frames (None when unconditional).
      context_frames: frames at each end of the window that only give
        context (training crops); their samples are not scored, except the
        last one before the scored span, which is the first previous sample.
      return_logits: also return logits [B, T', 2, 256] (tests).

    Returns:
      ln P(c_t | ...) and ln P(f_t | c_t, ...), each float32 [B, T'] with
      T' = T - 2 * context_frames * P (and the logits if asked).
    """
    p, ctx = self.cfg.hop_length, context_frames
    b, t = audio_BxT.shape
    xin_BxFxG = self.condition(mel_BxFxM, b, t // p)
    if ctx:
      xin_BxFxG = xin_BxFxG[:, ctx:-ctx]
      prev_B = audio_BxT[:, ctx * p - 1]
      audio_BxT = audio_BxT[:, ctx * p:-ctx * p]
    else:
      prev_B = jnp.zeros((b,), jnp.int16)
    return teacher_forced(self.weights(), audio_BxT, xin_BxFxG, prev_B,
                          return_logits)


def teacher_forced(w: Weights, audio_BxT, xin_BxFxG, prev_B,
                   return_logits=False):
  """Scans `cell` over frames (outer) and samples within a frame (inner)."""
  b, t = audio_BxT.shape
  f = xin_BxFxG.shape[1]
  p = t // f
  full_BxT1 = jnp.concatenate([prev_B[:, None], audio_BxT], axis=1)
  c_BxT1, f_BxT1 = quantization.split(full_BxT1)
  # [F, P, B] per-step inputs: previous and current bytes.
  to_steps = lambda x: x.T.reshape(f, p, b)
  steps = (to_steps(c_BxT1[:, :-1]), to_steps(f_BxT1[:, :-1]),
           to_steps(c_BxT1[:, 1:]), to_steps(f_BxT1[:, 1:]))

  def sample_step(h, inputs, xin_BxG):
    pc, pf, c, fi = inputs
    h, logits_Bx2x256 = cell(w, h, xin_BxG, pc, pf, c)
    lp = jax.nn.log_softmax(logits_Bx2x256)
    lp_c = jnp.take_along_axis(lp[:, 0], c[:, None], 1)[:, 0]
    lp_f = jnp.take_along_axis(lp[:, 1], fi[:, None], 1)[:, 0]
    return h, (lp_c, lp_f, logits_Bx2x256 if return_logits else None)

  def frame_step(h, frame_inputs):
    xin_BxG, inputs = frame_inputs
    return jax.lax.scan(lambda h, x: sample_step(h, x, xin_BxG), h, inputs)

  h0 = jnp.zeros((b, w['R'].shape[1]), jnp.float32)
  _, (lp_c, lp_f, logits) = jax.lax.scan(
      frame_step, h0, (jnp.swapaxes(xin_BxFxG, 0, 1), steps))
  from_steps = lambda x: x.reshape(t, b).T  # [F, P, B] -> [B, T]
  out = (from_steps(lp_c), from_steps(lp_f))
  if return_logits:
    logits = jnp.moveaxis(logits.reshape(t, b, 2, 256), 0, 1)
    out += (logits,)
  return out


def param_count(params) -> int:
  return sum(math.prod(x.shape) for x in jax.tree_util.tree_leaves(params))
