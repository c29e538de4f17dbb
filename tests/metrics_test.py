"""Copy-synthesis metrics on known values."""

import numpy as np
import pytest

from tests import fake_corpus
from wavernn_jax.evaluation import metrics
from wavernn_jax.features import mel as mel_lib


def test_mcd_hand_computed():
  rng = np.random.default_rng(0)
  ref = rng.normal(size=(50, 80))
  assert metrics.mcd_from_log_mels(ref, ref) == 0.0
  # A constant log-gain only moves c_0, which MCD leaves out.
  assert abs(metrics.mcd_from_log_mels(ref, ref + 3.0)) < 1e-9
  # Adding 2 a cos(pi 5 (m + 1/2) / M) to the log spectrum moves only c_5,
  # by a: MCD = 10 / ln 10 * sqrt(2) * a.
  m = np.arange(80)
  a = 0.7
  basis = 2 * np.cos(np.pi * (m + 0.5) * 5 / 80)
  expected = 10 / np.log(10) * np.sqrt(2) * a
  np.testing.assert_allclose(metrics.mcd_from_log_mels(ref, ref + a * basis),
                             expected, rtol=1e-9)


def test_scores_rank_clean_above_noisy():
  rng = np.random.default_rng(1)
  ref = fake_corpus.speech_like(rng, 2.0, 16000)
  noisy = np.clip(ref + rng.normal(0, 2000, ref.shape), -32768,
                  32767).astype(np.int16)
  cfg = mel_lib.MelConfig()
  same = metrics.copy_synthesis_scores(ref, ref, 16000, cfg)
  bad = metrics.copy_synthesis_scores(ref, noisy, 16000, cfg)
  assert same['pesq_wb'] > 4.5 and same['stoi'] > 0.99
  assert same['mcd_db'] == 0.0
  assert bad['pesq_wb'] < same['pesq_wb'] - 1.0
  assert bad['stoi'] < same['stoi'] and bad['mcd_db'] > 0.5


def _rows(pesq):
  return [{'pesq_wb': p, 'stoi': 0.9, 'mcd_db': 2.0} for p in pesq]


def test_pesq_failures_are_counted_not_averaged_away():
  from wavernn_jax.evaluation import evaluate  # pylint: disable=g-import-not-at-top
  nan = float('nan')
  out = evaluate.summarize_scores(
      {'model': _rows([2.0, nan, 3.0, 2.0, 2.0, 2.0, 2.0, 2.0]),
       'griffin_lim': _rows([2.5] * 8)}, 8)
  assert out['pesq_wb_utterances'] == 7 and out['quality_utterances'] == 8
  assert out['pesq_wb'] == pytest.approx(15.0 / 7)
  assert out['griffin_lim_pesq_wb_utterances'] == 8
  with pytest.raises(evaluate.QualityError, match='2 of 8 utterances'):
    evaluate.summarize_scores({'model': _rows([2.0, nan, nan] + [2.0] * 5)},
                              8)
