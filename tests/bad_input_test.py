"""Bad input: one typed error with a one-line message, and nothing written.

One test per kind of input of issue 5 (audio files, dataset folders, config
values, mel arrays, checkpoints, output paths). Then the front door (issue
14): `launch.py` given bad --config arguments and files, bad --config.*
overrides, bad flags and damaged checkpoints, in every mode, answers with
one `error: <what>; <fix>` line and exit status 1, and writes nothing.
"""

import glob
import logging
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
import tensorflow_datasets as tfds

import data
from data.wav_folder import wav_folder_dataset_builder as wav_folder
from experiments.configs import wavernn
from tests import fake_corpus
from tests import tiny_training
from wavernn_jax import vocoder as vocoder_lib
from wavernn_jax.evaluation import evaluate
from wavernn_jax.training import checkpoint
from wavernn_jax.training import config_checks
from wavernn_jax.training import datasets
from wavernn_jax.training import workdir_lock
from wavernn_jax.utils import audio_io


def _one_line(excinfo, *words):
  message = str(excinfo.value)
  assert '\n' not in message and all(w in message for w in words), message


@pytest.fixture(scope='module')
def voc():
  return vocoder_lib.Vocoder.from_config(wavernn.get_config('preset=tiny'))


@pytest.mark.parametrize('name, content, words', [
    ('corrupt.wav', b'RIFF\x10\x00\x00\x00WAVEjunk', ('cannot decode',)),
    ('empty.wav', b'', ('empty file (0 bytes)',)),
    ('missing.wav', None, ('no such file',)),
])
def test_unreadable_audio_file(tmp_path, name, content, words):
  path = tmp_path / name
  if content is not None:
    path.write_bytes(content)
  with pytest.raises(audio_io.AudioFileError) as e:
    audio_io.read_audio(path, 16000)
  _one_line(e, name, *words)


def test_other_rates_and_channels_are_resampled_and_downmixed(tmp_path):
  # Documented in the README: accepted, not refused. Left 0.4 and right
  # 0.2 of a 440 Hz tone at 44.1 kHz: their mean, 0.3 of the tone, at 16 kHz.
  path = tmp_path / 'stereo_44k.wav'
  tone = lambda rate: np.sin(2 * np.pi * 440 * np.arange(rate // 2) / rate)
  sf.write(path, np.stack([0.4 * tone(44100), 0.2 * tone(44100)], 1), 44100,
           subtype='PCM_16')
  audio = audio_io.read_audio(path, 16000)
  assert audio.dtype == np.int16 and audio.shape == (8000,)
  want = 0.3 * 32768 * tone(16000)
  inner = slice(200, -200)  # The resampler's edges.
  assert np.abs(audio[inner] - want[inner]).max() < 0.01 * 32768


def test_unreadable_files_are_skipped_and_counted_unless_strict(tmp_path,
                                                                caplog):
  folder = fake_corpus.make_ljspeech(str(tmp_path / 'lj'), n=12)
  for name, content in (('utt001', b'junk'), ('utt002', b'')):
    with open(os.path.join(folder, 'wavs', name + '.wav'), 'wb') as f:
      f.write(content)
  strict = wav_folder.WavFolder(config='sr16000', strict=True,
                                data_dir=str(tmp_path / 'strict'))
  with pytest.raises(audio_io.AudioFileError) as e:
    strict.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=folder))
  _one_line(e, 'utt001.wav')
  assert not strict.data_path.exists()  # No half-built dataset.
  caplog.set_level(logging.WARNING)
  train = datasets.load_split('wav_folder', 'train', str(tmp_path / 'tfds'),
                              folder, 16000)
  assert 'skipped 2 unreadable file(s): utt001, utt002' in caplog.text
  assert {ex['id'] for ex in train}.isdisjoint({b'utt001', b'utt002'})


def test_silence_only_folder(tmp_path):
  folder = tmp_path / 'silence'
  folder.mkdir()
  for i in range(3):
    sf.write(folder / f'quiet{i}.wav', np.zeros(16000, np.int16), 16000)
  with pytest.raises(data.NoUsableAudioError) as e:
    datasets.load_split('wav_folder', 'train', str(tmp_path / 'tfds'),
                        str(folder), 16000)
  _one_line(e, 'none of the 3', '3 silent', 'add speech')
  assert not any('1.0.0' in dirs for _, dirs, _ in os.walk(tmp_path / 'tfds'))


def test_empty_dataset_folder(tmp_path):
  (tmp_path / 'empty').mkdir()
  with pytest.raises(FileNotFoundError) as e:
    datasets.load_split('wav_folder', 'train', str(tmp_path / 'tfds'),
                        str(tmp_path / 'empty'), 16000)
  _one_line(e, 'no audio files found', 'metadata.csv')


def test_missing_metadata_entry_is_skipped_unless_strict(tmp_path, caplog):
  folder = fake_corpus.make_ljspeech(str(tmp_path / 'lj'), n=12)
  os.remove(os.path.join(folder, 'wavs', 'utt003.wav'))
  caplog.set_level(logging.WARNING)
  utterances = wav_folder.read_ljspeech(folder, strict=False)
  assert len(utterances) == 11 and 'skipped 1 line(s)' in caplog.text
  with pytest.raises(FileNotFoundError) as e:
    wav_folder.read_ljspeech(folder, strict=True)
  _one_line(e, 'utt003.wav', 'metadata.csv', 'remove its line')


@pytest.mark.parametrize('arg, override, words', [
    ('preset=tiny', ('model', 'hidden', -4), ('hidden',)),
    ('preset=tiny,variant=sparse,sparsity=1.0', None, ('sparsity', '[0, 1)')),
    ('preset=tiny', ('data', 'crop_samples', 100),
     ('crop_samples=100', 'multiple of mel.hop_length=64', 'e.g. 64')),
    ('preset=tiny,variant=subscale', ('model', 'mulaw', True),
     ('subscale.lpc_order=15', 'subscale.lpc_order=0', 'mu-law')),
])
def test_config_value_out_of_range(arg, override, words):
  config = wavernn.get_config(arg)
  if override:
    section, key, value = override
    config[section][key] = value
  with pytest.raises(config_checks.ConfigError) as e:
    config_checks.validate(config)
  _one_line(e, *words)


@pytest.mark.parametrize('method', ['generate', 'log_prob'])
@pytest.mark.parametrize('mel, error, words', [
    (np.zeros((1, 2, 7), np.float32), vocoder_lib.InputError, ('shape',)),
    (np.zeros((1, 2, 16), np.int32), vocoder_lib.InputError, ('float',)),
    (np.full((1, 2, 16), np.inf, np.float32), vocoder_lib.InputError,
     ('NaN or infinite',)),
])
def test_bad_mel(voc, method, mel, error, words):
  assert issubclass(error, ValueError)
  with pytest.raises(error) as e:
    if method == 'generate':
      voc.generate(mel)
    else:
      voc.log_prob(np.zeros((1, 2 * voc.hop_length), np.int16), mel)
  _one_line(e, *words)


def test_checkpoint_of_another_model_config():
  tiny = wavernn.get_config('preset=tiny').to_dict()
  wider = wavernn.get_config('preset=tiny,hidden=48').to_dict()
  with pytest.raises(checkpoint.CheckpointError) as e:
    checkpoint.check_compatible(tiny, wider)
  _one_line(e, 'model.hidden=32', '48', '--workdir')


@pytest.mark.parametrize('torn', [False, True])
def test_workdir_without_a_checkpoint(tmp_path, torn):
  if torn:  # Only a save cut short by a kill: not a checkpoint.
    os.makedirs(tmp_path / 'checkpoints' / '5.orbax-checkpoint-tmp-1')
  with pytest.raises(checkpoint.CheckpointError) as e:
    vocoder_lib.Vocoder.restore(str(tmp_path))
  _one_line(e, 'no complete checkpoint' if torn else 'no checkpoint',
            'train first')


def test_unwritable_output_path(voc, tmp_path):
  source = tmp_path / 'in.wav'
  sf.write(source, fake_corpus.speech_like(np.random.default_rng(1), 0.1,
                                           16000), 16000, subtype='PCM_16')
  with pytest.raises(audio_io.AudioFileError) as e:
    evaluate.vocode_file(voc, str(source), str(tmp_path / 'no' / 'out.wav'))
  _one_line(e, 'not a writable folder', '--output')
  assert sorted(os.listdir(tmp_path)) == ['in.wav']  # Nothing half-written.


# The front door: `python launch.py ...`.

DENSE256 = os.path.join(tiny_training.ROOT, 'pretrained', 'dense256_lpc_v2')


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
  """(corpus, workdir) of a tiny training run (checkpoints at steps 6-8)."""
  return tiny_training.reference(tmp_path_factory)


def _damage(workdir: str) -> str:
  """Zeroes 4 KB of the largest array file of every checkpoint (bad disk)."""
  for step in glob.glob(os.path.join(workdir, 'checkpoints', '[0-9]*')):
    arrays = glob.glob(os.path.join(step, 'state', 'ocdbt.process_0', 'd',
                                    '*'))
    with open(max(arrays, key=os.path.getsize), 'r+b') as f:
      f.write(bytes(4096))
  return workdir


def _tree(*roots) -> dict:
  """Every folder and file under `roots`, with the files' size and mtime;
  not a run's lock (workdir_lock: taken, then released, by the run that
  failed), which holds no data."""
  out = {}
  for root in roots:
    for folder, _, files in os.walk(root):
      out[folder] = None
      for name in set(files) - {workdir_lock.LOCK_FILE}:
        st = os.stat(os.path.join(folder, name))
        out[os.path.join(folder, name)] = (st.st_size, st.st_mtime_ns)
  return out


TRAIN_TINY = ('--config=experiments/configs/wavernn.py:preset=tiny',
              '--workdir={new}')


@pytest.mark.parametrize('args, words', [
    # train: the --config argument, file and overrides; absl's own flags.
    (['--config=experiments/configs/wavernn.py:variant=banana',
      '--workdir={new}'],
     ["variant='banana' is unknown", 'use one of']),
    (['--config=experiments/configs/wavernn.py:preset=tiny,bananas=1',
      '--workdir={new}'], ["'bananas=1'", 'use keys from']),
    (['--config=experiments/configs/wavernn.py:hidden=abc',
      '--workdir={new}'],
     ["hidden='abc' is not a valid int", 'hidden=<int>']),
    (['--config=experiments/absent.py', '--workdir={new}'],
     ['no such file', 'experiments/absent.py', 'e.g. --config=']),
    (['--config={tmp}/broken.py', '--workdir={new}'],
     ['syntax error in {tmp}/broken.py, line 1', 'py_compile']),
    ([*TRAIN_TINY, '--config.train.stepz=3'],
     ['no field train.stepz', 'did you mean --config.train.steps']),
    ([*TRAIN_TINY, '--config.train.steps=abc'],
     ['--config.train.steps=abc', 'train.steps takes int values']),
    ([*TRAIN_TINY, '--bogus=1'], ["flag 'bogus'", '--helpshort']),
    (['--mode=banana', '--workdir={new}'],
     ['--mode=banana', 'train|evaluate|vocode|report']),
    # train: every checkpoint damaged (none is moved aside).
    (['@resume', '--workdir={damaged_run}'],
     ['reads back', 'steps 6, 7, 8 are damaged', 're-train']),
    # evaluate and vocode: a damaged checkpoint, bad flag values.
    (['--mode=evaluate', '--workdir={damaged_dense256}'],
     ['{damaged_dense256}/checkpoints/', ') is damaged: ', 're-download']),
    (['--mode=vocode', '--workdir={damaged_dense256}', '--split=test',
      '--num=1'], ['{damaged_dense256}/checkpoints/', ') is damaged: ']),
    (['--mode=vocode', '--workdir={wd}', '--num=-1'],
     ['--num=-1', 'not a positive integer', '--num: ']),
    (['--mode=vocode', '--workdir={wd}', '--temperature=0'],
     ['--temperature=0', 'must be > 0']),
    (['--mode=vocode', '--workdir={wd}', '--split=banana'],
     ["no 'banana' split", 'another split']),
    # sweep and report.
    (['--config=experiments/configs/sparse_vs_dense.py:preset=tiny', '--sweep',
      '--sweep_index=7', '--workdir={new}'],
     ['--sweep_index=7 is out of range', '3 points', 'use 0..2']),
    (['--mode=report', '--workdir={empty}'],
     ['no finished sweep points', 'run the sweep first']),
    (['--mode=vocode', '--workdir={wd}', '--input={tmp}/in.wav',
      '--output={empty}'], ['--output={empty} is a folder', '.wav']),
    (['--mode=vocode', '--workdir={wd}', '--split=test', '--num=1',
      '--output={tmp}/in.wav'], ['--output={tmp}/in.wav is a file', 'folder']),
    ([*TRAIN_TINY[:-1], '--workdir={tmp}/in.wav'],
     ['--workdir={tmp}/in.wav is a file', 'folder']),
], ids=['unknown_variant', 'unknown_config_key', 'config_value_type',
        'missing_config_file', 'config_syntax_error', 'unknown_override',
        'override_type', 'unknown_flag', 'unknown_mode',
        'train_all_checkpoints_damaged', 'evaluate_damaged_checkpoint',
        'vocode_damaged_checkpoint', 'vocode_num', 'vocode_temperature',
        'vocode_split', 'sweep_index', 'report_no_points',
        'vocode_output_is_a_folder', 'vocode_output_folder_is_a_file',
        'workdir_is_a_file'])
def test_launch_bad_input_gives_one_line_and_exit_1(trained, tmp_path, args,
                                                    words):
  corpus, workdir = trained
  (tmp_path / 'broken.py').write_text('def get_config(:\n  return None\n')
  (tmp_path / 'empty').mkdir()
  audio_io.write_wav(str(tmp_path / 'in.wav'), np.zeros(1600, np.int16),
                     16000)
  fill = dict(new=str(tmp_path / 'new'), tmp=str(tmp_path), wd=workdir,
              empty=str(tmp_path / 'empty'),
              damaged_dense256=_damage(shutil.copytree(
                  DENSE256, str(tmp_path / 'dense256'))),
              damaged_run=_damage(shutil.copytree(
                  workdir, str(tmp_path / 'run'))))
  args = [a.format(**fill) for a in args]
  if args[0] == '@resume':  # The command that trained `workdir`.
    args = tiny_training.launch_command(
        corpus, args[1].split('=', 1)[1], **tiny_training.REFERENCE_TRAIN)[2:]
  before = _tree(tmp_path, workdir)
  proc = subprocess.run([sys.executable, 'launch.py', *args],
                        cwd=tiny_training.ROOT, capture_output=True,
                        text=True, timeout=300,
                        env=dict(os.environ, JAX_PLATFORMS='cpu'))
  assert proc.returncode == 1, proc.stderr[-3000:]
  errors = [l for l in proc.stderr.splitlines() if l.startswith('error: ')]
  assert len(errors) == 1 and 'Traceback' not in proc.stderr, proc.stderr
  assert '; ' in errors[0], errors[0]  # <what is wrong>; <how to fix it>
  assert all(w.format(**fill) in errors[0] for w in words), errors[0]
  assert _tree(tmp_path, workdir) == before  # Nothing (half-)written.


def test_checkpoint_from_before_a_model_option_existed():
  """An option the saved config lacks means its default, nothing else."""
  now = wavernn.get_config('preset=tiny').to_dict()
  old = wavernn.get_config('preset=tiny').to_dict()
  del old['model']['mulaw']  # Saved before `model.mulaw` existed.
  checkpoint.check_compatible(old, now)  # Default (False): fits.
  now['model']['mulaw'] = True
  with pytest.raises(checkpoint.CheckpointError) as e:
    checkpoint.check_compatible(old, now)
  _one_line(e, 'model.mulaw=False', 'True')
  now['model']['mulaw'] = False
  del old['mel']['padding']  # Saved before `mel.padding` existed.
  checkpoint.check_compatible(old, now)  # 'center': fits.
  now['mel']['padding'] = 'hifigan'
  with pytest.raises(checkpoint.CheckpointError) as e:
    checkpoint.check_compatible(old, now)
  _one_line(e, "mel.padding='center'", "'hifigan'")


@pytest.mark.parametrize('arg, change, words', [
    ('variant=subscale,preset=tiny', ('subscale', 'left_samples', 1),
     ('subscale.left_samples=4', '1')),
    # The same dilations: only the ordering changes, not a shape.
    ('variant=subscale,preset=tiny', ('subscale', 'horizon', 32),
     ('subscale.horizon=64', '32')),
    ('variant=sparse,preset=tiny', ('sparsity', 'block', '4x4'),
     ('sparsity.block=', "'4x4'")),
    ('variant=sparse,preset=tiny', ('sparsity', 'matrices', 'R'),
     ('sparsity.matrices=', "'R'")),
])
def test_a_changed_setting_that_gives_weights_another_meaning_is_named(
    arg, change, words):
  """Subscale's ordering and the pruning blocks change what the saved
  weights (and the pruning masks) mean: resuming under them is refused,
  with the field named."""
  saved = wavernn.get_config(arg).to_dict()
  wanted = wavernn.get_config(arg).to_dict()
  section, key, value = change
  assert wanted[section][key] != value
  wanted[section][key] = value
  with pytest.raises(checkpoint.CheckpointError) as e:
    checkpoint.check_compatible(saved, wanted)
  _one_line(e, *words, '--workdir')


def test_schedule_changes_and_settings_of_no_effect_still_resume():
  # A sparse run may prune further on resume (its schedule is not what
  # the saved weights mean); a dense run ignores its sparsity section.
  saved = wavernn.get_config('variant=sparse,preset=tiny').to_dict()
  wanted = wavernn.get_config('variant=sparse,preset=tiny').to_dict()
  wanted['sparsity'].update(target=0.97, ramp_steps=7, start_step=1)
  wanted['train'].update(steps=123, learning_rate=1e-4)
  checkpoint.check_compatible(saved, wanted)
  dense = wavernn.get_config('preset=tiny').to_dict()
  other = wavernn.get_config('preset=tiny').to_dict()
  other['sparsity']['block'] = '4x4'
  checkpoint.check_compatible(dense, other)


def test_resuming_a_changed_model_is_not_called_damage(trained, tmp_path,
                                                       monkeypatch):
  """The issue's case: a config change on resume is a config error, never
  'damaged', and no checkpoint is set aside. With the config check out of
  the way (a field it does not cover), the shapes still tell."""
  corpus, workdir = trained
  run = shutil.copytree(workdir, str(tmp_path / 'run'))
  from wavernn_jax.training import train  # pylint: disable=g-import-not-at-top
  config = tiny_training.config(corpus, **tiny_training.REFERENCE_TRAIN)
  config.model.hidden = 48
  with pytest.raises(checkpoint.CheckpointError) as e:
    train.train_and_evaluate(config, run)
  _one_line(e, 'model.hidden=32', '48')
  monkeypatch.setattr(checkpoint, 'MODEL_FIELDS', {})
  with pytest.raises(checkpoint.CheckpointError) as e:
    train.train_and_evaluate(config, run)
  assert not isinstance(e.value, checkpoint.DamagedCheckpointError)
  _one_line(e, 'holds another model', 'state/params/', 'is of shape (',
            'the config it was trained with')
  assert 'damaged' not in str(e.value)
  assert not os.path.exists(os.path.join(run, 'checkpoints',
                                         checkpoint.DAMAGED_SUBDIR))
  assert checkpoint.Checkpointer(run).all_steps() == [6, 7, 8]


def test_a_step_that_does_not_exist_lists_those_that_do(trained):
  _, workdir = trained
  with pytest.raises(checkpoint.CheckpointError) as e:
    vocoder_lib.Vocoder.restore(workdir, step=99)
  assert not isinstance(e.value, checkpoint.DamagedCheckpointError)
  _one_line(e, 'no checkpoint of step 99', 'it has steps 6, 7, 8')


@pytest.mark.parametrize('variant', ['Subscale', 'sparce', ''])
def test_unknown_variant_through_an_override_is_refused(variant):
  # --config.variant=Subscale would otherwise train a dense model silently.
  c = wavernn.get_config('preset=tiny')
  c.variant = variant
  with pytest.raises(config_checks.ConfigError, match='variant=.*unknown'):
    config_checks.validate(c)
