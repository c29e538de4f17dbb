"""Drawing audio: the dense-order sampler on XLA and on the fused CPU kernel
(`sampling`), its block-sparse and Subscale siblings (`sparse_sampling`,
`subscale_sampling`), the NumPy reference (`numpy_sampler`), the fixed
windows and chunks that make one compiled sampler serve any length
(`windows`) and streaming (`streaming`).
"""
