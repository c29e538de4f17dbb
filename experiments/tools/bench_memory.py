r"""Memory and compile time on long inputs: generation and training.

  python experiments/tools/bench_memory.py [--preset=demo] \
      [--generate_seconds=5,20,60] [--train_crops=400,1600,6400,25600]

Each setting runs in a fresh child process (peak RSS is per process) and
prints one JSON line:

* generate: `Vocoder.generate` on one utterance of N seconds (synthetic
  speech-like audio -> mel -> samples; random weights, as speed and memory
  do not depend on their values): wall time, samples/s, and the peak RSS of
  the process before and after generating.
* train: the jitted training step at the preset's batch size on windows of
  `crop` scored samples: trace+compile time, one step's time, XLA's
  temporary buffer size (`memory_analysis`) and the process's peak RSS.
"""

import json
import os
import resource
import subprocess
import sys
import time

from absl import app
from absl import flags

_PRESET = flags.DEFINE_string('preset', 'demo',
                              'experiments/configs/wavernn.py preset.')
_GENERATE = flags.DEFINE_list('generate_seconds', ['5', '20', '60'],
                              'Utterance lengths to generate, s.')
_CROPS = flags.DEFINE_list('train_crops', ['400', '1600', '6400', '25600'],
                           'data.crop_samples values to compile the step for.')
_CHILD = flags.DEFINE_string('child', None, 'internal: generate:S | train:C.')


def _peak_rss_mb() -> float:
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _generate(config, seconds: float) -> dict:
  import numpy as np  # pylint: disable=g-import-not-at-top
  from tests import fake_corpus  # pylint: disable=g-import-not-at-top
  from wavernn_jax import vocoder  # pylint: disable=g-import-not-at-top
  voc = vocoder.Vocoder.from_config(config)
  wave = fake_corpus.speech_like(np.random.default_rng(0), seconds,
                                 voc.sample_rate)
  mel = voc.mel(wave[:len(wave) // voc.hop_length * voc.hop_length])
  voc.generate(mel[:, :vocoder.GENERATE_CHUNK_FRAMES])  # Compile first.
  before = _peak_rss_mb()
  t0 = time.time()
  audio, _ = voc.generate(mel)
  wall = time.time() - t0
  return dict(what='generate', seconds_of_audio=seconds,
              samples=int(audio.shape[1]), wall_s=round(wall, 2),
              samples_per_s=round(audio.shape[1] / wall),
              peak_rss_mb_before=round(before), peak_rss_mb=round(
                  _peak_rss_mb()))


def _train(config, crop: int) -> dict:
  from experiments.tools import synthetic_step  # pylint: disable=g-import-not-at-top
  config.data.crop_samples = crop
  step, state, window = synthetic_step.make(config)
  before = _peak_rss_mb()
  t0 = time.time()
  compiled = step.lower(state, window).compile()
  compile_s = time.time() - t0
  temp = compiled.memory_analysis().temp_size_in_bytes
  t0 = time.time()
  state, metrics = compiled(state, window)
  float(metrics['loss'])
  return dict(what='train', crop_samples=crop,
              window_samples=int(window.shape[1]),
              batch=config.data.batch_size, compile_s=round(compile_s, 2),
              step_s=round(time.time() - t0, 3),
              xla_temp_mb=round(temp / 2**20),
              peak_rss_mb_before=round(before),
              peak_rss_mb=round(_peak_rss_mb()))


def main(argv):
  del argv
  if _CHILD.value:
    from experiments.configs import wavernn  # pylint: disable=g-import-not-at-top
    config = wavernn.get_config(f'preset={_PRESET.value}')
    what, value = _CHILD.value.split(':')
    row = (_generate(config, float(value)) if what == 'generate' else
           _train(config, int(value)))
    print(json.dumps(dict(row, preset=_PRESET.value,
                          hidden=config.model.hidden)), flush=True)
    return
  root = os.path.dirname(os.path.dirname(os.path.dirname(
      os.path.abspath(__file__))))  # The repo root.
  children = [f'generate:{s}' for s in _GENERATE.value if s] + [
      f'train:{c}' for c in _CROPS.value if c]
  for child in children:
    subprocess.run([sys.executable, os.path.abspath(__file__),
                    f'--preset={_PRESET.value}', f'--child={child}'],
                   cwd=root, env=dict(os.environ, PYTHONPATH=root),
                   check=True)


if __name__ == '__main__':
  app.run(main)
