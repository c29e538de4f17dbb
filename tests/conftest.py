"""Shared test settings: CPU, fast compiles, float32 matmuls."""

import os

os.environ.setdefault('JAX_PLATFORMS', 'cpu')

import jax  # pylint: disable=g-import-not-at-top

jax.config.update('jax_default_matmul_precision', 'highest')
