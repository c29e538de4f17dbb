"""The Asterisk prompts in five voices; importing registers `asterisk_voices`."""

from data.asterisk_voices.asterisk_voices_dataset_builder import AsteriskVoices
