import numpy as np

from wavernn_jax.features import quantization


def test_split_combine_round_trips_every_int16():
  audio = np.arange(-32768, 32768, dtype=np.int16)
  c, f = quantization.split(audio)
  assert c.min() == 0 and c.max() == 255 and f.min() == 0 and f.max() == 255
  np.testing.assert_array_equal(quantization.combine(c, f), audio)


def test_split_hand_values():
  c, f = quantization.split(np.array([0, -32768, 32767, 255, -1], np.int16))
  np.testing.assert_array_equal(c, [128, 0, 255, 128, 127])
  np.testing.assert_array_equal(f, [0, 0, 255, 255, 255])


def test_scale_maps_bytes_to_unit_interval():
  np.testing.assert_allclose(
      quantization.scale(np.array([0, 255])), [-1.0, 1.0])


def test_to_int16_clips_and_rounds():
  out = quantization.to_int16(np.array([-2.0, 0.5, 1.0, 0.0]))
  np.testing.assert_array_equal(out, [-32768, 16384, 32767, 0])


def _mulaw_reference(x):
  """G.711-style mu-law (mu = 255, no segments) in NumPy float64."""
  x = np.asarray(x, np.float64) / 32768.0
  y = np.sign(x) * np.log1p(255 * np.abs(x)) / np.log1p(255)
  return np.clip(np.round((y + 1) * 127.5), 0, 255).astype(np.int64)


def test_mulaw_codes_sit_in_the_coarse_byte_and_match_numpy():
  x = np.arange(-32768, 32768).astype(np.int16)
  coarse, fine = quantization.split(quantization.mulaw_encode(x))
  assert int(np.max(fine)) == 0
  ref = _mulaw_reference(x)
  # float32 against float64: a code may differ only where x sits on a
  # rounding boundary.
  assert np.mean(np.asarray(coarse) != ref) < 1e-4
  assert np.abs(np.asarray(coarse) - ref).max() <= 1
  assert np.all(np.diff(np.asarray(coarse)) >= 0)  # Monotone.
  hand = quantization.split(quantization.mulaw_encode(
      np.array([-32768, 0, 32767], np.int16)))[0]
  np.testing.assert_array_equal(hand, [0, 128, 255])  # round(127.5) = 128.


def test_mulaw_decode_inverts_every_code_and_errs_by_half_a_step():
  codes = np.arange(256)
  coded = quantization.combine(codes, np.zeros(256, np.int32))
  decoded = quantization.mulaw_decode(coded)
  np.testing.assert_array_equal(
      quantization.split(quantization.mulaw_encode(decoded))[0], codes)
  x = np.arange(-32768, 32768).astype(np.int16)
  err = np.abs(np.asarray(quantization.mulaw_decode(
      quantization.mulaw_encode(x)), np.int64) - x)
  # mu-law steps grow with |x|: ~4 LSB near 0, ~1,400 at full scale.
  assert err[32768 - 64:32768 + 64].max() <= 4 and err.max() <= 710
