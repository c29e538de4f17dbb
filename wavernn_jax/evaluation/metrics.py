"""Copy-synthesis quality: wide-band PESQ, STOI and mel-cepstral distortion.

All three compare a vocoded signal with the original it was made from (same
length, time-aligned, so no DTW is needed):

- `pesq_wb`: ITU-T P.862.2 wide-band PESQ (MOS-LQO, 1.04-4.64) from the
  `pesq` package, on audio resampled to 16 kHz.
- `stoi`: short-time objective intelligibility (0-1) from `pystoi`.
- `mcd_db`: mel-cepstral distortion in dB (Kubichek 1993),
  MCD = (10 / ln 10) * sqrt(2 * sum_{d=1..D} (c_d - c'_d)^2), averaged over
  frames, where c are mel-cepstra: the cosine-series coefficients of the
  natural-log mel magnitude spectrum L_m (our `mel.log_mel` frames, M bins),
  c_d = (1 / M) sum_m L_m cos(pi d (m + 1/2) / M), so that
  L ~ c_0 + 2 sum_d c_d cos(...) as for a real cepstrum; coefficients 1..D
  (D = 24; c_0, the frame energy, is left out as usual). Frames whose
  original is silent (energy 60 dB below the loudest frame) are skipped.
"""

import numpy as np
import scipy.fft

from wavernn_jax.features import mel as mel_lib
from wavernn_jax.utils import audio_io

MCD_ORDER = 24  # mel-cepstral coefficients c_1..c_D compared.
MCD_SILENCE_DB = 60.0  # frames this far below the loudest are skipped.
_MCD_SCALE = 10.0 / np.log(10.0) * np.sqrt(2.0)


def mel_cepstrum(log_mel_FxM: np.ndarray, order: int = MCD_ORDER):
  """Mel-cepstra c_0..c_order [F, order + 1] of log-mel magnitude frames."""
  log_mel_FxM = np.asarray(log_mel_FxM, np.float64)
  # scipy's unnormalised DCT-II is 2 sum_m L_m cos(...): divide by 2M.
  dct = scipy.fft.dct(log_mel_FxM, type=2, axis=-1)
  return dct[:, :order + 1] / (2 * log_mel_FxM.shape[-1])


def mcd_from_log_mels(ref_FxM, deg_FxM, order: int = MCD_ORDER) -> float:
  """Mean MCD in dB between two aligned log-mel sequences."""
  frames = min(len(ref_FxM), len(deg_FxM))
  ref, deg = np.asarray(ref_FxM)[:frames], np.asarray(deg_FxM)[:frames]
  energy = np.log(np.exp(ref).sum(-1) + 1e-12) * 20 / np.log(10)  # dB.
  keep = energy > energy.max() - MCD_SILENCE_DB
  c_ref, c_deg = mel_cepstrum(ref[keep], order), mel_cepstrum(deg[keep], order)
  diff = c_ref[:, 1:] - c_deg[:, 1:]
  return float(np.mean(_MCD_SCALE * np.sqrt((diff ** 2).sum(-1))))


def copy_synthesis_scores(reference, vocoded, sample_rate: int,
                          mel_config: mel_lib.MelConfig) -> dict:
  """PESQ-WB, STOI and MCD of `vocoded` against `reference` (int16 [T]).

  Returns:
    {'pesq_wb': float, 'stoi': float, 'mcd_db': float}; PESQ is NaN when
    the `pesq` library refuses the input (e.g. no speech detected).
  """
  import pesq as pesq_lib  # pylint: disable=g-import-not-at-top
  import pystoi  # pylint: disable=g-import-not-at-top
  n = min(len(reference), len(vocoded))
  ref = np.asarray(reference[:n], np.int16)
  deg = np.asarray(vocoded[:n], np.int16)
  ref16 = audio_io.resample(ref, sample_rate, 16000).astype(np.float32)
  deg16 = audio_io.resample(deg, sample_rate, 16000).astype(np.float32)
  try:
    pesq_wb = float(pesq_lib.pesq(16000, ref16 / 32768, deg16 / 32768, 'wb'))
  except Exception:  # pylint: disable=broad-except
    pesq_wb = float('nan')
  stoi = float(pystoi.stoi(ref / 32768.0, deg / 32768.0, sample_rate))
  mels = np.asarray(mel_lib.log_mel(np.stack([ref, deg]) / 32768.0,
                                    mel_config))
  return {'pesq_wb': pesq_wb, 'stoi': stoi,
          'mcd_db': mcd_from_log_mels(mels[0], mels[1])}
