"""The command line: train, evaluate and vocode, and its error lines."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from tests import fake_corpus
from wavernn_jax import vocoder as vocoder_lib
from wavernn_jax.utils import audio_io

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(*args, check=True):
  env = dict(os.environ, JAX_PLATFORMS='cpu')
  proc = subprocess.run([sys.executable, 'launch.py', *args], cwd=ROOT,
                        env=env, capture_output=True, text=True, timeout=600)
  if check and proc.returncode:
    raise AssertionError(f'{args} failed:\n{proc.stderr[-3000:]}')
  return proc


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
  root = tmp_path_factory.mktemp('cli')
  lj = fake_corpus.make_ljspeech(str(root / 'lj'))
  workdir = str(root / 'wd')
  _run('--config=experiments/configs/wavernn.py:preset=tiny,steps=3',
       f'--config.data.name=wav_folder', f'--config.data.manual_dir={lj}',
       f'--config.data.data_dir={root / "tfds"}', f'--workdir={workdir}')
  return root, lj, workdir


def test_evaluate_prints_json_last_line(trained):
  _, lj, workdir = trained
  proc = _run('--mode=evaluate', f'--workdir={workdir}')
  result = json.loads(proc.stdout.strip().splitlines()[-1])
  assert result['num_samples'] > 0 and result['step'] == 3
  assert 8 < result['nll_bits_per_sample'] < 20  # an untrained model.
  assert 'lpc_bits_per_sample' in result
  proc = _run('--mode=evaluate', f'--workdir={workdir}',
              f'--wav_dir={lj}/wavs', '--quality=1')
  result = json.loads(proc.stdout.strip().splitlines()[-1])
  assert result['num_utterances'] == 24
  # An untrained vocoder is far worse than Griffin-Lim on the same mel.
  assert result['quality_utterances'] == 1
  assert result['griffin_lim_mcd_db'] < result['mcd_db']
  assert 0 <= result['stoi'] <= 1 and 1 <= result['griffin_lim_pesq_wb'] <= 4.7
  assert result['quality_seed'] == 0 and result['sample_dtype'] == 'float32'
  # Another --seed draws other samples; Griffin-Lim's scores stay.
  proc = _run('--mode=evaluate', f'--workdir={workdir}',
              f'--wav_dir={lj}/wavs', '--quality=1', '--seed=7',
              '--sample_dtype=float16')
  reseeded = json.loads(proc.stdout.strip().splitlines()[-1])
  assert reseeded['quality_seed'] == 7
  assert reseeded['sample_dtype'] == 'float16'  # Reported, passed on.
  assert reseeded['mcd_db'] != result['mcd_db']
  assert reseeded['griffin_lim_mcd_db'] == result['griffin_lim_mcd_db']


def test_vocode_writes_wav_and_png(trained):
  root, lj, workdir = trained
  out = str(root / 'out.wav')
  proc = _run('--mode=vocode', f'--workdir={workdir}',
              f'--input={lj}/wavs/utt000.wav', f'--output={out}')
  result = json.loads(proc.stdout.strip().splitlines()[-1])
  # A fresh process compiles the sampler: reported apart from the rest.
  assert 0 < result['compile_seconds'] < result['seconds']
  assert result['samples_per_sec_excl_compile'] > result['samples_per_sec']
  audio, sr = sf.read(out, dtype='int16')
  original, _ = sf.read(f'{lj}/wavs/utt000.wav', dtype='int16')
  assert sr == 16000 and len(audio) == len(original) // 64 * 64
  assert os.path.getsize(str(root / 'out.png')) > 1000
  # The file holds what Vocoder.generate draws from the input's mel (seed 0).
  voc = vocoder_lib.Vocoder.restore(workdir)
  source = audio_io.read_audio(f'{lj}/wavs/utt000.wav', voc.sample_rate)
  want, _ = voc.generate(voc.mel(source[:len(audio)]), seed=0)
  np.testing.assert_array_equal(audio, want[0])
  assert len(np.unique(audio)) > 100


def test_a_mel_file_and_the_stream_give_the_audio_of_the_input(trained):
  """The --mel round trip: the mel of x (saved as .npy, or .npz) vocodes
  to the same audio as --input=x with the same seed; so does --stream,
  chunk by chunk, leaving no .partial file."""
  root, lj, workdir = trained
  source = f'{lj}/wavs/utt002.wav'
  voc = vocoder_lib.Vocoder.restore(workdir)
  audio = audio_io.read_audio(source, voc.sample_rate)
  mel = voc.mel(audio[:len(audio) // voc.hop_length * voc.hop_length])[0]
  np.save(root / 'mel.npy', mel)
  np.savez(root / 'mel.npz', mel=mel)
  outs = {}
  for name, args in (('input', [f'--input={source}']),
                     ('npy', [f'--mel={root / "mel.npy"}']),
                     ('stream', [f'--mel={root / "mel.npz"}', '--stream',
                                 '--stream_frames=3'])):
    out = str(root / f'rt_{name}.wav')
    proc = _run('--mode=vocode', f'--workdir={workdir}', *args,
                f'--output={out}', '--seed=4')
    outs[name] = (sf.read(out, dtype='int16')[0],
                  json.loads(proc.stdout.strip().splitlines()[-1]))
  reference = outs['input'][0]
  assert len(reference) == mel.shape[0] * voc.hop_length
  np.testing.assert_array_equal(outs['npy'][0], reference)
  np.testing.assert_array_equal(outs['stream'][0], reference)
  streamed = outs['stream'][1]
  assert streamed['stream_frames'] == 3
  assert 0 < streamed['first_audio_seconds'] < streamed['seconds']
  assert not os.path.exists(str(root / 'rt_stream.wav.partial'))


@pytest.mark.parametrize('args, match', [
    (['--mode=evaluate', '--workdir={empty}'], 'no checkpoint'),
    (['--mode=vocode', '--workdir={wd}', '--input={root}/missing.wav',
      '--output={root}/x.wav'], 'missing.wav'),
    (['--mode=vocode', '--workdir={wd}', '--input={lj}/wavs/utt001.wav',
      '--output=/nonexistent_dir/x.wav'], 'not a writable folder'),
    (['--config=experiments/configs/wavernn.py:preset=tiny,hidden=-2',
      '--workdir={empty}'], 'hidden'),
    (['--mode=vocode', '--workdir={wd}', '--input={tmp}/corrupt.wav',
      '--output={tmp}/x.wav'], 'corrupt.wav: cannot decode audio'),
    (['--mode=vocode', '--workdir={empty}', '--input={lj}/wavs/utt001.wav',
      '--output={tmp}/x.wav'], 'no checkpoint'),
    (['--mode=evaluate', '--workdir={wd}', '--num_processes=2'],
     '--coordinator_address'),
    (['--mode=vocode', '--workdir={wd}', '--input={lj}/wavs/utt001.wav',
      '--mel={tmp}/mel.npy', '--output={tmp}/x.wav'], '--input and --mel'),
    (['--mode=vocode', '--workdir={wd}', '--mel={tmp}/absent.npy',
      '--output={tmp}/x.wav'], 'no such mel file'),
    (['--mode=vocode', '--workdir={wd}', '--mel={tmp}/db.npy',
      '--output={tmp}/x.wav'], "outside what this model's mel gives"),
    (['--mode=vocode', '--workdir={wd}', '--mel={tmp}/wide.npy',
      '--output={tmp}/x.wav'], 'mel must have shape [B, frames, 16]'),
    (['--mode=vocode', '--workdir={wd}', '--mel={tmp}/mel.npy', '--stream',
      '--stream_frames=0', '--output={tmp}/x.wav'], '--stream_frames=0'),
])
def test_user_errors_give_one_line_and_exit_1(trained, tmp_path, args, match):
  root, lj, workdir = trained
  (tmp_path / 'corrupt.wav').write_bytes(b'RIFF\x10\x00\x00\x00WAVEjunk')
  mel = np.random.default_rng(0).uniform(-8, 0, (20, 16)).astype(np.float32)
  np.save(tmp_path / 'mel.npy', mel)
  np.save(tmp_path / 'db.npy', mel * 20 / np.log(10))  # A dB-scale mel.
  np.save(tmp_path / 'wide.npy', np.zeros((20, 80), np.float32))
  fill = dict(empty=str(tmp_path / 'empty'), wd=workdir, root=root, lj=lj,
              tmp=str(tmp_path))
  proc = _run(*[a.format(**fill) for a in args], check=False)
  assert proc.returncode == 1
  last = proc.stderr.strip().splitlines()[-1]
  assert last.startswith('error: ') and match in last
  assert 'Traceback' not in proc.stderr
  assert not (tmp_path / 'x.wav').exists()  # Nothing half-written.


_RAISES = """
import sys
from absl import flags
import launch
from wavernn_jax.utils import errors
flags.FLAGS.mark_as_parsed()
launch.compile_cache.enable = lambda path: None
launch.distributed.initialize = lambda *a: None
def run(argv):
  raise eval(sys.argv[1])
launch.run = run
launch.main([])
"""


@pytest.mark.parametrize('error, code, last', [
    ("errors.UserError('bad value; fix it')", 1, 'error: bad value; fix it'),
    ("ValueError('an internal bug')", 1, 'ValueError: an internal bug')])
def test_user_errors_are_one_line_and_bugs_keep_their_traceback(error, code,
                                                                last):
  """launch.main words the project's typed errors in one line; a plain
  ValueError (an internal bug) is not caught: its traceback is printed."""
  proc = subprocess.run([sys.executable, '-c', _RAISES, error], cwd=ROOT,
                        env=dict(os.environ, JAX_PLATFORMS='cpu'),
                        capture_output=True, text=True, timeout=120)
  assert proc.returncode == code
  lines = proc.stderr.strip().splitlines()
  assert lines[-1] == last
  assert ('Traceback' in proc.stderr) == error.startswith('ValueError')
