"""LPC from the mel (`model.lpc_order`, issue 11): the Levinson recursion
against a direct solve, the integer predictor against int64 arithmetic, the
excitation round trip, and training/sampling agreement with a real filter."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments.configs import wavernn
from wavernn_jax import vocoder as vocoder_lib
from wavernn_jax.features import lpc
from wavernn_jax.features import mel as mel_lib
from wavernn_jax.models import model as model_lib
from wavernn_jax.training import config_checks

CFG = mel_lib.MelConfig()


def _resonant(n, seed=0, batch=1, poles=((0.97, 500.0), (0.9, 2200.0))):
  """Speech-like int16 audio: white noise through two resonances."""
  rng = np.random.default_rng(seed)
  x = rng.normal(size=(batch, n)) * 300.0
  for radius, hz in poles:
    theta = 2 * np.pi * hz / CFG.sample_rate
    a1, a2 = 2 * radius * np.cos(theta), -radius ** 2
    y = np.zeros_like(x)
    for t in range(n):
      y[:, t] = x[:, t] + a1 * y[:, t - 1] * (t > 0) + a2 * y[:, t - 2] * (t > 1)
    x = y
  x *= 6000.0 / x.std()
  return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def test_levinson_solves_the_normal_equations():
  rng = np.random.default_rng(1)
  sig = rng.normal(size=4000)
  sig = np.convolve(sig, [1.0, 0.8, -0.3, 0.2])  # Coloured, full rank.
  r = np.array([sig[:len(sig) - k] @ sig[k:] for k in range(9)])
  a = np.asarray(lpc.levinson(jnp.asarray(r, jnp.float32), 8))
  toeplitz = r[np.abs(np.arange(8)[:, None] - np.arange(8)[None, :])]
  np.testing.assert_allclose(a, np.linalg.solve(toeplitz, r[1:]), rtol=1e-3,
                             atol=1e-4)


def test_levinson_order_one_by_hand():
  # a_1 = r1 / r0 for a first-order predictor.
  a = lpc.levinson(jnp.array([[4.0, 3.0]]), 1)
  np.testing.assert_allclose(np.asarray(a), [[0.75]])


def test_levinson_orders_are_every_order_of_the_normal_equations():
  """Row m of `levinson_orders` solves the order-m normal equations (zeros
  after a_m; row 0 all zeros), against NumPy for every order."""
  rng = np.random.default_rng(3)
  sig = np.convolve(rng.normal(size=4000), [1.0, -0.6, 0.5, 0.3, -0.2])
  r = np.array([sig[:len(sig) - k] @ sig[k:] for k in range(7)])
  rows = np.asarray(lpc.levinson_orders(jnp.asarray(r, jnp.float32), 6))
  assert rows.shape == (7, 6)
  np.testing.assert_array_equal(rows[0], 0.0)
  for m in range(1, 7):
    toeplitz = r[np.abs(np.arange(m)[:, None] - np.arange(m)[None, :])]
    np.testing.assert_allclose(rows[m, :m], np.linalg.solve(toeplitz, r[1:m + 1]),
                               rtol=1e-3, atol=1e-4)
    np.testing.assert_array_equal(rows[m, m:], 0.0)
  np.testing.assert_array_equal(rows[6], np.asarray(lpc.levinson(
      jnp.asarray(r, jnp.float32), 6)))


def test_lag_predictors_solve_the_normal_equations_of_any_lags():
  """Each row against a direct NumPy solve over its own lags (past and
  future, gaps, unused slots zero); lags 1 .. m give Levinson's order m."""
  rng = np.random.default_rng(5)
  sig = np.convolve(rng.normal(size=6000), [1.0, 0.7, -0.4, 0.25, 0.1])
  r = np.array([sig[:len(sig) - k] @ sig[k:] for k in range(12)])
  lags = np.array([[0, 0, 0, 0], [1, 2, 3, 0], [1, -2, 0, -5],
                   [-1, -3, 4, 2]])
  a = np.asarray(lpc.lag_predictors(jnp.asarray(r, jnp.float32), lags))
  assert a.shape == (4, 4)
  np.testing.assert_array_equal(a[0], 0.0)
  for row, (lag_row, a_row) in enumerate(zip(lags, a)):
    used = lag_row != 0
    l = lag_row[used]
    want = np.linalg.solve(r[np.abs(l[:, None] - l[None])], r[np.abs(l)])
    np.testing.assert_allclose(a_row[used], want, rtol=1e-3, atol=1e-4,
                               err_msg=f'row {row}')
    np.testing.assert_array_equal(a_row[~used], 0.0)
  np.testing.assert_allclose(a[1, :3], np.asarray(lpc.levinson(
      jnp.asarray(r, jnp.float32), 3)), rtol=1e-4, atol=1e-5)


def test_interpolation_beats_prediction_on_a_resonance():
  """Reading the future as well lowers the error: on a resonant signal the
  predictor from x_{t-1}, x_{t-2}, x_{t+1}, x_{t+2} leaves less error
  energy than the one from x_{t-1} ... x_{t-4} (the reason for the
  Subscale model's two-sided prediction)."""
  x = _resonant(8000, seed=2)[0].astype(np.float64)
  r = np.array([x[:len(x) - k] @ x[k:] for k in range(9)]) / len(x)
  a = np.asarray(lpc.lag_predictors(jnp.asarray(r, jnp.float32),
                                    np.array([[1, 2, 3, 4], [1, 2, -1, -2]])))
  t = np.arange(8, len(x) - 8)
  err = [np.mean((x[t] - sum(a[i, w] * x[t - l] for w, l in enumerate(ls)))
                 ** 2) for i, ls in enumerate([[1, 2, 3, 4], [1, 2, -1, -2]])]
  assert err[1] < 0.7 * err[0], err


def test_predict_is_exact_integer_arithmetic_at_the_extremes():
  rng = np.random.default_rng(2)
  k = 16
  a_q = rng.integers(-lpc.COEF_MAX, lpc.COEF_MAX + 1, size=(5000, k))
  a_q[:4] = lpc.COEF_MAX  # Largest coefficients ...
  a_q[4:8] = -lpc.COEF_MAX
  hist = rng.integers(-32768, 32768, size=(5000, k))
  hist[:8:2], hist[1:8:2] = -32768, 32767  # ... times full-scale samples.
  got = np.asarray(lpc.predict(jnp.asarray(a_q / 2.0 ** lpc.COEF_BITS,
                                           jnp.float32),
                               jnp.asarray(hist, jnp.int32)))
  total = (a_q.astype(np.int64) * hist).sum(-1)  # Exact, in int64.
  ref = np.clip((total + 2 ** (lpc.COEF_BITS - 1)) >> lpc.COEF_BITS,
                -32768, 32767)  # round half up, then int16 range.
  np.testing.assert_array_equal(got, ref)
  # Hand-computed: 0.5 * 3 + 0.25 * (-2) = 1.0; 0.5 * 1 = 0.5 rounds up.
  np.testing.assert_array_equal(
      np.asarray(lpc.predict(jnp.array([[0.5, 0.25], [0.5, 0.0]]),
                             jnp.array([[3, -2], [1, 7]]))), [1, 1])


@pytest.mark.parametrize('emphasis', [0.0, 0.85])
def test_excitation_round_trip_is_exact_and_shapes_the_spectrum(emphasis):
  audio = _resonant(200 * 40, batch=2)
  mel = mel_lib.log_mel(audio / 32768.0, CFG)
  a = lpc.from_mel(mel, CFG, 16, emphasis)
  # Q12 grid, and a filter that predicts the resonant signal well.
  np.testing.assert_array_equal(np.asarray(a) * 4096,
                                np.round(np.asarray(a) * 4096))
  e, p = lpc.residual(jnp.asarray(audio), a, 200)
  gain_db = 10 * np.log10((audio.astype(float) ** 2).mean() /
                          (np.asarray(e, float) ** 2).mean())
  assert gain_db > 10, gain_db
  np.testing.assert_array_equal(
      np.asarray(e, np.int64),
      (audio.astype(np.int64) - np.asarray(p) + 32768) % 65536 - 32768)
  np.testing.assert_array_equal(np.asarray(lpc.synthesise(e, a, 200)), audio)


def test_synthesis_of_extreme_excitations_wraps_as_the_residual_does():
  """s_t = wrap(e_t + p_t) (modulo 2^16 into int16): then residual and
  synthesis invert each other on every int16 sequence, unstable filters and
  full-scale signals included (a clip would map two signals to one e)."""
  rng = np.random.default_rng(3)
  e = rng.integers(-32768, 32768, size=(2, 200 * 4)).astype(np.int16)
  a = jnp.full((2, 4, 16), 1.5)  # Far from stable: s saturates.
  s = np.asarray(lpc.synthesise(jnp.asarray(e), a, 200), np.int64)
  hist, ref = np.zeros((2, 16), np.int64), np.zeros_like(s)
  raw_max = 0
  for t in range(s.shape[1]):  # int64 reference with an explicit wrap.
    total = (6144 * hist).sum(-1)  # 1.5 = 6144 / 4096.
    p = np.clip((total + 2048) >> 12, -32768, 32767)
    raw_max = max(raw_max, np.abs(e[:, t] + p).max())
    ref[:, t] = (e[:, t] + p + 32768) % 65536 - 32768
    hist = np.concatenate([ref[:, t:t + 1], hist[:, :-1]], 1)
  np.testing.assert_array_equal(s, ref)
  assert raw_max > 32768  # The wrap was reached.
  back, _ = lpc.residual(jnp.asarray(s.astype(np.int16)), a, 200)
  np.testing.assert_array_equal(np.asarray(back), e)
  # And the other way: any signal, full-scale square waves included.
  x = rng.choice(np.array([-32768, 32767], np.int16), size=(2, 800))
  e2, _ = lpc.residual(jnp.asarray(x), a, 200)
  np.testing.assert_array_equal(np.asarray(lpc.synthesise(e2, a, 200)), x)


def _lpc_vocoder(**overrides):
  config = wavernn.get_config('preset=tiny')
  config.model.update(lpc_order=16, emphasis=0.85, **overrides)
  config_checks.validate(config)
  v = vocoder_lib.Vocoder.from_config(config, seed=0)
  v.params = jax.tree_util.tree_map(lambda x: x * 3.0, v.params)
  # Random draws all over the int16 range: s saturates and wraps, and the
  # sampler must still invert exactly what log_prob encodes.
  return v


@pytest.mark.parametrize('upsample', ['repeat', 'linear'])
def test_generate_agrees_with_log_prob_through_a_real_filter(upsample):
  voc = _lpc_vocoder(upsample=upsample)
  wave = _resonant(voc.hop_length * 8, seed=4, batch=2)
  mel = voc.mel(wave)
  xin = voc.conditioning(mel)
  _, a = model_lib.split_lpc(voc.weights(), xin)
  assert a.shape == (2, 8, 16) and float(jnp.abs(a).max()) > 0.5
  audio, lp = voc.generate(mel, seed=5)
  assert audio.dtype == np.int16
  np.testing.assert_allclose(lp, voc.log_prob(audio, mel), rtol=1e-4,
                             atol=1e-4)
  # With |a| > 0.5 the filter is in the loop: a sampler that returned its
  # excitation draws instead of s = e + p would not score the same.
  w = voc.params['params']
  assert w['I_lpc'].shape == (2, 3 * voc.model_config.hidden)


def test_lpc_options_that_cannot_work_are_refused_in_one_line():
  config = wavernn.get_config('variant=subscale,preset=tiny')
  config.model.lpc_order = 16
  with pytest.raises(config_checks.ConfigError) as e:
    config_checks.validate(config)
  assert 'lpc_order=0' in str(e.value) and '\n' not in str(e.value)
  for bad in (dict(mulaw=True), dict(lpc_order=33)):
    config = wavernn.get_config('preset=tiny')
    config.model.update(lpc_order=16)
    config.model.update(**bad)
    with pytest.raises(config_checks.ConfigError) as e:
      config_checks.validate(config)
    assert 'lpc_order' in str(e.value) and '\n' not in str(e.value)
