"""Every shipped model restores and scores its model card's NLL."""

import glob
import json
import os

import pytest

from wavernn_jax import audio_io
from wavernn_jax import evaluate
from wavernn_jax import vocoder as vocoder_lib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CARDS = sorted(glob.glob(os.path.join(ROOT, 'pretrained', '*', 'card.json')))


def test_there_is_a_shipped_model():
  assert CARDS


@pytest.mark.parametrize('card_path', CARDS, ids=os.path.dirname)
def test_shipped_model_matches_its_card(card_path):
  with open(card_path) as f:
    card = json.load(f)
  voc = vocoder_lib.Vocoder.restore(os.path.dirname(card_path))
  assert voc.step == card['step']
  assert voc.model_config.hidden == card['hidden']
  clip = audio_io.read_audio(os.path.join(ROOT, card['clip']),
                             voc.sample_rate)
  nll = evaluate.nll_bits_per_sample(voc, [clip])['nll_bits_per_sample']
  assert abs(nll - card['clip_nll_bits_per_sample']) < 0.05
  assert nll < 12.0  # trained: far below the 16 bits of a uniform model.
  size = sum(os.path.getsize(os.path.join(d, f))
             for d, _, files in os.walk(os.path.dirname(card_path))
             for f in files)
  assert size < 20e6
