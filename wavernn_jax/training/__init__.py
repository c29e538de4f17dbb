"""Training: the loop and its pieces (`train`), the windows it trains on
(`input_pipeline`, `datasets`), multi-device and multi-host placement
(`distributed`), checkpoints and the one-writer lock (`checkpoint`,
`workdir_lock`), config checks and arguments (`config_checks`,
`config_args`) and sweeps (`sweep`).
"""
