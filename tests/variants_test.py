"""The model variants behind one interface (issue 39): parsed once, asked
instead of the config's string; the structure rules that keep it so."""

import ast
import glob
import inspect
import os
import re

import pytest

from experiments.configs import wavernn
from wavernn_jax.models import variants
from wavernn_jax.training import train
from wavernn_jax.utils import errors

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize('arg, kind, streams', [
    ('preset=tiny', variants.DenseOrder, True),
    ('preset=tiny,variant=sparse,sparsity=0.9', variants.DenseOrder, True),
    ('preset=tiny,variant=subscale', variants.Subscale, False)])
def test_the_config_is_parsed_into_its_variant(arg, kind, streams):
  config = wavernn.get_config(arg)
  v = variants.of(config)
  assert type(v) is kind and v.name == config.variant  # pylint: disable=unidiomatic-typecheck
  assert v.streams == streams and v.distillable == streams
  assert v.model.hidden == config.model.hidden
  assert v.mel.hop_length == config.mel.hop_length
  # Dense order: the STFT's half window and the conditioning's radius, in
  # frames (tiny: n_fft 256, hop 64; 2 layers of kernel 3).
  dense = -(-config.mel.n_fft // 2 // config.mel.hop_length) + (
      config.model.cond_layers * (config.model.cond_kernel // 2))
  if kind is variants.Subscale:  # ... or Subscale's horizon, if longer.
    s = config.subscale
    dense = max(dense, -(-(s.horizon + 1) * s.batch_factor //
                         config.mel.hop_length))
  assert v.context_frames == dense


def test_an_unknown_variant_or_a_bad_value_is_one_line():
  config = wavernn.get_config('preset=tiny')
  config.variant = 'Dense'
  with pytest.raises(errors.ConfigError, match="variant='Dense' is unknown"):
    variants.of(config)
  config = wavernn.get_config('preset=tiny,variant=subscale')
  config.model.upsample = 'linear'
  with pytest.raises(errors.ConfigError, match='model.upsample=repeat'):
    variants.of(config).check(config)


def _sources(*folders):
  for folder in folders:
    for path in sorted(glob.glob(os.path.join(ROOT, folder, '**', '*.py'),
                                 recursive=True)):
      with open(path) as f:
        yield os.path.relpath(path, ROOT), f.read()


def test_no_module_but_variants_checks_the_variant_string():
  compare = re.compile(r"""variant['"]?\)?\s*[!=]=|[!=]=\s*['"]subscale['"]""")
  found = [f'{path}:{n}' for path, text in _sources('wavernn_jax')
           if not path.endswith('variants.py')
           for n, line in enumerate(text.splitlines(), 1)
           if compare.search(line.split('#')[0])]
  assert not found, found


def test_no_module_outside_vocoder_calls_its_private_functions():
  private = re.compile(r'\b(vocoder_lib|vocoder|voc)\._[a-z]')
  found = [f'{path}:{n}' for path, text in _sources(
      'wavernn_jax', 'experiments/tools', 'experiments/studies', 'tests')
           if not path.endswith(('vocoder.py', 'variants_test.py'))
           for n, line in enumerate(text.splitlines(), 1)
           if private.search(line)]
  assert not found, found


def test_the_library_has_no_import_circle():
  deps = {}
  for path, text in _sources('wavernn_jax'):
    name = os.path.basename(path)[:-3]
    deps[name] = {
        a.name for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.ImportFrom) and node.module and
        node.module.split('.')[0] == 'wavernn_jax'
        for a in node.names}
  done, stack = set(), []

  def visit(m):
    assert m not in stack, ' -> '.join(stack[stack.index(m):] + [m])
    if m in done or m not in deps:
      return
    stack.append(m)
    for d in sorted(deps[m]):
      visit(d)
    stack.pop()
    done.add(m)
  for m in sorted(deps):
    visit(m)


def test_the_training_loop_is_short():
  lines = inspect.getsource(train._train_and_evaluate).splitlines()  # pylint: disable=protected-access
  assert len(lines) <= 60, len(lines)
