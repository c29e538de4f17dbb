"""Held-out NLL of a trained vocoder, and copy-synthesis of audio files."""

import glob
import os
import time

from absl import logging
import ml_collections
import numpy as np

from wavernn_jax import vocoder as vocoder_lib
from wavernn_jax.evaluation import baselines
from wavernn_jax.features import mel as mel_lib
from wavernn_jax.training import input_pipeline
from wavernn_jax.utils import audio_io
from wavernn_jax.utils import errors
from wavernn_jax.utils import plotting
from wavernn_jax.utils import timing

LN2 = np.log(2.0)
_BUCKET_FRAMES = 32  # Eval batches are padded to a multiple of this (compiles).


def nll_bits_per_sample(voc: vocoder_lib.Vocoder, utterances,
                        batch_size: int = 16) -> dict:
  """Teacher-forced NLL (bits per 16-bit sample) over whole utterances.

  Returns:
    nll_bits_per_sample and its coarse and fine parts (nll_coarse_bits,
    nll_fine_bits), num_samples and num_utterances.
  """
  total, count, t0 = np.zeros(2), 0, time.time()
  bucket = _BUCKET_FRAMES * voc.hop_length
  for i, (audio, mask) in enumerate(input_pipeline.utterance_batches(
      utterances, bucket, batch_size)):
    mel = voc.mel(audio) if voc.model_config.conditional else None
    lp = voc.log_prob(audio, mel, parts=True)
    total -= lp[mask].sum(0)
    count += int(mask.sum())
    logging.info('evaluated batch %d (%d samples so far, %.1f s)', i + 1,
                 count, time.time() - t0)
  if count == 0:
    raise errors.UserError('nothing to evaluate: no audio samples.')
  coarse, fine = (float(x) for x in total / count / LN2)
  return {'nll_bits_per_sample': coarse + fine, 'nll_coarse_bits': coarse,
          'nll_fine_bits': fine, 'num_samples': count,
          'num_utterances': len(utterances)}


def griffin_lim(mel_FxM, mel_config, n_iter: int = 32) -> np.ndarray:
  """Non-neural baseline: invert log-mel frames with Griffin-Lim (librosa)."""
  import librosa  # pylint: disable=g-import-not-at-top
  c = mel_config
  stft = librosa.feature.inverse.mel_to_stft(
      np.exp(np.asarray(mel_FxM, np.float64)).T, sr=c.sample_rate,
      n_fft=c.n_fft, power=1.0, fmin=c.fmin, fmax=c.fmax)
  # Its initial phase is random: fixed here, so reruns give the same scores.
  wave = librosa.griffinlim(stft, n_iter=n_iter, hop_length=c.hop_length,
                            win_length=c.win_length, random_state=0)
  t = len(mel_FxM) * c.hop_length
  wave = np.pad(wave, (0, max(t - len(wave), 0)))[:t]
  return np.clip(np.round(wave * 32768), -32768, 32767).astype(np.int16)


def copy_synthesis_quality(voc: vocoder_lib.Vocoder, utterances,
                           seed: int = 0, with_griffin_lim: bool = True):
  """Mean PESQ-WB / STOI / MCD of vocoded (and Griffin-Lim) utterances."""
  from wavernn_jax.evaluation import metrics  # pylint: disable=g-import-not-at-top
  scores = {'model': [], 'griffin_lim': []}
  for i, audio in enumerate(utterances):
    audio = audio[:len(audio) // voc.hop_length * voc.hop_length]
    mel = voc.mel(audio)
    gen, _ = voc.generate(mel, seed=seed + i)
    scores['model'].append(metrics.copy_synthesis_scores(
        audio, gen[0], voc.sample_rate, voc.mel_config))
    if with_griffin_lim:
      scores['griffin_lim'].append(metrics.copy_synthesis_scores(
          audio, griffin_lim(mel[0], voc.mel_config), voc.sample_rate,
          voc.mel_config))
    logging.info('copy-synthesis %d/%d: %s', i + 1, len(utterances),
                 scores['model'][-1])
  return summarize_scores(scores, len(utterances))


class QualityError(errors.UserError):
  """Too many utterances could not be scored to report a mean."""


# PESQ may refuse an utterance (e.g. no speech found); more failures than
# this fraction fail the evaluation instead of shrinking the mean.
MAX_PESQ_FAILURES = 1 / 8


def summarize_scores(scores: dict, n: int) -> dict:
  """Means of per-utterance scores {'model': [row, ...], 'griffin_lim': ...}.

  PESQ-WB is NaN where the `pesq` library refused an utterance: each one is
  logged, the mean covers the others and `pesq_wb_utterances` says how
  many it covers. More than one failure in eight raises QualityError.
  """
  out = {}
  for name, rows in scores.items():
    if not rows:
      continue
    prefix = '' if name == 'model' else name + '_'
    pesq = np.asarray([r['pesq_wb'] for r in rows], np.float64)
    failed = [i for i, v in enumerate(pesq) if not np.isfinite(v)]
    for i in failed:
      logging.warning('PESQ-WB failed on utterance %d of %d (%s).', i + 1,
                      len(rows), name)
    if len(failed) > MAX_PESQ_FAILURES * len(rows):
      raise QualityError(
          f'PESQ-WB failed on {len(failed)} of {len(rows)} utterances '
          f'({name}: {", ".join(str(i + 1) for i in failed)}), more than one '
          'in eight; check that they hold speech, or score other '
          'utterances (--quality=N, --wav_dir).')
    ok = pesq[np.isfinite(pesq)]
    out[prefix + 'pesq_wb'] = float(ok.mean()) if ok.size else float('nan')
    out[prefix + 'pesq_wb_utterances'] = int(ok.size)
    for key in ('stoi', 'mcd_db'):
      out[prefix + key] = float(np.mean([r[key] for r in rows]))
  out['quality_utterances'] = n
  return out


def read_wav_dir(wav_dir: str, sample_rate: int):
  """All wav/flac files under a folder, as int16 at `sample_rate`."""
  paths = sorted(p for ext in ('wav', 'flac', 'WAV', 'FLAC') for p in
                 glob.glob(os.path.join(wav_dir, '**', f'*.{ext}'),
                           recursive=True))
  if not paths:
    raise errors.UserError(f'no .wav or .flac files found in {wav_dir}; point '
                           '--wav_dir at a folder of audio files.')
  return [audio_io.read_audio(p, sample_rate) for p in paths]


def _training_split(config, needed: bool):
  """The run's training split, for the linear-prediction baseline.

  With `needed` False (scoring a --wav_dir), a machine without the training
  corpus scores without the baseline (None, and a warning that says how to
  get it) instead of failing.
  """
  try:
    return input_pipeline.load_split(config, 'train')
  except (errors.UserError, FileNotFoundError) as e:
    if needed:
      raise
    logging.warning(
        'No linear-prediction baseline (lpc_bits_per_sample is null): it is '
        'fitted on the training split of data.name=%s, which this machine '
        'cannot read (%s). Install or point data.manual_dir / data.data_dir '
        'at that corpus to get it.', config.data.name,
        str(e).splitlines()[0] if str(e) else type(e).__name__)
    return None


def evaluate(workdir: str, wav_dir: str | None = None, split: str = 'test',
             batch_size: int = 16, with_baseline: bool = True,
             quality_utterances: int = 0, average: bool = True,
             seed: int = 0, dataset: str | None = None,
             kernel: str | None = None,
             sample_dtype: str | None = None) -> dict:
  """NLL of a workdir's latest checkpoint on a split or a folder of wavs.

  `dataset` scores another dataset's split than the run's own (e.g.
  'asterisk_voices/fr', a voice it was not trained on); its training split
  then fits the linear-prediction baseline.

  Returns:
    A JSON-able dict with nll_bits_per_sample, num_samples, num_utterances,
    the step, and the reference NLLs (uniform; linear prediction fitted on
    the training split; null for a `wav_dir` on a machine without the
    training corpus); with quality_utterances > 0,
    also the copy-synthesis scores pesq_wb, stoi, mcd_db of the first
    quality_utterances utterances, and those of Griffin-Lim on the same mels;
    averaged_params: whether the Polyak average was scored (`average` and
    the run kept one, train.ema_decay). Copy-synthesis vocodes utterance i
    with seed `seed` + i (`quality_seed`): other seeds, other draws.
    `sample_dtype`: `Vocoder.restore`'s sparse_dtype, the storage of the
    block-sparse weights that the NLL and copy-synthesis both use.
  """
  voc = vocoder_lib.Vocoder.restore(workdir, average=average, kernel=kernel,
                                    sparse_dtype=sample_dtype)
  data_config = voc.config
  if dataset:
    data_config = ml_collections.ConfigDict(voc.config.to_dict())
    data_config.data.update(name=dataset, manual_dir='')
  if wav_dir:
    utterances = read_wav_dir(wav_dir, voc.sample_rate)
  else:
    source = input_pipeline.load_split(data_config, split)
    utterances = [np.asarray(source[i]['audio']) for i in range(len(source))]
  result = nll_bits_per_sample(voc, utterances, batch_size)
  result.update(split=wav_dir or split, step=voc.step,
                dataset=None if wav_dir else data_config.data.name,
                averaged_params=voc.averaged,
                sample_dtype=np.dtype(voc.sparse_dtype).name,
                uniform_bits_per_sample=baselines.UNIFORM_BITS)
  if with_baseline:
    train = _training_split(data_config, needed=not wav_dir)
    if train is None:
      result['lpc_bits_per_sample'] = None
    else:
      lpc = baselines.LinearPredictor.fit(
          np.asarray(train[i]['audio']) for i in range(len(train)))
      result['lpc_bits_per_sample'] = lpc.nll_bits(utterances)
  if quality_utterances:
    result.update(copy_synthesis_quality(voc, utterances[:quality_utterances],
                                         seed=seed))
    result['quality_seed'] = seed
  return result


def vocode_file(voc: vocoder_lib.Vocoder, input_path: str, output_path: str,
                *, seed: int = 0, temperature: float = 1.0,
                fold: bool = False, stream_frames: int = 0) -> dict:
  """Copy-synthesis: mel of `input_path` -> audio at `output_path` (+ PNG).

  Writes `output_path` and `<output_path minus .wav>.png` comparing the
  spectrograms of the input and the output; both are written atomically.
  `stream_frames` > 0 vocodes through `Vocoder.stream`, that many frames
  a chunk (see `vocode_mel`).
  """
  _check_output(output_path)
  audio = audio_io.read_audio(input_path, voc.sample_rate)
  t = len(audio) // voc.hop_length * voc.hop_length
  if t == 0:
    raise audio_io.AudioFileError(f'{input_path} is shorter than one frame.')
  return vocode_mel(voc, voc.mel(audio[:t])[0], output_path, label=input_path,
                    seed=seed, temperature=temperature, fold=fold,
                    stream_frames=stream_frames)


def vocode_mel_file(voc: vocoder_lib.Vocoder, mel_path: str,
                    output_path: str, **kwargs) -> dict:
  """A mel from another front-end (`.npy` / `.npz`, float [frames, n_mels],
  `voc.mel_spec`'s definition) -> audio at `output_path` (+ PNG)."""
  _check_output(output_path)
  return vocode_mel(voc, mel_lib.load(mel_path), output_path,
                    label=mel_path, **kwargs)


def _check_output(output_path: str) -> None:
  out_dir = os.path.dirname(os.path.abspath(output_path))
  if not os.path.isdir(out_dir) or not os.access(out_dir, os.W_OK):
    raise audio_io.AudioFileError(
        f'cannot write {output_path}: {out_dir} is not a writable folder; '
        'create it or choose another --output.')


def vocode_mel(voc: vocoder_lib.Vocoder, mel_FxM, output_path: str, *,
               label: str = 'mel', seed: int = 0, temperature: float = 1.0,
               fold: bool = False, stream_frames: int = 0) -> dict:
  """Mel frames [F, n_mels] -> audio at `output_path` (+ spectrogram PNG).

  With `stream_frames` > 0 the mel goes to `Vocoder.stream` in chunks of
  that many frames, as a TTS front-end would hand them over, and the audio
  is written as it comes, to `<output_path>.partial` (renamed when done);
  the result then has `first_audio_seconds`, from the first chunk handed
  over to the first audio back (compiling included on a first call). The
  audio equals the whole-mel call's with the same seed.
  """
  mel = voc.check_mel(mel_FxM)
  if mel is None or mel.shape[0] != 1:
    raise vocoder_lib.InputError(f'{label}: give one utterance\'s mel, '
                                 '[frames, n_mels].')
  if stream_frames and fold:
    raise errors.UserError('streaming and folded sampling do not combine; '
                           'drop --fold or --stream.')
  frames = mel.shape[1]
  t = frames * voc.hop_length
  t0, last = time.time(), [0.0]

  def progress(done, total):
    if time.time() - last[0] > 2 or done == total:
      last[0] = time.time()
      rate = done * voc.hop_length / max(time.time() - t0, 1e-9)
      logging.info('vocoding %s: %d/%d frames, %.0f samples/s, ETA %.0f s',
                   label, done, total, rate,
                   (total - done) * voc.hop_length / max(rate, 1e-9))

  first = None
  with timing.CompileTimer() as compiled:
    if stream_frames:
      first, audio = _stream_to_wav(voc, mel[0], output_path, stream_frames,
                                    seed, temperature, progress)
    else:
      gen, _ = voc.generate(mel, seed=seed, temperature=temperature,
                            fold=fold, progress=progress)
      audio = gen[0]
  seconds = time.time() - t0
  if not stream_frames:
    audio_io.write_wav(output_path, audio, voc.sample_rate)
  png = os.path.splitext(output_path)[0] + '.png'
  plotting.save_figure(plotting.compare_spectrograms(
      mel[0], voc.mel(audio)[0], voc.sample_rate, voc.hop_length), png)
  out = {'input': label, 'output': output_path, 'spectrogram': png,
         'samples': int(t), 'seconds': seconds,
         'samples_per_sec': t / seconds,
         # Compiling (first call of a shape) apart from generating.
         'compile_seconds': compiled.seconds,
         'samples_per_sec_excl_compile': t / max(seconds - compiled.seconds,
                                                  1e-9)}
  if stream_frames:
    out.update(stream_frames=stream_frames, first_audio_seconds=first)
  return out


def _stream_to_wav(voc, mel_FxM, output_path, chunk, seed, temperature,
                   progress):
  """`Vocoder.stream` over chunks of the mel, each audio chunk appended to
  `<output_path>.partial` as it comes; renamed to `output_path` at the end
  (removed on an error). Returns (seconds to the first audio, the audio)."""
  import soundfile as sf  # pylint: disable=g-import-not-at-top
  partial = output_path + '.partial'
  frames = mel_FxM.shape[0]
  pieces, first, t0 = [], None, time.time()
  try:
    with sf.SoundFile(partial, 'w', samplerate=voc.sample_rate, channels=1,
                      subtype='PCM_16', format='WAV') as f:
      chunks = (mel_FxM[i:i + chunk] for i in range(0, frames, chunk))
      for audio in voc.stream(chunks, seed=seed, temperature=temperature):
        if first is None:
          first = time.time() - t0
        f.write(audio)
        f.flush()
        pieces.append(audio)
        progress(sum(map(len, pieces)) // voc.hop_length, frames)
    os.replace(partial, output_path)
  except BaseException:
    if os.path.exists(partial):
      os.remove(partial)
    raise
  return first, np.concatenate(pieces)
