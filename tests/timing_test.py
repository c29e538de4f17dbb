"""CompileTimer counts the compiling of the code run in its block, only."""

import threading

import jax
import jax.numpy as jnp

from wavernn_jax import timing


def test_compile_time_counted_once_per_shape():
  f = jax.jit(lambda x: jnp.tanh(x) @ x.T)
  x = jnp.ones((64, 64))
  with timing.CompileTimer() as first:
    f(x).block_until_ready()
  assert first.count >= 1 and first.seconds > 0
  with timing.CompileTimer() as again:  # Cached: nothing compiled.
    f(x).block_until_ready()
  assert again.count == 0 and again.seconds == 0.0
  with timing.CompileTimer() as new_shape:
    f(jnp.ones((32, 64))).block_until_ready()
  assert new_shape.count >= 1


def test_other_threads_compiling_are_not_counted():
  g = jax.jit(lambda x: jnp.cos(x) * 3.0)
  with timing.CompileTimer() as ct:
    t = threading.Thread(target=lambda: g(jnp.ones(7)).block_until_ready())
    t.start()
    t.join()
  assert ct.count == 0 and ct.seconds == 0.0
