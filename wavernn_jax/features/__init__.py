"""What the networks read and write besides weights: the log-mel front-end
(`mel`), linear prediction from the mel (`lpc`), pitch and voicing
(`pitch`), and the 16-bit / mu-law / coarse-fine quantisation with pre-
emphasis (`quantization`).
"""
