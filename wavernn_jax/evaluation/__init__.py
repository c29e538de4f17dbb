"""Scoring: NLL and copy-synthesis quality (`evaluate`), PESQ-WB / STOI / MCD
(`metrics`) and the baselines they are read against (`baselines`: linear
prediction, Griffin-Lim).
"""
