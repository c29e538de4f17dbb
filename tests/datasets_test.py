"""Tests for the TFDS builders in data/ and wavernn_jax.training.datasets.

Builds each dataset on a tiny synthetic corpus in tmp_path and reads it back
through array_record data sources, without TensorFlow.
"""

import gzip
import hashlib
import logging
import sys

import numpy as np
import pytest
import soundfile as sf
import tensorflow_datasets as tfds

import data
from tests import fake_corpus
from data.asterisk_allison import asterisk_allison_dataset_builder as asterisk
from data.asterisk_voices import asterisk_voices_dataset_builder as voices
from data.wav_folder import wav_folder_dataset_builder as wav_folder
from wavernn_jax.training import datasets
from wavernn_jax.utils import audio_io

SPLITS = ('train', 'validation', 'test')
# Golden split of a few ids: md5(id) % 100, 0-89 train, 90-94 val, 95-99 test.
GOLDEN_SPLITS = {
    'digits/1': 'train', 'speech0': 'train', 'speech12': 'validation',
    'speech30': 'test', 'LJ001-0001': 'train', 'LJ001-0024': 'validation',
    'LJ001-0007': 'test', 'spk/utt11': 'validation', 'spk/utt36': 'test',
}


def _tone(seconds, sample_rate):
  t = np.arange(int(seconds * sample_rate)) / sample_rate
  return (0.3 * 32767 * np.sin(2 * np.pi * 700 * t)).astype(np.int16)


def _expected_split(utterance_id):
  bucket = int(hashlib.md5(utterance_id.encode()).hexdigest(), 16) % 100
  return 'train' if bucket < 90 else 'validation' if bucket < 95 else 'test'


def _read_all(sources):
  """{split: {id: example}} with ids decoded from bytes."""
  return {split: {source[i]['id'].decode(): source[i]
                  for i in range(len(source))}
          for split, source in sources.items()}


def _check_split_rule(examples_by_split):
  seen = set()
  for split, examples in examples_by_split.items():
    for utt_id, example in examples.items():
      assert _expected_split(utt_id) == split, utt_id
      assert isinstance(example['audio'], np.ndarray)
      assert example['audio'].dtype == np.int16
    assert not seen & examples.keys()  # splits are disjoint
    seen |= examples.keys()


# ---------------------------------------------------------------- asterisk

# id -> (audio maker, transcript or None); kept ids are the speech ones.
_KEPT = {
    'speech0': 'Hello.', 'speech1': 'Goodbye.', 'digits/speech2': 'Two.',
    'speech12': 'Validation speech.', 'speech30': 'Test speech.',
    'untranscribed': None,
}


def _make_asterisk_corpus(root, reverse=False):
  """Fake Debian layout: .g722 files + gzipped `name: transcript` lines."""
  files = {utt_id: fake_corpus.syllables(0.6, 16000, seed=i)
           for i, utt_id in enumerate(_KEPT)}
  files['silence/1'] = np.zeros(16000, np.int16)
  files['tone'] = _tone(0.5, 16000)
  files['effect'] = fake_corpus.syllables(0.6, 16000, seed=9)
  transcripts = {k: v for k, v in _KEPT.items() if v is not None}
  transcripts.update({'silence/1': '(1 second of silence)', 'tone': 'Tone.',
                      'effect': '[sound of monkeys screaming]',
                      'not-a-file': 'No audio for this line.'})
  sounds = root / 'sounds'
  for utt_id in sorted(files, reverse=reverse):
    path = sounds / f'{utt_id}.g722'
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(audio_io.encode_g722(files[utt_id]))
  (sounds / 'broken.g722').write_bytes(b'')  # unreadable: empty
  transcript_path = root / 'core-sounds-en.txt.gz'
  with gzip.open(transcript_path, 'wt') as f:
    f.write('; Core Asterisk Sounds in English\n\n')
    f.writelines(f'{k}: {v}\n' for k, v in transcripts.items())
  return sounds, transcript_path


def _build_asterisk(tmp_path, name='corpus', **kwargs):
  sounds, transcripts = _make_asterisk_corpus(tmp_path / name, **kwargs)
  builder = asterisk.AsteriskAllison(
      data_dir=tmp_path / f'{name}_tfds', source_dir=sounds,
      transcript_path=transcripts)
  builder.download_and_prepare()
  return builder


def test_golden_splits():
  assert {k: data.split_for_id(k) for k in GOLDEN_SPLITS} == GOLDEN_SPLITS


def test_split_rule_matches_md5_buckets():
  ids = [f'utt{i}' for i in range(2000)]
  splits = [data.split_for_id(i) for i in ids]
  assert splits == [_expected_split(i) for i in ids]
  fractions = [splits.count(s) / len(ids) for s in SPLITS]
  np.testing.assert_allclose(fractions, [0.9, 0.05, 0.05], atol=0.02)


def test_asterisk_builds_screened_splits(tmp_path, caplog):
  caplog.set_level(logging.WARNING)
  builder = _build_asterisk(tmp_path)
  assert builder.info.file_format == tfds.core.FileFormat.ARRAY_RECORD
  assert builder.info.metadata['sample_rate'] == asterisk.SAMPLE_RATE
  examples = _read_all(builder.as_data_source())
  assert set(examples) == set(SPLITS)
  _check_split_rule(examples)
  kept = {k: v for split in examples.values() for k, v in split.items()}
  # Silence, tone, sound effect and the empty file are gone.
  assert set(kept) == set(_KEPT)
  for utt_id, text in _KEPT.items():
    assert kept[utt_id]['text'].decode() == (text or '')
    assert len(kept[utt_id]['audio']) == int(0.6 * 16000)
  assert np.abs(kept['speech0']['audio']).max() > 8000
  assert 'skipped 1 unreadable file(s): broken' in caplog.text
  assert 'tensorflow' not in sys.modules


def test_asterisk_split_is_independent_of_file_order(tmp_path):
  forward = _build_asterisk(tmp_path, 'forward')
  backward = _build_asterisk(tmp_path, 'backward', reverse=True)
  ids = lambda b: {s: set(e) for s, e in _read_all(b.as_data_source()).items()}
  assert ids(forward) == ids(backward)


def test_tfds_data_source_reads_prepared_asterisk(tmp_path):
  builder = _build_asterisk(tmp_path)
  source = tfds.data_source(
      'asterisk_allison', data_dir=builder.data_dir_root, split='validation',
      download=False)
  assert [source[i]['id'] for i in range(len(source))] == [b'speech12']
  assert source[0]['audio'].dtype == np.int16


def test_asterisk_strict_raises_on_unreadable_file(tmp_path):
  sounds, transcripts = _make_asterisk_corpus(tmp_path)
  builder = asterisk.AsteriskAllison(
      data_dir=tmp_path / 'tfds', source_dir=sounds,
      transcript_path=transcripts, strict=True)
  with pytest.raises(audio_io.AudioFileError, match='broken.g722'):
    builder.download_and_prepare()


def test_asterisk_missing_packages_says_how_to_install(tmp_path):
  builder = asterisk.AsteriskAllison(
      data_dir=tmp_path / 'tfds', source_dir=tmp_path / 'nowhere')
  with pytest.raises(FileNotFoundError) as e:
    builder.download_and_prepare()
  assert ('apt-get install asterisk-core-sounds-en-g722 '
          'asterisk-core-sounds-en') in str(e.value)
  assert '\n' not in str(e.value)


def test_load_split_asterisk(tmp_path, monkeypatch):
  sounds, transcripts = _make_asterisk_corpus(tmp_path / 'corpus')
  monkeypatch.setattr(asterisk, 'SOURCE_DIR', str(sounds))
  monkeypatch.setattr(asterisk, 'TRANSCRIPT_PATH', str(transcripts))
  data_dir = str(tmp_path / 'tfds')
  test = datasets.load_split('asterisk_allison', 'test', data_dir)
  assert len(test) == 1 and test[0]['id'] == b'speech30'
  train = datasets.load_split('asterisk_allison', 'train', data_dir, None,
                              16000)
  assert {train[i]['id'] for i in range(len(train))} == {
      b'speech0', b'speech1', b'digits/speech2', b'untranscribed'}
  with pytest.raises(ValueError, match='16000 Hz'):
    datasets.load_split('asterisk_allison', 'train', data_dir,
                        sample_rate=24000)
  with pytest.raises(ValueError, match='unknown dataset'):
    datasets.load_split('ljspeech', 'train', data_dir)


# ---------------------------------------------------------- asterisk_voices

def _build_voices(tmp_path, config):
  sounds, doc = fake_corpus.make_asterisk_voices(tmp_path / 'corpus')
  builder = voices.AsteriskVoices(
      config=config, data_dir=tmp_path / 'tfds', sounds_root=sounds,
      doc_root=doc)
  builder.download_and_prepare()
  return _read_all(builder.as_data_source())


def test_asterisk_voice_config_is_one_voice_split_by_prompt(tmp_path):
  examples = _build_voices(tmp_path, 'fr')
  _check_split_rule(examples)  # the ids are the prompts themselves
  assert {s: sorted(e) for s, e in examples.items()} == {
      'train': ['digits/speech2', 'speech0'], 'validation': ['speech12'],
      'test': ['speech30']}
  assert examples['test']['speech30']['text'] == b'fr speech30'


def test_asterisk_voices_multi_keeps_each_prompt_in_one_split(tmp_path):
  examples = _build_voices(tmp_path, 'multi')
  by_split = {s: sorted(e) for s, e in examples.items()}
  # Every voice of MULTI, none held out (ru), each prompt where its md5 says.
  assert by_split['test'] == [f'{v}/speech30' for v in sorted(voices.MULTI)]
  assert by_split['validation'] == [
      f'{v}/speech12' for v in sorted(voices.MULTI)]
  assert len(by_split['train']) == 2 * len(voices.MULTI)
  for split, ids in by_split.items():
    for utt_id in ids:
      assert _expected_split(utt_id.split('/', 1)[1]) == split
  # Each voice's own audio: the same prompt differs between voices.
  fr, it = (examples['test'][f'{v}/speech30']['audio'] for v in ('fr', 'it'))
  assert not np.array_equal(fr, it)


def test_asterisk_voice_missing_package_says_how_to_install(tmp_path):
  sounds, doc = fake_corpus.make_asterisk_voices(tmp_path / 'corpus', names=('fr',))
  builder = voices.AsteriskVoices(config='it', data_dir=tmp_path / 'tfds',
                                  sounds_root=sounds, doc_root=doc)
  with pytest.raises(FileNotFoundError) as e:
    builder.download_and_prepare()
  assert ('apt-get install asterisk-core-sounds-it-g722 '
          'asterisk-core-sounds-it') in str(e.value)
  assert '\n' not in str(e.value)


def test_load_split_asterisk_voices(tmp_path, monkeypatch):
  sounds, doc = fake_corpus.make_asterisk_voices(tmp_path / 'corpus', names=('ru',))
  monkeypatch.setattr(voices, 'SOUNDS_ROOT', str(sounds))
  monkeypatch.setattr(voices, 'DOC_ROOT', str(doc))
  test = datasets.load_split('asterisk_voices/ru', 'test', str(tmp_path / 't'))
  assert [test[i]['id'] for i in range(len(test))] == [b'speech30']
  with pytest.raises(ValueError, match='unknown dataset'):
    datasets.load_split('asterisk_voices/de', 'test', str(tmp_path / 't'))


# ---------------------------------------------------------------- wav_folder

def _make_ljspeech(root):
  """LJSpeech layout at 22.05 kHz; LJ001-0002's wav is missing."""
  (root / 'wavs').mkdir(parents=True)
  lines = {
      'LJ001-0001': 'Printing, in 1 sense|Printing, in one sense',
      'LJ001-0024': 'Validation "line|Validation "line',
      'LJ001-0007': 'Test line|Test line',
      'LJ001-0002': 'Missing wav|Missing wav',
      'LJ001-0003': 'Silent|Silent',
  }
  with open(root / 'metadata.csv', 'w', encoding='utf-8') as f:
    f.writelines(f'{k}|{v}\n' for k, v in lines.items())
  for i, utt_id in enumerate(['LJ001-0001', 'LJ001-0024', 'LJ001-0007']):
    sf.write(root / 'wavs' / f'{utt_id}.wav', fake_corpus.syllables(0.5, 22050, i),
             22050)
  sf.write(root / 'wavs' / 'LJ001-0003.wav', np.zeros(22050, np.int16), 22050)
  return root


def test_wav_folder_ljspeech_layout(tmp_path, caplog):
  caplog.set_level(logging.WARNING)
  folder = _make_ljspeech(tmp_path / 'LJSpeech-1.1')
  data_dir = str(tmp_path / 'tfds')
  sources = {s: datasets.load_split('wav_folder', s, data_dir, str(folder),
                                    16000) for s in SPLITS}
  examples = _read_all(sources)
  _check_split_rule(examples)
  assert {s: set(e) for s, e in examples.items()} == {
      'train': {'LJ001-0001'}, 'validation': {'LJ001-0024'},
      'test': {'LJ001-0007'}}
  first = examples['train']['LJ001-0001']
  assert first['text'] == b'Printing, in one sense'  # normalized transcript
  assert len(first['audio']) == 8000  # 0.5 s at 16 kHz
  assert examples['validation']['LJ001-0024']['text'] == b'Validation "line'
  assert 'LJ001-0002' in caplog.text and 'missing' in caplog.text
  assert 'tensorflow' not in sys.modules


def test_wav_folder_strict_raises_on_missing_wav(tmp_path):
  folder = _make_ljspeech(tmp_path / 'lj')
  builder = wav_folder.WavFolder(config='sr22050', data_dir=tmp_path / 'tfds',
                                 strict=True)
  with pytest.raises(FileNotFoundError, match='LJ001-0002.wav'):
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=folder))


def test_wav_folder_plain_layout(tmp_path):
  folder = tmp_path / 'plain'
  (folder / 'spk').mkdir(parents=True)
  stereo = np.stack([fake_corpus.syllables(1.0, 16000, 0)] * 2, axis=1)
  sf.write(folder / 'spk' / 'utt0.wav', stereo, 16000)
  sf.write(folder / 'spk' / 'utt11.flac', fake_corpus.syllables(1.0, 48000, 1), 48000)
  sf.write(folder / 'spk' / 'utt36.wav', fake_corpus.syllables(1.0, 22050, 2), 22050)
  sf.write(folder / 'spk' / 'beep.wav', _tone(1.0, 16000), 16000)
  sf.write(folder / '.hidden.wav', fake_corpus.syllables(1.0, 16000), 16000)
  (folder / 'notes.txt').write_text('not audio')
  builder = wav_folder.WavFolder(config='sr24000', data_dir=tmp_path / 'tfds')
  builder.download_and_prepare(
      download_config=tfds.download.DownloadConfig(manual_dir=folder))
  assert builder.info.metadata['sample_rate'] == 24000
  examples = _read_all(builder.as_data_source())
  _check_split_rule(examples)
  assert {s: set(e) for s, e in examples.items()} == {
      'train': {'spk/utt0'}, 'validation': {'spk/utt11'},
      'test': {'spk/utt36'}}
  for split_examples in examples.values():
    for example in split_examples.values():
      assert len(example['audio']) == 24000  # 1 s at 24 kHz
      assert example['text'] == b''


@pytest.mark.parametrize('exists', [True, False])
def test_wav_folder_without_audio_says_so(tmp_path, exists):
  folder = tmp_path / 'empty'
  if exists:
    (folder / 'sub').mkdir(parents=True)
    (folder / 'notes.txt').write_text('no audio here')
  with pytest.raises(FileNotFoundError) as e:
    datasets.load_split('wav_folder', 'train', str(tmp_path / 'tfds'),
                        str(folder), 16000)
  assert f'no audio files found in {folder}' in str(e.value)
  assert '\n' not in str(e.value)


def test_load_split_keeps_folders_apart_and_rejects_empty_splits(tmp_path):
  data_dir = str(tmp_path / 'tfds')
  sources = []
  for name, seconds in (('a', 0.5), ('b', 0.75)):
    folder = tmp_path / name
    folder.mkdir()
    sf.write(folder / 'speech0.wav', fake_corpus.syllables(seconds, 16000), 16000)
    sources.append(datasets.load_split('wav_folder', 'train', data_dir,
                                       str(folder), 16000))
  assert [len(s[0]['audio']) for s in sources] == [8000, 12000]
  with pytest.raises(ValueError, match="no 'test' split"):
    datasets.load_split('wav_folder', 'test', data_dir, str(tmp_path / 'a'),
                        16000)
  with pytest.raises(ValueError, match='sample_rate must be one of'):
    datasets.load_split('wav_folder', 'train', data_dir, str(tmp_path / 'a'),
                        44100)
