"""The docs stay true: every repo path they name exists, and each model card
shows its card.json's numbers (issue 39)."""

import glob
import json
import os
import re
import subprocess

import pytest

from experiments.tools import export_pretrained

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The README, the docs by claim and the model cards (the lab notebook is
# history: it names the paths of its day).
DOCS = (['README.md'] + sorted(
    os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, 'docs',
                                                             '*.md'))) +
        sorted(os.path.relpath(p, ROOT) for p in glob.glob(
            os.path.join(ROOT, 'pretrained', '*', 'MODEL_CARD.md'))))
_TOP_FILES = ('launch.py', 'run_demo.sh', 'run_tests.sh', 'setup_env.sh',
              'setup.cfg', 'requirements.lock', 'pyproject.toml')
_PATH = re.compile(
    r'(?<![\w/.-])((?:\.ci|wavernn_jax|experiments|tests|docs|pretrained|runs'
    r'|data)/[\w./-]*[\w/]|' + '|'.join(map(re.escape, _TOP_FILES)) +
    r')(\*?)')
# Placeholders a command line fills in.
_PLACEHOLDERS = ('NAME', 'COMMIT', '<', 'DIR', 'W/', '...')
_COMMIT = re.compile(r'\b[0-9a-f]{7,40}\b')


def named_paths(text: str):
  """(line number, path, is_glob) of each repo path `text` names."""
  for n, line in enumerate(text.splitlines(), 1):
    for m in _PATH.finditer(line):
      path = m.group(1).rstrip('.')
      if not any(p in path for p in _PLACEHOLDERS):
        yield n, path, bool(m.group(2))


def _in_commit(commit: str, path: str) -> bool:
  return subprocess.run(['git', 'cat-file', '-e', f'{commit}:{path}'],
                        cwd=ROOT, capture_output=True).returncode == 0


def _is_commit(token: str) -> bool:
  return subprocess.run(['git', 'cat-file', '-e', f'{token}^{{commit}}'],
                        cwd=ROOT, capture_output=True).returncode == 0


def test_named_paths_are_recognised():
  found = list(named_paths(
      'see `wavernn_jax/models/model.py`, runs/x/pair_*.json and launch.py; '
      'pretrained/NAME is a placeholder; a/wavernn_jax/y is not a repo path.'))
  assert found == [(1, 'wavernn_jax/models/model.py', False),
                   (1, 'runs/x/pair_', True), (1, 'launch.py', False)]


@pytest.mark.parametrize('doc', DOCS)
def test_every_path_a_doc_names_exists(doc):
  """In the tree, or (archived models, concluded runs) at a commit the doc
  names, as docs/PRETRAINED_HISTORY.md's restore commands do."""
  with open(os.path.join(ROOT, doc)) as f:
    text = f.read()
  commits = None
  missing = []
  for n, path, is_glob in named_paths(text):
    full = os.path.join(ROOT, path)
    if glob.glob(full + '*') if is_glob else os.path.exists(full):
      continue
    if commits is None:
      commits = [c for c in dict.fromkeys(_COMMIT.findall(text))
                 if _is_commit(c)]
    if not any(_in_commit(c, path.rstrip('/')) for c in commits):
      missing.append(f'{doc}:{n}: {path}')
  assert not missing, '\n'.join(missing)


@pytest.mark.parametrize('card_path', sorted(glob.glob(
    os.path.join(ROOT, 'pretrained', '*', 'card.json'))))
def test_each_model_card_shows_its_card_json(card_path):
  with open(card_path) as f:
    card = json.load(f)
  with open(os.path.join(os.path.dirname(card_path), 'MODEL_CARD.md')) as f:
    text = f.read()
  want = [f"# {card['name']} — ",
          f"| parameters | {card['params']:,} ({card['nonzero_params']:,} "
          'non-zero)',
          f"| training | {card['step']:,} of ",
          f"| NLL on `{card['clip']}` | "
          f"{card['clip_nll_bits_per_sample']:.3f} bits / sample"]
  if 'multiply_adds_per_sample' in card:
    rows = [line for line in text.splitlines()
            if line.startswith('| cost per sample |')]
    assert len(rows) == 1
    sample_rate = int(re.search(r'at real time, (\d+) kHz', rows[0])[1]) * 1000
    want.append('| cost per sample | '
                f'{export_pretrained._cost_row(card, sample_rate)} |')  # pylint: disable=protected-access
  if 'speed' in card:
    want.append('| vocoding speed | '
                f"{export_pretrained._speed_row(card['speed'])} |")  # pylint: disable=protected-access
  for line in want:
    assert line in text, line
