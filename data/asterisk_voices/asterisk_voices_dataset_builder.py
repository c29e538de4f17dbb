"""TFDS builder for the Asterisk core prompts in other voices (16 kHz).

The same prompts as `asterisk_allison`, read in four more languages, three
of them by other speakers; Debian ships each as raw G.722 (16 kHz) files
with transcripts:

  apt-get install asterisk-core-sounds-{fr,es,it,ru}-g722 \
      asterisk-core-sounds-{fr,es,it,ru}

Configs (`asterisk_voices/<config>`), one per voice, and one of several:

  fr     June, French (Canada), female            fr_CA_f_June
  es     Allison Smith, Spanish (Mexico), female  es_MX_f_Allison: the
         speaker of asterisk_allison, in another language
  it     Carlo, Italian, male                     it_IT_m_Carlo
  ru     IvrvoiceRU, Russian, female               ru_RU_f_IvrvoiceRU
  en     Allison Smith, US English (the same files as asterisk_allison)
  multi  en + es + fr + it; ru is the voice held out of it

Examples and screening are those of `asterisk_allison` (one file each;
silence, tones and bracketed sound effects dropped; unreadable files skipped
and reported, or raised with `strict=True`). In a one-voice config the id is
the prompt's path without extension ('digits/1'), as in asterisk_allison;
in `multi` it is '<config>/<prompt>' ('fr/digits/1').

Splits: the rule of `data.split_for_id`, applied to the prompt ('digits/1'),
never to the voice: md5(prompt) % 100 in 0-89 train, 90-94 validation,
95-99 test. So a prompt is in the same split for every voice, and in the
same split as in asterisk_allison: no test sentence of one voice is trained
on in another voice's config or in `multi`.

Usage (no TensorFlow needed; stored as array_record):

  from wavernn_jax.training import datasets
  test = datasets.load_split('asterisk_voices/fr', 'test', '~/tensorflow_datasets')
"""

import dataclasses
import os

from absl import logging
from etils import epath
import tensorflow_datasets as tfds

import data
from data.asterisk_allison import asterisk_allison_dataset_builder as allison

SAMPLE_RATE = allison.SAMPLE_RATE
SOUNDS_ROOT = '/usr/share/asterisk/sounds'
DOC_ROOT = '/usr/share/doc'


@dataclasses.dataclass(frozen=True)
class Voice:
  folder: str  # under SOUNDS_ROOT
  language: str  # Debian's package suffix: asterisk-core-sounds-<language>
  description: str

  def transcript(self, doc_root: str) -> str:
    return os.path.join(doc_root, f'asterisk-core-sounds-{self.language}',
                        f'core-sounds-{self.language}.txt.gz')

  def install_hint(self) -> str:
    return (f'as root: apt-get install asterisk-core-sounds-{self.language}'
            f'-g722 asterisk-core-sounds-{self.language}')


VOICES = {
    'fr': Voice('fr_CA_f_June', 'fr', 'June, French (Canada), female'),
    'es': Voice('es_MX_f_Allison', 'es',
                'Allison Smith, Spanish (Mexico), female'),
    'it': Voice('it_IT_m_Carlo', 'it', 'Carlo, Italian, male'),
    'ru': Voice('ru_RU_f_IvrvoiceRU', 'ru', 'IvrvoiceRU, Russian, female'),
    'en': Voice('en_US_f_Allison', 'en',
                'Allison Smith, US English, female'),
}
MULTI = ('en', 'es', 'fr', 'it')  # `multi`; 'ru' is held out of it


class AsteriskVoicesConfig(tfds.core.BuilderConfig):
  """One voice, or several (`voices`)."""

  def __init__(self, *, voices: tuple[str, ...], **kwargs):
    super().__init__(**kwargs)
    self.voices = voices


class AsteriskVoices(tfds.core.GeneratorBasedBuilder):
  """Asterisk prompts in five voices, 16 kHz int16."""

  VERSION = tfds.core.Version('1.0.0')
  RELEASE_NOTES = {'1.0.0': 'Initial release.'}
  BUILDER_CONFIGS = [
      AsteriskVoicesConfig(name=k, voices=(k,), description=v.description)
      for k, v in VOICES.items()
  ] + [AsteriskVoicesConfig(
      name='multi', voices=MULTI,
      description='en + es + fr + it (ru held out), ids <voice>/<prompt>')]

  @tfds.core.utils.classproperty
  @classmethod
  def code_path(cls) -> epath.Path:
    # As in asterisk_allison: TFDS 4.9.10's default needs a backport.
    return epath.Path(__file__)

  def __init__(self, *, sounds_root=None, doc_root=None, strict: bool = False,
               **kwargs):
    """Builder; arguments other than those below go to TFDS.

    Args:
      sounds_root: folder holding each voice's folder; default SOUNDS_ROOT.
      doc_root: folder holding asterisk-core-sounds-<lang>/ (transcripts);
        default DOC_ROOT.
      strict: raise on an unreadable file instead of skipping it.
      **kwargs: TFDS builder arguments (config, data_dir, ...); file_format
        defaults to array_record.
    """
    kwargs.setdefault('file_format', tfds.core.FileFormat.ARRAY_RECORD)
    super().__init__(**kwargs)
    self._sounds_root = os.fspath(sounds_root or SOUNDS_ROOT)
    self._doc_root = os.fspath(doc_root or DOC_ROOT)
    self._strict = strict

  def _info(self) -> tfds.core.DatasetInfo:
    voices = self.builder_config.voices
    return tfds.core.DatasetInfo(
        builder=self,
        description=(
            'Asterisk core sound prompts, '
            + '; '.join(VOICES[v].description for v in voices)
            + f', mono int16 at {SAMPLE_RATE} Hz. Silence, tones and sound '
            'effects removed. Split by md5(prompt) % 100: 0-89 train, 90-94 '
            'validation, 95-99 test (the same prompts in every voice).'),
        features=data.features(),
        supervised_keys=None,
        homepage='https://www.asterisk.org/',
        metadata=tfds.core.MetadataDict(sample_rate=SAMPLE_RATE,
                                        voices=list(voices)),
        license='CC BY-SA 3.0',
    )

  def _voice_utterances(self, name: str) -> list[data.Utterance]:
    voice = VOICES[name]
    source = os.path.join(self._sounds_root, voice.folder)
    transcript = voice.transcript(self._doc_root)
    for path in (source, transcript):
      if not os.path.exists(path):
        raise FileNotFoundError(
            f'{path} not found; install it {voice.install_hint()}')
    files = allison.list_g722(source)
    if not files:
      raise FileNotFoundError(
          f'no .g722 files in {source}; install them {voice.install_hint()}')
    transcripts = allison.read_transcripts(transcript)
    prefix = f'{name}/' if len(self.builder_config.voices) > 1 else ''
    utterances, effects = [], []
    for prompt in sorted(files):
      text = transcripts.get(prompt, '')
      if allison.SOUND_EFFECT.match(text):
        effects.append(prompt)
        continue
      utterances.append(data.Utterance(prefix + prompt, files[prompt], text,
                                       split_key=prompt))
    if effects:
      logging.info('asterisk_voices/%s: dropped %d sound effect(s) by '
                   'transcript: %s', name, len(effects),
                   data.first_names(effects))
    return utterances

  def _split_generators(self, dl_manager):
    del dl_manager  # the corpus comes from Debian packages, not downloads
    utterances = [u for v in self.builder_config.voices
                  for u in self._voice_utterances(v)]
    splits = data.screen(utterances, SAMPLE_RATE, self._strict,
                         f'asterisk_voices/{self.builder_config.name}')
    return {name: self._generate_examples(utts)
            for name, utts in splits.items()}

  def _generate_examples(self, utterances):
    yield from data.generate_examples(utterances, SAMPLE_RATE)
