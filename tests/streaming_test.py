"""Vocoder.stream: chunks of mel in, audio out; equal to generate, exactly."""

import jax
import numpy as np
import pytest

from experiments.configs import wavernn
from wavernn_jax import vocoder as vocoder_lib
from wavernn_jax.synthesis import streaming

FRAMES = 26


def _vocoder(**model):
  config = wavernn.get_config('preset=tiny')
  config.model.update(model)
  v = vocoder_lib.Vocoder.from_config(config, seed=0)
  # Peaky distributions: any difference in the inputs shows in the draws.
  v.params = jax.tree_util.tree_map(lambda x: x * 3.0, v.params)
  return v


def _mel(voc, frames=FRAMES, seed=0):
  rng = np.random.default_rng(seed)
  t = np.arange(frames * voc.hop_length)
  wave = (0.3 * np.sin(2 * np.pi * 180 * t / 16000) * np.sin(t / 700) +
          0.05 * rng.normal(size=t.size))
  return voc.mel(wave.astype(np.float32))[0]


def _chunks(mel, sizes):
  out, start = [], 0
  while start < len(mel):
    for n in sizes:
      if start < len(mel):
        out.append(mel[start:start + n])
        start += n
  return out


# The recipe of the shipped models (pre-emphasis, LPC, pitch, linear
# upsampling) and the plain cell; a wider conv stack than tiny's default.
MODELS = {
    'plain': {},
    'lpc_pitch_linear': dict(emphasis=0.85, lpc_order=16, pitch=True,
                             upsample='linear', cond_layers=3),
    'mulaw': dict(mulaw=True, emphasis=0.85),
}


@pytest.mark.parametrize('name', sorted(MODELS))
def test_stream_equals_generate_for_any_chunking(name):
  voc = _vocoder(**MODELS[name])
  mel = _mel(voc)
  whole, _ = voc.generate(mel[None], seed=11)
  assert len(np.unique(whole)) > 20
  for sizes in ([1], [7], [3, 11, 1, 25]):  # The last: 3, 11, 1, 11.
    parts = list(voc.stream(_chunks(mel, sizes), seed=11))
    assert all(p.dtype == np.int16 and p.ndim == 1 for p in parts)
    np.testing.assert_array_equal(np.concatenate(parts), whole[0],
                                  err_msg=f'{name} in chunks of {sizes}')
  # Another seed, other draws (the seed is used).
  other = np.concatenate(list(voc.stream(_chunks(mel, [7]), seed=12)))
  assert (other != whole[0]).mean() > 0.5


def test_audio_comes_as_soon_as_the_lookahead_allows():
  voc = _vocoder(upsample='linear', cond_layers=2, cond_kernel=5)
  look = streaming.lookahead_frames(voc.model_config)
  assert look == 2 * 2 + 1
  mel = _mel(voc, frames=20)
  got = []

  def frames():
    for k in range(len(mel)):
      yield mel[k:k + 1]
      got.append(k)  # Resumed: the audio yielded after frame k arrived.

  sizes = {}
  for audio in voc.stream(frames()):
    sizes[len(got)] = len(audio) // voc.hop_length
  # After frame k (k + 1 frames in), frames up to k + 1 - look are final.
  assert sizes[look] == 1  # The first audio, right after frame `look`.
  assert all(n == 1 for k, n in sizes.items() if k < len(mel))
  assert sizes[len(mel)] == look  # The tail, when the stream ends.


def test_lookahead_is_the_measured_receptive_field():
  """Perturbing mel frame j changes the conditioning of frames j - look ..
  j + radius and no others."""
  voc = _vocoder(upsample='linear', cond_layers=2, cond_kernel=5)
  mel = _mel(voc, frames=30)
  base = np.asarray(voc.conditioning(mel[None]))
  moved = mel.copy()
  moved[15] += 1.0
  diff = np.asarray(voc.conditioning(moved[None])) - base
  changed = np.flatnonzero(np.abs(diff[0]).max(-1) > 0)
  look = streaming.lookahead_frames(voc.model_config)
  radius = streaming.radius_frames(voc.model_config)
  assert changed.min() == 15 - look and changed.max() == 15 + radius


@pytest.mark.parametrize('chunk, match', [
    (np.zeros((3, 5), np.float32), r'shape \(3, 5\)'),
    (np.zeros((0, 16), np.float32), r'shape \(0, 16\)'),
    (np.zeros((3, 16), np.int16), 'must be float'),
    (np.full((3, 16), np.nan, np.float32), 'NaN'),
])
def test_bad_chunks_are_one_line(chunk, match):
  voc = _vocoder()
  good = _mel(voc, frames=8)
  with pytest.raises(vocoder_lib.InputError, match=match) as e:
    list(voc.stream([good, chunk]))
  assert '\n' not in str(e.value) and 'frame 8' in str(e.value)


def test_a_subscale_model_is_refused():
  config = wavernn.get_config(
      'variant=subscale,preset=tiny,batch_factor=4,horizon=2')
  # Refused before any parameter is read (initialising one costs ~14 s).
  voc = vocoder_lib.Vocoder(config, params=None)
  with pytest.raises(vocoder_lib.InputError, match='generate'):
    list(voc.stream([np.zeros((4, voc.n_mels), np.float32)]))
