"""The fused CPU kernels (C++ in `csrc/`, registered with XLA through `jax.ffi`
by `cpu_kernels`): the block-sparse GRU recurrence for training and the
sampling step; the XLA path stays the reference.
"""
