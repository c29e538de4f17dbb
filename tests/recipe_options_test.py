"""The recipe options (issue 11): pre-emphasis, embedded inputs, the linear
upsampler and residual conditioning blocks; each keeps training and sampling
in agreement."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments.configs import recipes
from experiments.configs import wavernn
from wavernn_jax import vocoder as vocoder_lib
from wavernn_jax.features import quantization
from wavernn_jax.models import model as model_lib
from wavernn_jax.training import config_checks

FRAMES = 6


def test_emphasis_hand_computed():
  x = np.array([[100, 200, -300, 7]], np.int16)
  # e_t = x_t - round(0.85 x_{t-1}): 100, 200 - 85, -300 - 170, 7 + 255.
  np.testing.assert_array_equal(quantization.emphasise(x, 0.85),
                                [[100, 115, -470, 262]])


def test_emphasis_then_deemphasis_is_exact_on_speech_like_audio():
  rng = np.random.default_rng(0)
  t = np.arange(16000)
  wave = (0.3 * np.sin(2 * np.pi * 180 * t / 16000) * np.sin(t / 900) +
          0.02 * rng.normal(size=t.size))
  x = quantization.to_int16(wave)[None]
  e = quantization.emphasise(x, 0.85)
  assert e.dtype == jnp.int16
  np.testing.assert_array_equal(quantization.deemphasise(e, 0.85), x)


def _wrap(v):
  return (v + 32768) % 65536 - 32768  # int64 reference of quantization.wrap.


def test_emphasis_is_a_bijection_on_full_scale_and_clipping_audio():
  """Every int16 sequence: emphasis and de-emphasis invert each other."""
  rng = np.random.default_rng(1)
  square = rng.choice(np.array([-32768, 32767], np.int16), size=(2, 4000))
  noise = rng.integers(-32768, 32768, size=(2, 4000)).astype(np.int16)
  t = np.arange(4000)
  clipped = np.clip(np.round(90000 * np.sin(2 * np.pi * 150 * t / 16000)),
                    -32768, 32767).astype(np.int16)[None]
  for x in (square, noise, clipped):
    e = quantization.emphasise(x, 0.85)
    np.testing.assert_array_equal(quantization.deemphasise(e, 0.85), x)
    np.testing.assert_array_equal(
        quantization.emphasise(quantization.deemphasise(x, 0.85), 0.85), x)
  # The int64 reference: e_t = wrap(x_t - round(0.85 x_{t-1})). On a
  # full-scale square wave e leaves the int16 range before the wrap (a
  # clip there would map two inputs to one e).
  x = square.astype(np.int64)
  prev = np.pad(x, ((0, 0), (1, 0)))[:, :-1]
  raw = x - np.round(np.float32(0.85) * prev.astype(np.float32)).astype(
      np.int64)
  assert raw.max() > 32767 or raw.min() < -32768
  np.testing.assert_array_equal(
      np.asarray(quantization.emphasise(square, 0.85), np.int64), _wrap(raw))


OPTIONS = {
    'emphasis': {'model.emphasis': 0.85},
    'embed': {'model.embed_inputs': True},
    'linear': {'model.upsample': 'linear', 'model.cond_res_blocks': 2},
    'bf16': {'model.matmul_dtype': 'bfloat16'},
    'mulaw': {'model.mulaw': True, 'model.emphasis': 0.85},
    'all': {'model.emphasis': 0.85, 'model.embed_inputs': True,
            'model.upsample': 'linear', 'model.cond_res_blocks': 1},
    'lpc': {'model.lpc_order': 16, 'model.emphasis': 0.85,
            'model.embed_inputs': True},
    'lpc_linear': {'model.lpc_order': 4, 'model.emphasis': 0.85,
                   'model.upsample': 'linear'},
    'pitch': {'model.pitch': True, 'model.lpc_order': 16,
              'model.emphasis': 0.85, 'model.embed_inputs': True},
}


def _vocoder(overrides, scale=3.0):
  config = wavernn.get_config('preset=tiny')
  for key, value in overrides.items():
    section, name = key.split('.')
    config[section][name] = value
  config_checks.validate(config)
  v = vocoder_lib.Vocoder.from_config(config, seed=0)
  # Peakier than the init, so a mismatch between the graphs shows.
  v.params = jax.tree_util.tree_map(lambda x: x * scale, v.params)
  return v


def _mel(voc, seed=0, batch=2):
  rng = np.random.default_rng(seed)
  wave = 0.3 * rng.normal(size=(batch, FRAMES * voc.hop_length))
  return voc.mel(wave.astype(np.float32))


@pytest.mark.parametrize('name', sorted(OPTIONS))
def test_generate_agrees_with_log_prob(name):
  voc = _vocoder(OPTIONS[name])
  # Random weights draw emphasised samples all over the int16 range: the
  # de-emphasised audio reaches full scale, where the wrap keeps generate
  # and log_prob in agreement.
  if voc.model_config.mulaw:
    # Trained mu-law models draw fine byte 0, the only one they ever saw;
    # ln P of the decoded audio is that of (code, 0).
    b = voc.params['params']['b_O4']
    voc.params['params']['b_O4'] = b.at[0].add(60.0)
  mel = _mel(voc)
  audio, lp = voc.generate(mel, seed=3)
  assert audio.dtype == np.int16 and audio.shape == (2, FRAMES * 64)
  np.testing.assert_allclose(lp, voc.log_prob(audio, mel), rtol=1e-4,
                             atol=1e-4)
  assert len(np.unique(audio)) > 10


def test_options_change_the_model():
  base = _vocoder({})
  mel = _mel(base)
  audio, _ = base.generate(mel, seed=0)
  lp0 = base.log_prob(audio, mel)
  for name, overrides in OPTIONS.items():
    lp = _vocoder(overrides).log_prob(audio, mel)
    assert np.abs(lp - lp0).max() > 1e-3, name


def test_embeddings_start_as_the_scalar_inputs():
  voc = _vocoder({'model.embed_inputs': True}, scale=1.0)
  w = voc.weights()
  e = np.asarray(w['E_prev'])  # [2, 256, G]: scale(byte) * a row vector.
  row = e[:, 255] / quantization.scale(jnp.int32(255))
  expected = np.asarray(quantization.scale(jnp.arange(256)))[None, :, None]
  np.testing.assert_allclose(e, expected * row[:, None], rtol=1e-5,
                             atol=1e-6)
  assert 'I_prev' not in w and 'I_c' not in w


def test_bfloat16_products_keep_float32_master_weights():
  voc = _vocoder({'model.matmul_dtype': 'bfloat16'}, scale=1.0)
  w = voc.weights()
  assert w['R'].dtype == jnp.bfloat16 and w['O4'].dtype == jnp.bfloat16
  assert voc.params['params']['R'].dtype == jnp.float32
  assert w['b_I'].dtype == jnp.float32


def test_linear_upsampling_is_continuous_and_hits_the_frames():
  voc = _vocoder({'model.upsample': 'linear'}, scale=1.0)
  mel = _mel(voc, batch=1)
  xin = np.asarray(voc.conditioning(mel))[0]  # [F, 2G]
  w = voc.weights()
  g = w['b_I'].shape[0]
  per_sample = np.concatenate([np.asarray(model_lib.frame_inputs(
      w, xin[f][None], voc.hop_length))[:, 0] for f in range(FRAMES)])
  frames = xin[:, :g]
  # Sample f * P is frame f's centre; the last frame is held.
  np.testing.assert_allclose(per_sample[::voc.hop_length], frames, rtol=1e-5,
                             atol=1e-5)
  steps = np.abs(np.diff(per_sample, axis=0)).max(1)
  jumps = np.abs(np.diff(frames, axis=0)).max(1)
  assert steps.max() <= jumps.max() / voc.hop_length * 1.01 + 1e-6


def test_subscale_refuses_the_linear_upsampler():
  config = wavernn.get_config('variant=subscale,preset=tiny,horizon=2,'
                              'batch_factor=4')
  config.model.upsample = 'linear'
  with pytest.raises(config_checks.ConfigError, match='upsample'):
    config_checks.validate(config)


def test_recipes_are_valid_configs_with_distinct_names():
  config = recipes.get_config('')  # The preset the points run at (hop 200).
  points = recipes.sweep(config)
  assert len({p['name'] for p in points}) == len(points)
  assert points[0]['overrides'] == {}  # The baseline: today's demo recipe.
  from wavernn_jax.training import sweep  # pylint: disable=g-import-not-at-top
  for p in points:
    config_checks.validate(sweep.point_config(config, p['overrides']))


def test_sampler_with_embeddings_matches_numpy_reference():
  from tests import vocoder_test  # pylint: disable=g-import-not-at-top
  voc = _vocoder({'model.embed_inputs': True})
  vocoder_test.check_against_numpy_reference(voc, _mel(voc, seed=1, batch=1))


def test_demo_preset_uses_the_chosen_recipe():
  c = wavernn.get_config('preset=demo')
  assert (c.data.batch_size, c.model.emphasis, c.model.embed_inputs,
          c.train.ema_decay, c.model.lpc_order, c.model.pitch) == (
              8, 0.85, True, 0.999, 16, True)
  base = recipes.get_config('')  # The A/B baseline: the old demo recipe.
  assert (base.data.batch_size, base.model.emphasis,
          base.model.embed_inputs, base.train.ema_decay,
          base.model.lpc_order, base.model.pitch) == (32, 0.0, False, 0.0, 0,
                                                      False)
  # Subscale has no sample-by-sample past for LPC: its presets keep 0.
  for preset in ('demo', 'paper'):
    sub = wavernn.get_config(f'variant=subscale,preset={preset}')
    assert sub.model.lpc_order == 0 and not sub.model.pitch
  config_checks.validate(wavernn.get_config('variant=subscale,preset=demo'))
