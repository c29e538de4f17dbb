r"""What linear prediction alone allows each Subscale sub-tensor (issue 27).

For the held-out clip (pre-emphasised as the model sees it) each sample is
predicted from the samples the Subscale ordering has drawn, with the
model's own predictors from the clip's mel (`subscale.predictors`), and
the residual's log2 RMS is reported per sub-tensor: a Gaussian proxy of
the bits that linear prediction leaves (its differences between predictor
sets, not its level, compare with NLL). Sets: none; one-sided (the
`min(s, K)` samples of the column drawn before); two-sided (and as many of
the next column's); and the dense model's order-16 LPC over all of time.
Prints one JSON line per set.

  python experiments/studies/subscale_lpc_proxy.py --workdir=pretrained/subscale384_lpc2
"""

import dataclasses
import json

from absl import app
from absl import flags
import jax.numpy as jnp
import numpy as np

from wavernn_jax import vocoder as vocoder_lib
from wavernn_jax.features import lpc
from wavernn_jax.features import quantization
from wavernn_jax.models import subscale
from wavernn_jax.utils import audio_io

_WORKDIR = flags.DEFINE_string('workdir', 'pretrained/subscale384_lpc2',
                               'A Subscale model (its mel and emphasis).')
_CLIP = flags.DEFINE_string('clip', 'tests/fixtures/heldout_clip.wav',
                            'The held-out clip.')
_ORDER = flags.DEFINE_integer('order', 15, 'K of the Subscale predictors.')


def residual_bits(x, a_FxSxW, sub, hop: int) -> np.ndarray:
  """log2 RMS of x - p per sub-tensor, [S]; p from `predictor_taps`."""
  lags, _, _ = subscale.predictor_taps(sub)
  factor = sub.batch_factor
  pad = 2 * factor
  xp = np.pad(x, (pad, pad))
  bits = np.zeros(factor)
  for s in range(factor):
    t = np.arange(s, len(x), factor)
    frame = np.minimum(t // hop, a_FxSxW.shape[0] - 1)
    pred = np.zeros(len(t))
    for w in np.flatnonzero(lags[s]):
      pred += a_FxSxW[frame, s, w] * xp[pad + t - lags[s, w]]
    bits[s] = 0.5 * np.log2(np.mean((x[t] - np.round(pred)) ** 2))
  return bits


def main(argv):
  del argv
  voc = vocoder_lib.Vocoder.restore(_WORKDIR.value)
  cfg = voc.model_config
  sub = voc.net.sub
  hop = voc.hop_length
  unit = hop * sub.batch_factor
  clip = audio_io.read_audio(_CLIP.value, voc.sample_rate)
  clip = clip[:len(clip) // unit * unit][None]
  mel = jnp.asarray(voc.mel(clip))
  x = np.asarray(quantization.emphasise(clip, cfg.emphasis))[0].astype(
      np.float64)
  for name, order, two_sided in (('none', 0, False),
                                 ('one-sided', _ORDER.value, False),
                                 ('two-sided', _ORDER.value, True)):
    s_cfg = dataclasses.replace(sub, lpc_order=order, lpc_two_sided=two_sided)
    if order:
      a = np.asarray(subscale.predictors(s_cfg, mel, cfg.mel,
                                         cfg.emphasis))[0]
    else:
      a = np.zeros((mel.shape[1], sub.batch_factor, 0))
    bits = residual_bits(x, a, s_cfg, hop)
    print(json.dumps({'predictor': name, 'order': order,
                      'mean_bits': round(float(bits.mean()), 3),
                      'bits_by_sub_tensor': [round(float(b), 2)
                                             for b in bits]}))
  a = np.asarray(lpc.from_mel(mel, cfg.mel, 16, cfg.emphasis))[0]
  frame = np.minimum(np.arange(len(x)) // hop, a.shape[0] - 1)
  xp = np.pad(x, (16, 0))
  pred = sum(a[frame, k - 1] * xp[16 + np.arange(len(x)) - k]
             for k in range(1, 17))
  bits = 0.5 * np.log2(np.mean((x - np.round(pred)) ** 2))
  print(json.dumps({'predictor': 'dense order 16', 'order': 16,
                    'mean_bits': round(float(bits), 3)}))


if __name__ == '__main__':
  app.run(main)
