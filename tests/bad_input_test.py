"""Bad input: one typed error with a one-line message, and nothing written.

One test per kind of input of issue 5 (audio files, dataset folders, config
values, mel arrays, checkpoints, output paths); `launch_test.py` checks that
the command line turns these errors into one `error: ...` line and exit 1.
"""

import logging
import os

import numpy as np
import pytest
import soundfile as sf
import tensorflow_datasets as tfds

import data
from data.wav_folder import wav_folder_dataset_builder as wav_folder
from experiments import wavernn
from tests import fake_corpus
from wavernn_jax import audio_io
from wavernn_jax import checkpoint
from wavernn_jax import config_checks
from wavernn_jax import datasets
from wavernn_jax import evaluate
from wavernn_jax import vocoder as vocoder_lib


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
  # Documented in the README: accepted, not refused.
  path = tmp_path / 'stereo_44k.wav'
  wave = fake_corpus.speech_like(np.random.default_rng(0), 0.5, 44100)
  sf.write(path, np.stack([wave, wave], 1), 44100, subtype='PCM_16')
  audio = audio_io.read_audio(path, 16000)
  assert audio.dtype == np.int16 and audio.shape == (8000,)


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
