r"""Exports a trained workdir as a shipped model under pretrained/<name>/.

  python experiments/export_pretrained.py --workdir=workdirs/demo \
      --name=dense_demo --clip=tests/fixtures/heldout_clip.wav

Writes the parameters (no optimizer state) and `card.json` with the model's
teacher-forced NLL on the held-out clip (the number the test checks), its
size and step. The prose model card (MODEL_CARD.md) is written by hand.
"""

import json
import os

from absl import app
from absl import flags
import jax
import numpy as np

from wavernn_jax import audio_io
from wavernn_jax import evaluate
from wavernn_jax import model as model_lib
from wavernn_jax import vocoder as vocoder_lib

_WORKDIR = flags.DEFINE_string('workdir', None, 'Training workdir.',
                               required=True)
_NAME = flags.DEFINE_string('name', None, 'Name under pretrained/.',
                            required=True)
_CLIP = flags.DEFINE_string('clip', 'tests/fixtures/heldout_clip.wav',
                            'Held-out clip whose NLL goes in the card.')


def main(argv):
  del argv
  voc = vocoder_lib.Vocoder.restore(_WORKDIR.value)
  voc.params = jax.device_get(voc.params)
  out = os.path.join('pretrained', _NAME.value)
  voc.export(out)
  clip = audio_io.read_audio(_CLIP.value, voc.sample_rate)
  nll = evaluate.nll_bits_per_sample(voc, [clip])
  card = dict(name=_NAME.value, step=voc.step, variant=voc.config.variant,
              hidden=voc.model_config.hidden,
              params=model_lib.param_count(voc.params),
              nonzero_params=int(sum(np.count_nonzero(x) for x in
                                     jax.tree_util.tree_leaves(voc.params))),
              clip=_CLIP.value, clip_samples=int(len(clip)),
              clip_nll_bits_per_sample=nll['nll_bits_per_sample'])
  with open(os.path.join(out, 'card.json'), 'w') as f:
    json.dump(card, f, indent=1)
  print(json.dumps(card))


if __name__ == '__main__':
  app.run(main)
