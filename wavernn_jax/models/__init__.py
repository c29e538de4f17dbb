"""The networks and their sparsity: the WaveRNN cell and its dual softmax
(`model`), the Subscale WaveRNN and its context net (`subscale`), the
variants behind one interface (`variants`), block pruning and its schedule
(`sparsity`) and the block-sparse training step (`sparse_training`).
"""
