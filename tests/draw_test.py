"""The inverse-CDF draw of all three samplers: exact, and never a class of
probability 0 (a uniform draw of exactly 0 included)."""

import jax.numpy as jnp
import numpy as np
import pytest

from wavernn_jax.synthesis import numpy_sampler
from wavernn_jax.synthesis import sampling
from wavernn_jax.synthesis import subscale_sampling

DRAWS = {'sampling': lambda l, u, t: np.asarray(sampling._draw(
             jnp.asarray(l), jnp.asarray(u), t)),
         'subscale_sampling': lambda l, u, t: np.asarray(
             subscale_sampling._draw(jnp.asarray(l), jnp.asarray(u), t)),
         'numpy_sampler': numpy_sampler._draw}


@pytest.mark.parametrize('name', sorted(DRAWS))
def test_zero_probability_classes_are_never_drawn(name):
  draw = DRAWS[name]
  logits = np.full((4, 256), -1e4, np.float32)  # exp underflows to 0.
  logits[:, 7] = 0.0
  logits[:, 200] = 0.0
  u = np.array([0.0, 0.25, 0.5, 0.999999], np.float32)
  # Classes 0..6 have probability exactly 0: u = 0 must still draw 7.
  np.testing.assert_array_equal(draw(logits, u, 1.0), [7, 7, 200, 200])


@pytest.mark.parametrize('name', sorted(DRAWS))
def test_draw_is_the_inverse_cdf(name):
  draw = DRAWS[name]
  logits = np.log(np.array([[0.1, 0.2, 0.3, 0.4] + [1e-30] * 252],
                           np.float64)).astype(np.float32)
  u = np.array([0.0, 0.09, 0.11, 0.29, 0.31, 0.59, 0.61, 0.99], np.float32)
  got = draw(np.repeat(logits, len(u), 0), u, 1.0)
  np.testing.assert_array_equal(got, [0, 0, 1, 1, 2, 2, 3, 3])
