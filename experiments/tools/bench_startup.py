r"""What a `launch.py --mode=vocode --input=F.wav` process spends before its
first sample, phase by phase (issue 38).

  python experiments/tools/bench_startup.py --workdir=pretrained/sparse896_lpc_pitch \
      --input=F.wav [--compile_cache=DIR]

Runs the vocode command's own steps in this fresh process, timed from its
start: the imports launch.py makes, the compile cache, `Vocoder.restore`,
reading the file and its mel, the windowed conditioning, then the first
sampler chunk (compiling or loading it included: its end is the first
audio), then the rest of the file. Prints one JSON line. Run it twice with
the same --compile_cache to see the warm-cache start.
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

  import jax
  import jax.numpy as jnp
  from wavernn_jax import audio_io
  from wavernn_jax import compile_cache
  from wavernn_jax import cpu_kernels
  from wavernn_jax import evaluate  # pylint: disable=unused-import
  from wavernn_jax import sampling
  from wavernn_jax import sparse_sampling
  from wavernn_jax import timing
  from wavernn_jax import train  # pylint: disable=unused-import
  from wavernn_jax import vocoder
  lap('imports_s')
  cpu_kernels.tune_malloc()
  compile_cache.enable(_CACHE.value)
  lap('compile_cache_s')
  voc = vocoder.Vocoder.restore(_WORKDIR.value)
  lap('restore_s')
  audio = audio_io.read_audio(_INPUT.value, voc.sample_rate)
  t = len(audio) // voc.hop_length * voc.hop_length
  mel = voc.mel(audio[:t])
  frames = mel.shape[1]
  lap('read_and_mel_s')
  xin = vocoder.window_terms(voc.net, voc.params, mel, 0, frames)
  jax.block_until_ready(xin)
  lap('conditioning_s')
  w = sparse_sampling.sampler_weights(
      vocoder._weights(voc.net, voc.params), voc.pruned_specs(),  # pylint: disable=protected-access
      voc.sparse_kernel, voc.sparse_dtype)
  chunk = vocoder.GENERATE_CHUNK_FRAMES
  key, temp = jax.random.key(0), jnp.float32(1.0)
  carry = sampling.initial_carry(1, voc.model_config.hidden,
                                 voc.model_config.lpc_order)
  with timing.CompileTimer() as compiled:
    a, _, carry = sampling.sample(w, xin[:, :chunk], key, temp,
                                  voc.hop_length, carry, jnp.int32(0),
                                  jnp.int32(min(chunk, frames)))
    jax.block_until_ready(a)
  lap('first_chunk_s')
  before_first = round(time.perf_counter() - _T0 - phases['first_chunk_s'], 3)
  first_audio = round(time.perf_counter() - _T0, 3)
  whole = -(-frames // chunk) * chunk
  if whole > chunk:
    sampling.sample_chunks(w, xin[:, chunk:whole], key, temp, voc.hop_length,
                           chunk, carry, chunk, frames - chunk)
  lap('rest_s')
  print(json.dumps(dict(
      what='vocode_startup', workdir=_WORKDIR.value, input=_INPUT.value,
      samples=int(t), audio_seconds=t / voc.sample_rate, **phases,
      first_chunk_compile_s=round(compiled.seconds, 3),
      seconds_before_sampling=before_first,
      seconds_to_first_audio=first_audio,
      process_s=round(time.perf_counter() - _T0, 3),
      cache=compile_cache.stats(), **timing.machine())))
  sys.stdout.flush()
  os._exit(0)  # pylint: disable=protected-access


if __name__ == '__main__':
  app.run(main)
