"""A user's speech folder; importing registers `wav_folder`."""

from data.wav_folder.wav_folder_dataset_builder import WavFolder
