r"""How much a training window's cold recurrent state costs, per model.

Training scores crops of `data.crop_samples` whose recurrence starts from
h = 0 at the first scored sample (the margins around a crop feed only the
mel conditioning, the previous sample and, for Subscale, the context net).
The whole-utterance score (`Vocoder.log_prob`, the test NLL) starts from
silence once. This scores the same test samples both ways: it cuts the
first utterances of the test split into back-to-back training windows,
scores each with `window_nll`'s path (`net.apply(..., context_frames=ctx)`)
and each whole utterance with `Vocoder.log_prob`, and prints one JSON line
per model: the NLL (bits per sample) of each quarter of the scored span,
windowed and whole, and the mean excess of the windows. For Subscale a
quarter of a 1,600-sample crop is 25 steps of its recurrence; for the dense
cell a quarter of a 400-sample crop is 100.

  python experiments/studies/window_cold_start.py \
      --workdir=pretrained/subscale384_v4 --workdir=pretrained/dense384_lpc_pitch_v2

--crop_samples overrides the model's own crop (e.g. to score Subscale with
the dense crop's length or the dense model with Subscale's).
"""

import json
import sys

from absl import app
from absl import flags
import jax
import numpy as np

from wavernn_jax import vocoder as vocoder_lib
from wavernn_jax.features import mel as mel_lib
from wavernn_jax.features import quantization
from wavernn_jax.training import input_pipeline
from wavernn_jax.utils import errors

_WORKDIRS = flags.DEFINE_multi_string('workdir', [], 'trained models.')
_UTTERANCES = flags.DEFINE_integer('utterances', 8, 'first test utterances.')
_CROP = flags.DEFINE_integer('crop_samples', 0,
                             'scored samples per window (0: the model\'s).')
_QUARTERS = 4


def score(workdir: str, utterances: int, crop: int) -> dict:
  voc = vocoder_lib.Vocoder.restore(workdir)
  config, net = voc.config, voc.net
  crop = crop or int(config.data.crop_samples)
  hop = voc.hop_length
  factor = voc.variant.samples_per_step
  if crop % hop or crop % factor or crop % _QUARTERS:
    raise errors.UserError(
        f'--crop_samples={crop} must be a multiple of hop_length={hop}, of '
        f'the Subscale factor ({factor}) and of {_QUARTERS}; e.g. 1600.')
  ctx = input_pipeline.context_frames(config)
  margin = ctx * hop

  @jax.jit
  def windows_lp(params, w_BxW):
    mel = mel_lib.log_mel(quantization.to_float(w_BxW), voc.mel_config)
    if net.cfg.emphasis:
      w_BxW = quantization.emphasise(w_BxW, net.cfg.emphasis)
    lp_c, lp_f = net.apply(params, w_BxW, mel, context_frames=ctx)
    return lp_c + lp_f

  src = input_pipeline.load_split(config, 'test')
  win_q, whole_q = np.zeros(_QUARTERS), np.zeros(_QUARTERS)
  count = 0
  for u in range(min(utterances, len(src))):
    audio = np.asarray(src[u]['audio'], np.int16)
    audio = audio[:len(audio) // hop * hop]
    whole = voc.log_prob(audio[None], voc.mel(audio))[0]  # [T]
    starts = list(range(margin, len(audio) - crop - margin + 1, crop))
    if not starts:
      continue
    w_BxW = np.stack([audio[a - margin:a + crop + margin] for a in starts])
    lp_BxC = np.asarray(windows_lp(voc.params, w_BxW))
    whole_BxC = np.stack([whole[a:a + crop] for a in starts])
    q = crop // _QUARTERS
    for k in range(_QUARTERS):
      win_q[k] += -lp_BxC[:, k * q:(k + 1) * q].sum()
      whole_q[k] += -whole_BxC[:, k * q:(k + 1) * q].sum()
    count += len(starts) * q
  if not count:
    raise errors.UserError(f'no test utterance of {workdir} is longer than '
                           f'one window ({crop + 2 * margin} samples).')
  bits = lambda x: [round(float(v) / count / np.log(2), 4) for v in x]
  w, h = bits(win_q), bits(whole_q)
  return {'workdir': workdir, 'variant': config.get('variant'),
          'crop_samples': crop, 'margin_samples': margin,
          'scored_samples': count * _QUARTERS,
          'window_bits_by_quarter': w, 'whole_bits_by_quarter': h,
          'window_excess_bits': round(float(np.mean(w) - np.mean(h)), 4),
          'first_quarter_excess_bits': round(w[0] - h[0], 4)}


def main(argv):
  del argv
  if not _WORKDIRS.value:
    sys.exit('error: no --workdir given; e.g. '
             '--workdir=pretrained/subscale384_v4.')
  try:
    for workdir in _WORKDIRS.value:
      print(json.dumps(score(workdir, _UTTERANCES.value, _CROP.value)),
            flush=True)
  except errors.UserError as e:
    sys.exit(f'error: {e}')


if __name__ == '__main__':
  app.run(main)
