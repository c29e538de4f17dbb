"""The Vocoder API: train/sample agreement, the sampler oracle, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments.configs import wavernn
from wavernn_jax import vocoder as vocoder_lib
from wavernn_jax.features import quantization
from wavernn_jax.synthesis import numpy_sampler
from wavernn_jax.synthesis import sampling
from wavernn_jax.synthesis import sparse_sampling
from wavernn_jax.synthesis import windows

FRAMES = 6


@pytest.fixture(scope='module')
def voc():
  config = wavernn.get_config('preset=tiny')
  v = vocoder_lib.Vocoder.from_config(config, seed=0)
  # Larger random weights than the init, so the distributions are peaky and
  # any mismatch between the two graphs shows.
  v.params = jax.tree_util.tree_map(lambda x: x * 3.0, v.params)
  return v


def _mel(voc, seed=0, batch=1, frames=FRAMES):
  rng = np.random.default_rng(seed)
  wave = 0.3 * rng.normal(size=(batch, frames * voc.hop_length))
  return voc.mel(wave.astype(np.float32))


def test_properties(voc):
  assert (voc.sample_rate, voc.hop_length, voc.n_mels) == (16000, 64, 16)
  assert all(isinstance(x, int) for x in (voc.sample_rate, voc.hop_length,
                                          voc.n_mels))


def test_mel_accepts_int16_and_float_1d_and_2d(voc):
  wave = (np.sin(np.arange(640) / 5) * 0.5).astype(np.float32)
  m1 = voc.mel(wave)
  m2 = voc.mel(np.round(wave * 32768).astype(np.int16)[None])
  assert m1.shape == (1, 10, 16)
  np.testing.assert_allclose(m1, m2, atol=1e-2)  # int16 rounding.


@pytest.mark.parametrize('temperature', [1.0, 0.7])
def test_generate_agrees_with_log_prob(voc, temperature):
  """ln P reported by the sampler == teacher-forced ln P of its output."""
  mel = _mel(voc, batch=2)
  audio, lp = voc.generate(mel, seed=3, temperature=temperature)
  assert audio.dtype == np.int16 and audio.shape == (2, FRAMES * 64)
  lp_tf = voc.log_prob(audio, mel)
  np.testing.assert_allclose(lp, lp_tf, rtol=1e-4, atol=1e-4)
  assert len(np.unique(audio)) > 10  # really sampled, not constant.


def check_against_numpy_reference(voc, mel, seed: int = 5):
  """`generate` draws what the NumPy step loop draws from the same uniforms."""
  frames = mel.shape[1]
  audio, _ = voc.generate(mel, seed=seed)
  w = voc.weights()
  xin = voc.conditioning(mel)
  key = jax.random.key(seed)
  uniforms = np.stack([jax.random.uniform(jax.random.fold_in(key, k),
                                          (voc.hop_length, 1, 2))
                       for k in range(frames)])
  ref = numpy_sampler.NumpySampler(w).run(np.asarray(xin), uniforms)
  # float32 rounding may flip a draw that sits on a CDF boundary; the rest
  # (and the first samples) must match exactly.
  assert (ref == audio).mean() > 0.95
  np.testing.assert_array_equal(ref[:, :32], audio[:, :32])


def test_sampler_matches_numpy_reference(voc):
  check_against_numpy_reference(voc, _mel(voc, seed=1))


def test_generate_is_deterministic_per_seed(voc):
  mel = _mel(voc)
  a1, _ = voc.generate(mel, seed=1)
  a2, _ = voc.generate(mel, seed=1)
  a3, _ = voc.generate(mel, seed=2)
  np.testing.assert_array_equal(a1, a2)
  assert (a1 != a3).any()


def test_any_length_compiles_the_sampler_and_the_conditioning_once(voc):
  """Issue 38: fixed-shape chunks, the last padded; no length compiles."""
  programs = (sampling.sample, sampling.sample_fused,
              windows._window_conditioning)
  voc.generate(_mel(voc, frames=5))  # The first call compiles both ...
  sizes = [p._cache_size() for p in programs]
  # ... the conditioning and the sampler model.kernel picks (auto: fused
  # where built, for this scalar-input cell).
  fused = sampling.pick_fused(voc.sampler_weights(), voc.model_config.kernel)
  assert sizes[1 if fused else 0] >= 1 and sizes[2] >= 1
  n, c = vocoder_lib.GENERATE_CHUNK_FRAMES, vocoder_lib.COND_WINDOW_FRAMES
  for frames in (3, n - 1, n, n + 1, c + 3, 2 * c + n + 7, 4, 41, 90):
    audio, lp = voc.generate(_mel(voc, frames=frames))
    assert audio.shape == lp.shape == (1, frames * voc.hop_length)
  assert [p._cache_size() for p in programs] == sizes


def test_chunked_generate_equals_one_unchunked_scan(voc):
  """The windowed conditioning and the padded chunks change nothing: the
  same samples as one sampler call over the whole utterance's terms."""
  frames = vocoder_lib.COND_WINDOW_FRAMES + 21  # Two windows, 6 chunks.
  mel = _mel(voc, frames=frames, seed=4)
  audio, lp = voc.generate(mel, seed=5)
  xin = voc.conditioning(mel)
  w = voc.sampler_weights()
  ref, ref_lp, _ = sampling.sample(w, xin, jax.random.key(5),
                                   jnp.float32(1.0), voc.hop_length)
  ref = np.asarray(quantization.deemphasise(
      ref, float(voc.model_config.emphasis))) if voc.model_config.emphasis \
      else np.asarray(ref)
  np.testing.assert_array_equal(audio, ref)
  # ln P as the other program rounds it (the draws above are exact).
  np.testing.assert_allclose(lp, ref_lp, rtol=1e-5, atol=1e-5)


def test_a_shorter_input_gives_the_same_first_samples(voc):
  """Chunking is invisible: the draws depend on the frame index only."""
  long_mel = _mel(voc, frames=150)
  short, _ = voc.generate(long_mel[:, :77], seed=3)
  full, _ = voc.generate(long_mel, seed=3)
  # The conditioning of a frame sees cond_radius frames on each side.
  keep = (77 - voc.model_config.cond_radius) * voc.hop_length
  np.testing.assert_array_equal(short[:, :keep], full[:, :keep])


def test_folded_generation_is_its_segments_cross_faded(voc):
  """fold=True samples the overlapping segments of `sampling.fold` as one
  batch and cross-fades them: each segment's core (outside the overlaps)
  is that segment's row exactly, and the whole is `sampling.unfold` of the
  rows."""
  frames, target, overlap, hop = 40, 10, 2, voc.hop_length
  mel = _mel(voc, frames=frames)
  audio, lp = voc.generate(mel, fold=True, target_frames=target,
                           overlap_frames=overlap, seed=4)
  assert audio.shape == (1, frames * hop) and lp.shape == audio.shape
  assert np.isfinite(lp).all() and len(np.unique(audio)) > 20
  xin = vocoder_lib.window_terms(voc.net, voc.params, mel, 0, frames)
  segs = sampling.fold(xin[:, :frames], target, overlap)
  rows, _ = voc.sample_terms(segs, 4, 1.0)  # [K, (target + 2 overlap) hop].
  assert rows.shape == (4, (target + 2 * overlap) * hop)
  want = sampling.unfold(rows.astype(np.float32), target, overlap, hop, frames)
  np.testing.assert_array_equal(
      audio, np.clip(np.round(want), -32768, 32767).astype(np.int16))
  for k in range(4):  # Cores: between this segment's two overlaps.
    lo, hi = k * target + overlap, (k + 1) * target - overlap
    core = slice(max(lo, 0) * hop, min(hi, frames) * hop)
    row = slice((max(lo, 0) - k * target + overlap) * hop,
                (min(hi, frames) - k * target + overlap) * hop)
    np.testing.assert_array_equal(audio[0, core], rows[k, row])


@pytest.mark.parametrize('frames, target, overlap', [
    (40, 10, 2), (37, 10, 2), (9, 10, 3), (25, 6, 3)])
def test_fold_then_unfold_reconstructs_a_known_signal(frames, target,
                                                      overlap):
  """Segments that each hold the true signal over their frames (a perfect
  sampler) overlap-add back to it exactly, at any length."""
  hop = 4
  x = np.random.default_rng(frames).normal(size=frames * hop).astype(
      np.float32)
  seg = np.asarray(sampling.fold(jnp.asarray(x.reshape(1, frames, hop)),
                                 target, overlap))
  assert seg.shape == (-(-frames // target), target + 2 * overlap, hop)
  out = sampling.unfold(seg.reshape(seg.shape[0], -1), target, overlap, hop,
                        frames)
  np.testing.assert_allclose(out, x[None], rtol=1e-6, atol=1e-6)


def test_the_crossfade_is_continuous_at_the_joins():
  """Segments that disagree (each a different constant) are joined by
  ramps: no sample jumps by more than one ramp step, and each join moves
  monotonically from one segment's value to the next one's."""
  hop, target, overlap, frames = 4, 10, 2, 40
  levels = np.array([0.0, 1.0, -2.0, 0.5], np.float32)
  seg = np.repeat(levels[:, None], (target + 2 * overlap) * hop, 1)
  out = sampling.unfold(seg, target, overlap, hop, frames)[0]
  ramp = overlap * hop  # The fade: the second half of the shared frames.
  assert np.abs(np.diff(out)).max() <= np.abs(np.diff(levels)).max() / ramp \
      * (1 + 1e-5)
  for k in range(1, len(levels)):
    join = out[k * target * hop - ramp:k * target * hop + ramp]
    np.testing.assert_allclose(join[[0, -1]], levels[[k - 1, k]],
                               atol=np.abs(levels[k] - levels[k - 1]) / ramp)
    steps = np.diff(join) * np.sign(levels[k] - levels[k - 1])
    assert (steps >= -1e-6).all()


def test_crossfade_weights_sum_to_one():
  w = sampling.crossfade_weights(10, 2, 4)
  step = 10 * 4
  total = np.zeros(3 * step + len(w))
  for k in range(4):
    total[k * step:k * step + len(w)] += w
  # Away from the outer ends, neighbouring fades add up to exactly one.
  np.testing.assert_allclose(total[len(w) - 8:3 * step], 1.0, atol=1e-6)


def test_unconditional_mode():
  config = wavernn.get_config('preset=tiny,conditional=false')
  v = vocoder_lib.Vocoder.from_config(config)
  audio, lp = v.generate(None, num_samples=300, batch_size=2)
  assert audio.shape == (2, 320)
  np.testing.assert_allclose(v.log_prob(audio, None), lp, rtol=1e-4,
                             atol=1e-4)


@pytest.mark.parametrize('mel, match', [
    (np.zeros((1, 4, 7), np.float32), 'shape'),
    (np.zeros((1, 4, 16), np.int32), 'float'),
    (np.full((1, 4, 16), np.nan, np.float32), 'NaN'),
    (None, 'conditional'),
])
def test_bad_mel_is_refused(voc, mel, match):
  with pytest.raises(vocoder_lib.InputError, match=match):
    voc.generate(mel)


def test_bad_audio_is_refused(voc):
  with pytest.raises(vocoder_lib.InputError, match='int16'):
    voc.log_prob(np.zeros((1, 128), np.float32), np.zeros((1, 2, 16)))
  with pytest.raises(vocoder_lib.InputError, match='multiple'):
    voc.log_prob(np.zeros((1, 100), np.int16), np.zeros((1, 1, 16)))
  with pytest.raises(vocoder_lib.InputError, match='shape'):
    voc.log_prob(np.zeros((1, 128), np.int16), np.zeros((1, 3, 16)))
  with pytest.raises(vocoder_lib.InputError, match='temperature'):
    voc.generate(_mel(voc), temperature=0.0)


@pytest.mark.parametrize('target, overlap, match', [
    (0, 0, 'target_frames=0'), (4, -1, 'overlap_frames=-1'),
    (2.5, 1, 'target_frames=2.5'), (4, 3, 'at least twice')])
def test_bad_fold_sizes_are_refused_before_sampling(voc, monkeypatch, target,
                                                    overlap, match):
  monkeypatch.setattr(vocoder_lib.Vocoder, 'sample_terms', None)  # Never reached.
  with pytest.raises(vocoder_lib.InputError, match=match) as e:
    voc.generate(_mel(voc), fold=True, target_frames=target,
                 overlap_frames=overlap)
  assert '\n' not in str(e.value)


def test_multiply_adds_per_sample_count_the_products_by_hand():
  config = wavernn.get_config('preset=tiny')  # H = 32, 16 mels, hop 64.
  voc = vocoder_lib.Vocoder.from_config(config)
  h, h2, m, c = 32, 16, 16, config.model.cond_channels
  cell = (h * 3 * h + 2 * 3 * h + 3 * h2  # R, I_prev, I_c
          + 2 * (h2 * h2 + h2 * 256))  # O1, O2 and O3, O4
  frame = 3 * m * c + c * 3 * h  # conv0 (kernel 3), I_cond
  assert config.model.cond_layers == 1 and config.model.cond_kernel == 3
  got = voc.multiply_adds_per_sample()
  assert got == dict(cell=cell, lpc=0, conditioning=frame / 64,
                     total=cell + frame / 64)
  # Pruning counts only what is left; LPC adds its taps and I_lpc.
  voc.prune(0.75, block=(16, 1))
  assert got['cell'] - voc.multiply_adds_per_sample()['cell'] == (
      0.75 * h * 3 * h)
  lpc = wavernn.get_config('preset=tiny')
  lpc.model.lpc_order = 4
  got = vocoder_lib.Vocoder.from_config(lpc).multiply_adds_per_sample()
  assert got['cell'] == cell + 2 * 3 * h and got['lpc'] == 4


def test_a_hifigan_mel_model_vocodes_a_mel_of_that_definition():
  """mel=hifigan: 22.05 kHz, hop 256; the model reads that front-end's mel
  and generate and log_prob agree in shape with it."""
  voc = vocoder_lib.Vocoder.from_config(
      wavernn.get_config('preset=tiny,mel=hifigan'))
  assert (voc.sample_rate, voc.hop_length, voc.n_mels) == (22050, 256, 80)
  assert voc.mel_spec['padding'].startswith('reflect, (n_fft - hop_length)')
  wave = 0.3 * np.sin(np.arange(6 * 256) * 0.05).astype(np.float32)
  mel = voc.mel(wave)
  assert mel.shape == (1, 6, 80)
  audio, lp = voc.generate(mel, seed=1)
  assert audio.shape == (1, 6 * 256) and np.isfinite(lp).all()
  assert np.isfinite(voc.log_prob(audio, mel)).all()
