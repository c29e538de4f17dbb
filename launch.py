r"""Train, evaluate and vocode with wavernn_jax.

  python launch.py --config=experiments/configs/wavernn.py:preset=demo --workdir=DIR
  python launch.py --mode=evaluate --workdir=DIR [--wav_dir=D]
  python launch.py --mode=vocode --workdir=DIR --input=in.wav --output=out.wav
  python launch.py --mode=vocode --workdir=DIR --split=test --num=3
  python launch.py --config=experiments/configs/sparse_vs_dense.py --sweep \
      [--sweep_index=N] --workdir=DIR
  python launch.py --mode=report --workdir=DIR
"""

import json
import logging as std_logging
import os
import sys

from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags

from wavernn_jax import vocoder
from wavernn_jax.evaluation import evaluate
from wavernn_jax.kernels import cpu_kernels
from wavernn_jax.training import checkpoint
from wavernn_jax.training import config_args
from wavernn_jax.training import distributed
from wavernn_jax.training import sweep
from wavernn_jax.training import train
from wavernn_jax.utils import audio_io
from wavernn_jax.utils import compile_cache
from wavernn_jax.utils import errors

_CONFIG = config_args.DEFINE_config_file(
    'config', None, 'Experiment config file (train mode).', lock_config=True)
_WORKDIR = flags.DEFINE_string(
    'workdir', None, 'The run\'s folder (checkpoints, logs, outputs; train '
    'creates it).', required=True)
_MODE = flags.DEFINE_enum('mode', 'train',
                          ['train', 'evaluate', 'vocode', 'report'],
                          'What to do (report: collect a sweep workdir).')
_SWEEP = flags.DEFINE_bool('sweep', False, 'train: run every point of the '
                           "config file's sweep() into --workdir/<point>/.")
_SWEEP_INDEX = flags.DEFINE_integer('sweep_index', None,
                                    'with --sweep: run only this point.',
                                    lower_bound=0)
_WAV_DIR = flags.DEFINE_string('wav_dir', None,
                               'evaluate: a folder of wavs instead of a split.')
_SPLIT = flags.DEFINE_string('split', 'test', 'evaluate/vocode: the split.')
_DATASET = flags.DEFINE_string(
    'dataset', None, 'evaluate: score this dataset\'s --split instead of '
    'the run\'s own, e.g. asterisk_voices/fr (a voice it never heard).')
_INPUT = flags.DEFINE_string('input', None, 'vocode: the input audio file.')
_MEL = flags.DEFINE_string(
    'mel', None, 'vocode: a mel file instead of --input: .npy, or .npz with '
    'one array (or one named mel), float [frames, n_mels] as the model '
    'card\'s mel definition says (Vocoder.mel_spec).')
_STREAM = flags.DEFINE_bool(
    'stream', False, 'vocode: feed the mel to Vocoder.stream in chunks of '
    '--stream_frames and write the wav as it comes (<output>.partial, '
    'renamed when done); same audio as without.')
_STREAM_FRAMES = flags.DEFINE_integer(
    'stream_frames', 8, 'vocode --stream: mel frames per chunk.')
_OUTPUT = flags.DEFINE_string('output', None,
                              'vocode: the output wav (or folder with --num).')
_NUM = flags.DEFINE_integer('num', 3, 'vocode without --input: utterances of '
                            '--split to vocode.', lower_bound=1)
_QUALITY = flags.DEFINE_integer(
    'quality', 0, 'evaluate: also score copy-synthesis (PESQ-WB, STOI, MCD; '
    'and Griffin-Lim) on this many utterances.', lower_bound=0)
_FOLD = flags.DEFINE_bool('fold', False, 'vocode: folded (batched) sampling.')
_AVERAGE = flags.DEFINE_bool(
    'average', True, 'evaluate/vocode: the Polyak-averaged params where the '
    'run kept them (train.ema_decay > 0); --noaverage: the trained params.')
_SEED = flags.DEFINE_integer(
    'seed', 0, 'vocode: PRNG seed; evaluate --quality: utterance i is '
    'vocoded with seed + i.')
_TEMPERATURE = flags.DEFINE_float(
    'temperature', 1.0, 'vocode: sampling temperature, > 0 (1: the model\'s '
    'distribution; lower: less noise).')
flags.register_validator('temperature', lambda t: t > 0, 'must be > 0')
# Multi-process runs (see wavernn_jax/training/distributed.py); unset: one process,
# or whatever $JAX_COORDINATOR_ADDRESS etc. / a Slurm, MPI or TPU job say.
_KERNEL = flags.DEFINE_enum(
    'kernel', None, ['auto', 'xla', 'fused'],
    'evaluate/vocode: model.kernel for this run (default: the run\'s '
    'config, auto): xla runs the lax.scan sampler and scorer, fused the '
    'fused CPU kernels (wavernn_jax/kernels/cpu_kernels.py).')
_SAMPLE_DTYPE = flags.DEFINE_enum(
    'sample_dtype', 'float32', list(vocoder.SPARSE_DTYPES),
    'evaluate --quality/vocode: storage of the sampler\'s block-sparse '
    'weights. float16 halves the bytes the fused CPU sampler reads per '
    'sample (faster where they then fit in L2; test NLL of the flagship '
    '+0.000005 bit, docs/RESULTS.md); float32 is the trained model exactly.')
_COMPILE_CACHE = flags.DEFINE_string(
    'compile_cache', None, 'folder of JAX\'s persistent compilation cache '
    '(default: $WAVERNN_JAX_COMPILE_CACHE, else ~/.cache/wavernn_jax/xla; '
    '"" turns it off): a second call with the same model does not compile '
    'again.')
_COORDINATOR = flags.DEFINE_string(
    'coordinator_address', None, 'host:port of process 0 (multi-process).')
_NUM_PROCESSES = flags.DEFINE_integer('num_processes', None,
                                      'Processes in the run (multi-process).',
                                      lower_bound=1)
_PROCESS_ID = flags.DEFINE_integer('process_id', None,
                                   'This process, 0..num_processes-1.',
                                   lower_bound=0)

# Errors a user can cause and fix; they get one line and exit status 1.
# Anything else is a bug and keeps its traceback (a plain ValueError too).
USER_ERRORS = (errors.UserError, checkpoint.CheckpointError,
               FileNotFoundError, PermissionError, train.NonFiniteLossError)


def _fail(message: str):
  print(f'error: {message}', file=sys.stderr)
  sys.exit(1)


def _parse_flags(argv: list[str]) -> list[str]:
  """Flags, before main(); a bad one (or a bad --config) is one line."""
  try:
    return config_args.parse_flags(argv)
  except config_args.CommandLineError as e:
    _fail(str(e))


def _vocode_split(workdir: str) -> list[dict]:
  """Copy-synthesis of the first --num utterances of --split."""
  voc = vocoder.Vocoder.restore(workdir, average=_AVERAGE.value,
                                kernel=_KERNEL.value,
                                sparse_dtype=_SAMPLE_DTYPE.value)
  source = evaluate.input_pipeline.load_split(voc.config, _SPLIT.value)
  out_dir = _OUTPUT.value or os.path.join(workdir, 'vocoded')
  os.makedirs(out_dir, exist_ok=True)
  results = []
  for i in range(min(_NUM.value, len(source))):
    ex = source[i]
    name = ex['id'].decode() if isinstance(ex['id'], bytes) else str(ex['id'])
    name = name.replace('/', '_')
    original = os.path.join(out_dir, f'{name}_original.wav')
    audio_io.write_wav(original, ex['audio'], voc.sample_rate)
    results.append(evaluate.vocode_file(
        voc, original, os.path.join(out_dir, f'{name}_vocoded.wav'),
        seed=_SEED.value, temperature=_TEMPERATURE.value, fold=_FOLD.value,
        stream_frames=_stream_frames()))
  return results


def _stream_frames() -> int:
  """Frames per chunk of --stream (0 without it)."""
  if _STREAM.value and _STREAM_FRAMES.value < 1:
    raise errors.UserError(f'--stream_frames={_STREAM_FRAMES.value} must be '
                           '>= 1.')
  return _STREAM_FRAMES.value if _STREAM.value else 0


def _check_paths(workdir: str) -> None:
  """Output paths of the wrong kind: one line before any work is done."""
  if _MODE.value == 'train' and os.path.isfile(workdir):
    raise vocoder.InputError(f'--workdir={workdir} is a file; give a folder '
                             '(it is made if missing).')
  out = _OUTPUT.value
  if _MODE.value != 'vocode' or not out:
    return
  if _INPUT.value and _MEL.value:
    raise errors.UserError('--input and --mel both given; vocode one: audio '
                           '(--input) or a mel (--mel).')
  if (_INPUT.value or _MEL.value) and os.path.isdir(out):
    raise vocoder.InputError(f'--output={out} is a folder; give a file name, '
                             f'e.g. --output={os.path.join(out, "out.wav")}.')
  if not (_INPUT.value or _MEL.value) and os.path.isfile(out):
    raise vocoder.InputError(f'--output={out} is a file; give a folder for '
                             'the vocoded utterances (made if missing).')


def run(argv):
  del argv
  workdir = _WORKDIR.value
  _check_paths(workdir)
  if _MODE.value == 'train':
    if _CONFIG.value is None:
      raise errors.UserError(
          '--mode=train needs '
          '--config=experiments/configs/wavernn.py[:preset=...].')
    if _SWEEP_INDEX.value is not None and not _SWEEP.value:
      raise errors.UserError(
          f'--sweep_index={_SWEEP_INDEX.value} needs --sweep; add --sweep, '
          'or drop --sweep_index.')
    if _SWEEP.value:
      path = config_flags.get_config_filename(flags.FLAGS['config'])
      points = sweep.load_points(path, _CONFIG.value)
      if _SWEEP_INDEX.value is not None and _SWEEP_INDEX.value >= len(points):
        raise errors.UserError(
            f'--sweep_index={_SWEEP_INDEX.value} is out of range: the sweep '
            f'has {len(points)} points; use 0..{len(points) - 1}, or drop '
            '--sweep_index to run them all.')
      result = sweep.run(_CONFIG.value, points, workdir, _SWEEP_INDEX.value)
    else:
      result = train.train_and_evaluate(_CONFIG.value, workdir)
  elif _MODE.value == 'report':
    if not os.path.isdir(workdir):
      raise FileNotFoundError(
          f'no folder {workdir}; give --workdir=DIR of a sweep run with '
          '`python launch.py --config=... --sweep --workdir=DIR`.')
    result = sweep.report(workdir)
  elif _MODE.value == 'evaluate':
    result = evaluate.evaluate(workdir, _WAV_DIR.value, _SPLIT.value,
                               quality_utterances=_QUALITY.value,
                               average=_AVERAGE.value, seed=_SEED.value,
                               dataset=_DATASET.value, kernel=_KERNEL.value,
                               sample_dtype=_SAMPLE_DTYPE.value)
  elif _INPUT.value or _MEL.value:
    if not _OUTPUT.value:
      flag = '--input' if _INPUT.value else '--mel'
      raise errors.UserError(
          f'--mode=vocode {flag}=... needs --output=out.wav.')
    stream_frames = _stream_frames()
    voc = vocoder.Vocoder.restore(workdir, average=_AVERAGE.value,
                                  kernel=_KERNEL.value,
                                  sparse_dtype=_SAMPLE_DTYPE.value)
    vocode_one = (evaluate.vocode_file if _INPUT.value else
                  evaluate.vocode_mel_file)
    result = vocode_one(
        voc, _INPUT.value or _MEL.value, _OUTPUT.value, seed=_SEED.value,
        temperature=_TEMPERATURE.value, fold=_FOLD.value,
        stream_frames=stream_frames)
    result.update(compile_cache.stats())
  else:
    result = _vocode_split(workdir)
  print(json.dumps(result))


def _quiet_libraries(record: std_logging.LogRecord) -> bool:
  """Drops the INFO chatter of checkpointing and compiler internals."""
  noisy = ('/orbax/', '/jax/_src/', '/absl/')
  return record.levelno >= std_logging.WARNING or not any(
      n in record.pathname for n in noisy)


def main(argv):
  logging.get_absl_handler().addFilter(_quiet_libraries)
  cpu_kernels.tune_malloc()
  try:
    compile_cache.enable(_COMPILE_CACHE.value)
    distributed.initialize(_COORDINATOR.value, _NUM_PROCESSES.value,
                           _PROCESS_ID.value)
    run(argv)
  except USER_ERRORS as e:
    logging.debug('error', exc_info=True)
    _fail(str(e))


if __name__ == '__main__':
  app.run(main, flags_parser=_parse_flags)
