r"""What a `launch.py --mode=vocode --input=F.wav` process spends before its
first sample, phase by phase (issue 38).

  python experiments/tools/bench_startup.py --workdir=pretrained/sparse896_lpc_pitch \
      --input=F.wav [--compile_cache=DIR]

Runs the vocode command's own steps in this fresh process, timed from its
start: the imports launch.py makes, the compile cache, `Vocoder.restore`,
reading the file and its mel, then `Vocoder.generate` as the command calls
it: to its first chunk of audio (the first conditioning window and the
first sampler chunk, compiling or loading them included), then the rest of
the file. seconds_to_first_audio bounds the time before the first sample
from above. Prints one JSON line. Run it twice with the same
--compile_cache to see the warm-cache start.
"""

import time

_T0 = time.perf_counter()

# pylint: disable=g-import-not-at-top,wrong-import-position
import json
import os
import sys

from absl import app
from absl import flags

_WORKDIR = flags.DEFINE_string('workdir', 'pretrained/sparse896_lpc_pitch',
                               'a trained model.')
_INPUT = flags.DEFINE_string('input', None, 'a wav file.', required=True)
_KERNEL = flags.DEFINE_enum('kernel', None, ['auto', 'xla', 'fused'],
                            "model.kernel (default: the run's config).")
_CACHE = flags.DEFINE_string('compile_cache', None,
                             'persistent compile cache folder (default: '
                             "launch.py's).")


def main(argv):
  del argv
  phases = {}
  mark = [_T0]

  def lap(name):
    now = time.perf_counter()
    phases[name] = round(now - mark[0], 3)
    mark[0] = now

  import jax  # pylint: disable=unused-import
  from wavernn_jax import vocoder
  from wavernn_jax.evaluation import evaluate  # pylint: disable=unused-import
  from wavernn_jax.kernels import cpu_kernels
  from wavernn_jax.synthesis import sampling
  from wavernn_jax.synthesis import sparse_sampling
  from wavernn_jax.training import train  # pylint: disable=unused-import
  from wavernn_jax.utils import audio_io
  from wavernn_jax.utils import compile_cache
  from wavernn_jax.utils import timing
  lap('imports_s')
  cpu_kernels.tune_malloc()
  compile_cache.enable(_CACHE.value)
  lap('compile_cache_s')
  voc = vocoder.Vocoder.restore(_WORKDIR.value, kernel=_KERNEL.value)
  lap('restore_s')
  audio = audio_io.read_audio(_INPUT.value, voc.sample_rate)
  t = len(audio) // voc.hop_length * voc.hop_length
  mel = voc.mel(audio[:t])
  frames = mel.shape[1]
  lap('read_and_mel_s')
  first = []  # When the first chunk of audio is back (generate's progress).
  with timing.CompileTimer() as compiled:
    voc.generate(mel, seed=0, progress=lambda done, total: first.append(
        time.perf_counter()) if not first else None)
  phases['to_first_audio_s'] = round(first[0] - mark[0], 3)
  mark[0] = first[0]
  lap('rest_s')
  fused = sampling.pick_fused(
      sparse_sampling.sampler_weights(
          voc.weights(), voc.pruned_specs(),
          voc.sparse_kernel, voc.sparse_dtype), voc.model_config.kernel)
  print(json.dumps(dict(
      what='vocode_startup', workdir=_WORKDIR.value, input=_INPUT.value,
      sample_kernel='fused' if fused else 'xla',
      samples=int(t), audio_seconds=t / voc.sample_rate, **phases,
      generate_compile_s=round(compiled.seconds, 3),
      seconds_to_first_audio=round(first[0] - _T0, 3),
      process_s=round(time.perf_counter() - _T0, 3),
      cache=compile_cache.stats(), **timing.machine())))
  sys.stdout.flush()
  os._exit(0)  # pylint: disable=protected-access


if __name__ == '__main__':
  app.run(main)
