"""Asterisk prompts by Allison Smith; importing registers `asterisk_allison`."""

from data.asterisk_allison.asterisk_allison_dataset_builder import (
    AsteriskAllison)
