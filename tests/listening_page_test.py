"""The listening page is written from the command line and renders."""

import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from tests import tiny_training


@pytest.fixture(scope='module')
def page(tmp_path_factory):
  """The folder of a page of two utterances from two tiny models."""
  _, workdir = tiny_training.reference(tmp_path_factory)
  out = tmp_path_factory.mktemp('listen')
  proc = subprocess.run(
      [sys.executable, 'experiments/tools/listening_page.py', f'--out={out}',
       f'--models=tiny={workdir},tiny_again={workdir}', '--num=2',
       '--max_seconds=100'],
      cwd=tiny_training.ROOT, capture_output=True, text=True, timeout=600,
      env=dict(os.environ, JAX_PLATFORMS='cpu'))
  assert proc.returncode == 0, proc.stderr[-3000:]
  return out


def test_page_has_players_figures_and_metrics(page):
  out = page
  page = (out / 'index.html').read_text()
  sources = re.findall(r'src="([^"]+)"', page)
  wavs = [s for s in sources if s.endswith('.wav')]
  # Two utterances x (original, two models, Griffin-Lim).
  assert len(wavs) == 8 and len(set(wavs)) == 8
  assert len([s for s in sources if s.endswith('.png')]) == 2
  for src in sources:
    assert (out / src).stat().st_size > 0, src
  for system in ('tiny', 'tiny_again', 'griffin_lim'):  # metrics table rows
    row = re.search(rf'<tr><td>{system}</td>((?:<td>[^<]*</td>){{3}})</tr>',
                    page)
    assert row, system
    assert all(np.isfinite(float(v)) for v in
               re.findall(r'<td>([^<]*)</td>', row.group(1))[1:])  # STOI, MCD



def test_page_renders(page, tmp_path):
  """A headless chromium screenshot is not blank. `./run_tests.sh`
  installs chromium (`setup_env.sh --render`); only a bare pytest on a
  machine without it skips, and says so."""
  out = page
  chromium = shutil.which('chromium')
  if chromium is None:
    pytest.skip('no chromium: run ./setup_env.sh --render for the render '
                'check')
  shot = tmp_path / 'shot.png'
  subprocess.run([chromium, '--headless', '--no-sandbox', '--disable-gpu',
                  f'--screenshot={shot}', '--window-size=900,1200',
                  f'file://{out / "index.html"}'], capture_output=True,
                 timeout=120, check=True)
  import matplotlib.image  # pylint: disable=g-import-not-at-top
  pixels = matplotlib.image.imread(str(shot))
  assert pixels.std() > 0.05  # Not a blank page: text and spectrograms.
