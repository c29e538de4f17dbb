import numpy as np

from wavernn_jax import quantization


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
