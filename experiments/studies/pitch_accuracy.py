r"""How well `pitch.from_mel` finds the pitch, against pYIN on the audio.

  PYTHONPATH=. python experiments/studies/pitch_accuracy.py [--utterances=8] [--split=test]

Prints one JSON line: over the frames pYIN (librosa, 60-400 Hz, on the
audio itself) calls voiced, the share whose mel-derived period is within
5 % / 10 % of pYIN's, the share of octave errors (double or half), the
median relative error, and how the mel-derived voicing separates pYIN's
voiced frames from the rest (medians and the probability that a voiced
frame scores above an unvoiced one).
"""

import json
import sys

from absl import app
from absl import flags
import librosa
import numpy as np

from experiments.configs import wavernn
from wavernn_jax.features import mel as mel_lib
from wavernn_jax.features import pitch
from wavernn_jax.features import quantization
from wavernn_jax.training import input_pipeline

_UTTERANCES = flags.DEFINE_integer('utterances', 8, 'utterances scored')
_SPLIT = flags.DEFINE_string('split', 'test', 'dataset split')


def main(argv):
  del argv
  if _UTTERANCES.value < 1:
    sys.exit(f'error: --utterances={_UTTERANCES.value} scores nothing; give '
             'at least 1.')
  config = wavernn.get_config('preset=demo')
  cfg = mel_lib.MelConfig(**config.mel.to_dict())
  source = input_pipeline.load_split(config, _SPLIT.value)
  hop, lo, hi = cfg.hop_length, *pitch.lag_range(cfg)
  rows = []
  for i in range(min(_UTTERANCES.value, len(source))):
    audio = np.asarray(source[i]['audio'])
    wave = quantization.to_float(audio[:len(audio) // hop * hop])
    period, voicing = (np.asarray(a)[0] for a in pitch.from_mel(
        mel_lib.log_mel(wave[None], cfg), cfg))
    f0, voiced, _ = librosa.pyin(
        np.asarray(wave, np.float64), fmin=cfg.sample_rate / hi,
        fmax=cfg.sample_rate / lo, sr=cfg.sample_rate, frame_length=cfg.n_fft,
        hop_length=hop, center=True)
    rows.append((period, voicing, f0[:len(period)], voiced[:len(period)]))
  period, voicing, f0, voiced = (np.concatenate(r) for r in zip(*rows))
  ref = cfg.sample_rate / f0
  v = voiced & np.isfinite(ref)
  ratio = period[v] / ref[v]
  err = np.abs(ratio - 1)
  print(json.dumps(dict(
      frames=int(len(period)), pyin_voiced_frames=int(v.sum()),
      within_5pct=float(np.mean(err <= 0.05)),
      within_10pct=float(np.mean(err <= 0.10)),
      octave_errors=float(np.mean((np.abs(ratio - 2) < 0.1) |
                                  (np.abs(ratio - 0.5) < 0.05))),
      median_relative_error=float(np.median(err)),
      voicing_median_voiced=float(np.median(voicing[v])),
      voicing_median_unvoiced=float(np.median(voicing[~voiced])),
      voicing_auc=float(np.mean(voicing[v][:, None] >
                                voicing[~voiced][None, :])))))


if __name__ == '__main__':
  app.run(main)
