"""What the rest shares: audio files (`audio_io`), the persistent compile cache
(`compile_cache`), compile and run timing (`timing`), the one-line errors
(`errors`), figures (`plotting`) and metrics.jsonl (`history`).
"""
