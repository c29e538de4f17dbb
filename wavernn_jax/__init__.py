"""wavernn_jax: WaveRNN, Sparse WaveRNN and Subscale WaveRNN in JAX/Flax."""
