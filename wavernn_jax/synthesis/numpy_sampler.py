"""A plain NumPy transcription of the sampler step (PAPER.md §1).

The baseline the benchmark compares the jitted sampler against, and an
oracle for tests: given the same uniforms it draws the same samples.
Shapes as in `sampling.py`.
"""

import numpy as np


def _sigmoid(z):
  return 1.0 / (1.0 + np.exp(-z))


def _draw(logits_Bx256, u_B, temperature):
  z = logits_Bx256 / temperature
  p = np.exp(z - z.max(-1, keepdims=True))
  cdf = np.cumsum(p, -1)
  return np.minimum((cdf <= u_B[:, None] * cdf[:, -1:]).sum(-1), 255)


class NumpySampler:
  """Step-by-step WaveRNN sampling with float32 NumPy mat-vecs."""

  def __init__(self, w):
    if 'I_lpc' in w:
      raise ValueError('the NumPy reference sampler has no LPC in its loop; '
                       'time or check a model with model.lpc_order=0.')
    w = {k: np.asarray(v, np.float32) for k, v in w.items()}
    self.w = w
    self.h2 = w['R'].shape[0] // 2
    # I* split by input: [c_{t-1}, f_{t-1}] to all gates; c_t to fine halves.
    # Scalar inputs scale its columns; embedded inputs pick table rows.
    self.embedded = 'E_prev' in w
    if not self.embedded:
      self.i_prev = w['I_prev']
      self.i_c = w['I_c'][0].reshape(3, self.h2)

  def _prev_term(self, pc, pf):
    if self.embedded:
      return self.w['E_prev'][0][pc] + self.w['E_prev'][1][pf]
    prev = np.stack([pc / 127.5 - 1, pf / 127.5 - 1], -1).astype(np.float32)
    return prev @ self.i_prev

  def _c_term(self, c):
    if self.embedded:
      return self.w['E_c'][c].reshape(len(c), 3, self.h2)
    return (c / 127.5 - 1)[:, None, None] * self.i_c

  def _half(self, h, rh, x):
    u = _sigmoid(rh[:, 0] + x[:, 0])
    r = _sigmoid(rh[:, 1] + x[:, 1])
    e = np.tanh(r * rh[:, 2] + x[:, 2])
    return u * h + (1 - u) * e

  def _head(self, y, a, b):
    w = self.w
    return np.maximum(y @ w[a] + w['b_' + a], 0) @ w[b] + w['b_' + b]

  def run(self, xin_BxFxG, uniforms_FxPxBx2, temperature=1.0):
    """Samples audio; returns int16 [B, F * P]."""
    b, f, _ = xin_BxFxG.shape
    p = uniforms_FxPxBx2.shape[1]
    h2 = self.h2
    h = np.zeros((b, 2 * h2), np.float32)
    pc, pf = np.full(b, 128), np.zeros(b, np.int64)
    out = np.zeros((b, f * p), np.int16)
    for k in range(f):
      for j in range(p):
        u = uniforms_FxPxBx2[k, j]
        rh = (h @ self.w['R']).reshape(b, 3, 2, h2)
        x = (xin_BxFxG[:, k] + self._prev_term(pc, pf)).reshape(b, 3, 2, h2)
        yc = self._half(h[:, :h2], rh[:, :, 0], x[:, :, 0])
        c = _draw(self._head(yc, 'O1', 'O2'), u[:, 0], temperature)
        xf = x[:, :, 1] + self._c_term(c)
        yf = self._half(h[:, h2:], rh[:, :, 1], xf)
        fi = _draw(self._head(yf, 'O3', 'O4'), u[:, 1], temperature)
        h = np.concatenate([yc, yf], -1).astype(np.float32)
        pc, pf = c, fi
        out[:, k * p + j] = (c * 256 + fi - 32768).astype(np.int16)
    return out
