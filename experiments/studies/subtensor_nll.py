r"""Teacher-forced NLL per sub-tensor (issue 27): where a Subscale model's bits go.

For each --workdir, the held-out clip cut to a multiple of 3,200 samples is
scored (`Vocoder.log_prob` with its own mel) and the bits of sample t are
averaged by s = t mod 16: for a Subscale model with B = 16 that is sub-tensor
s; for a dense model, the same phases of time, which should be flat. Prints
one JSON line per model.

  python experiments/studies/subtensor_nll.py --workdir=pretrained/subscale384_lpc2 \
      --workdir=pretrained/subscale384_v4
"""

import json

from absl import app
from absl import flags
import numpy as np

from wavernn_jax import vocoder as vocoder_lib
from wavernn_jax.utils import audio_io

_WORKDIRS = flags.DEFINE_multi_string('workdir', None, 'Models to score.',
                                      required=True)
_CLIP = flags.DEFINE_string('clip', 'tests/fixtures/heldout_clip.wav',
                            'The held-out clip.')
_FACTOR = flags.DEFINE_integer('factor', 16, 'Sub-tensors (phases of time).')


def per_phase_bits(voc, clip, factor: int) -> np.ndarray:
  """Mean bits of the samples t with t mod factor = s, [factor]."""
  unit = voc.hop_length * factor  # A multiple of the hop and of the factor.
  clip = clip[:len(clip) // unit * unit][None]
  lp = np.asarray(voc.log_prob(clip, voc.mel(clip)))[0]
  return -lp.reshape(-1, factor).mean(0) / np.log(2)


def main(argv):
  del argv
  for workdir in _WORKDIRS.value:
    voc = vocoder_lib.Vocoder.restore(workdir)
    clip = audio_io.read_audio(_CLIP.value, voc.sample_rate)
    bits = per_phase_bits(voc, clip, _FACTOR.value)
    print(json.dumps({'workdir': workdir, 'mean_bits': round(float(bits.mean()), 3),
                      'bits_by_sub_tensor': [round(float(b), 2) for b in bits]}))


if __name__ == '__main__':
  app.run(main)
