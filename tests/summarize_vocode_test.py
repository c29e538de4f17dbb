"""The vocode summary: totals, speed against real time, the printed table."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from experiments.tools import summarize_vocode

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _vocode_json(folder, sample_rate, samples_seconds, compile_seconds=0.0):
  """What --mode=vocode prints for utterances of (samples, seconds), the
  first of which compiled for `compile_seconds`."""
  os.makedirs(folder, exist_ok=True)
  results = []
  for i, (samples, seconds) in enumerate(samples_seconds):
    output = os.path.join(folder, f'u{i}_vocoded.wav')
    sf.write(output, np.zeros(samples, np.int16), sample_rate,
             subtype='PCM_16')
    results.append(dict(
        input=os.path.join(folder, f'u{i}_original.wav'), output=output,
        spectrogram=os.path.join(folder, f'u{i}_vocoded.png'),
        samples=samples, seconds=seconds, samples_per_sec=samples / seconds,
        compile_seconds=compile_seconds if i == 0 else 0.0))
  path = os.path.join(folder, 'vocode.json')
  with open(path, 'w') as f:
    json.dump(results, f)
  return path, results


def test_summary_is_total_samples_over_total_seconds(tmp_path):
  _, results = _vocode_json(str(tmp_path / 'dense'), 16000,
                            [(16000, 4.0), (48000, 6.0)], compile_seconds=2.0)
  row = summarize_vocode.summarize('dense', results)
  assert row['utterances'] == 2 and row['sample_rate'] == 16000
  assert row['audio_seconds'] == pytest.approx(4.0)
  assert row['samples_per_sec'] == pytest.approx(6400.0)  # not mean(4000, 8000)
  assert row['real_time'] == pytest.approx(0.4)
  assert row['compile_seconds'] == pytest.approx(2.0)
  assert row['seconds'] == pytest.approx(10.0)
  assert row['real_time_compiled'] == pytest.approx(0.5)  # 64,000 / 8 s.
  assert row['folders'] == [str(tmp_path / 'dense')]
  one = summarize_vocode.summarize('dense', results[0])  # --input: one dict
  assert one['utterances'] == 1 and one['real_time'] == pytest.approx(0.25)


def test_command_prints_one_row_per_model_in_order(tmp_path):
  a, _ = _vocode_json(str(tmp_path / 'a'), 16000, [(32000, 2.0)] * 3,
                      compile_seconds=1.5)
  b, _ = _vocode_json(str(tmp_path / 'b'), 24000, [(24000, 0.5)])
  proc = subprocess.run(
      [sys.executable, 'experiments/tools/summarize_vocode.py',
       f'--runs=dense384={a},sparse864={b}'],
      cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
  assert proc.returncode == 0, proc.stderr[-2000:]
  header, row_a, row_b = proc.stdout.splitlines()
  assert header.split()[:5] == ['model', 'utterances', 'audio', '(s)',
                                'compile']
  # 96,000 samples in 6 s (1.5 s of it compiling): 1.00x, then 1.33x.
  assert row_a.split() == ['dense384', '3', '6.0', '1.5', '6.0', '1.00x',
                           'at', '16', 'kHz', '1.33x', str(tmp_path / 'a')]
  assert row_b.split() == ['sparse864', '1', '1.0', '0.0', '0.5', '2.00x',
                           'at', '24', 'kHz', '2.00x', str(tmp_path / 'b')]


def test_command_rejects_a_file_that_is_not_vocode_output(tmp_path):
  bad = tmp_path / 'vocode.json'
  bad.write_text('[{"output": "missing.wav"}]')
  proc = subprocess.run(
      [sys.executable, 'experiments/tools/summarize_vocode.py',
       f'--runs=x={bad}'],
      cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
  assert proc.returncode == 1
  (line,) = proc.stderr.strip().splitlines()
  assert line.startswith(f'error: {bad} is not the output of launch.py')
