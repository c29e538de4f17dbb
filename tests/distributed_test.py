"""Data-parallel training: 1 device, 4 local devices and 2 processes agree."""

import os

import pytest

from tests import tiny_training
from wavernn_jax.training import distributed

# The tiny batch of 4 gives one row to each of 4 devices; checkpoints only at
# the end (they do not change the trajectory).
TRAIN = dict(tiny_training.REFERENCE_TRAIN, ckpt_every=100)


@pytest.fixture(scope='module')
def reference(tmp_path_factory):
  """The corpus, and a workdir trained in this process on one device."""
  return tiny_training.reference(tmp_path_factory)


def test_four_local_devices_match_one_device(reference, tmp_path):
  corpus, one = reference
  workdir = str(tmp_path / 'four')
  tiny_training.finish(tiny_training.start(
      tiny_training.launch_command(corpus, workdir, **TRAIN), devices=4))
  tiny_training.assert_same_training(one, workdir)


def test_two_processes_match_one_process(reference, tmp_path):
  """Two processes of 2 CPU devices each, joined over gloo on 127.0.0.1."""
  corpus, one = reference
  workdir = str(tmp_path / 'two')
  address = f'127.0.0.1:{tiny_training.free_port()}'
  procs = [tiny_training.start(tiny_training.launch_command(
      corpus, workdir, f'--coordinator_address={address}',
      '--num_processes=2', f'--process_id={i}', **TRAIN), devices=2)
           for i in range(2)]
  for proc in procs:
    tiny_training.finish(proc)
  # Process 0 alone logs: each step once, one TensorBoard event file.
  tiny_training.assert_same_training(one, workdir)
  assert len(os.listdir(os.path.join(workdir, 'tb'))) == 1


@pytest.mark.parametrize('args, env, expected', [
    ((None, None, None), {}, None),
    ((None, 1, None), {}, None),
    (('h:1', 2, 1), {}, dict(coordinator_address='h:1', num_processes=2,
                             process_id=1)),
    ((None, None, None), dict(JAX_COORDINATOR_ADDRESS='h:2',
                              JAX_NUM_PROCESSES='4', JAX_PROCESS_ID='3'),
     dict(coordinator_address='h:2', num_processes=4, process_id=3)),
    ((None, None, 0), dict(JAX_COORDINATOR_ADDRESS='h:2',
                           JAX_NUM_PROCESSES='2', JAX_PROCESS_ID='1'),
     dict(coordinator_address='h:2', num_processes=2, process_id=0)),
    ((None, None, None), dict(SLURM_NTASKS='8'), {}),  # JAX detects Slurm.
    ((None, None, None), dict(SLURM_NTASKS='1'), None),
])
def test_settings_from_flags_then_environment(args, env, expected):
  assert distributed.settings(*args, env=env) == expected


@pytest.mark.parametrize('args, env, match', [
    (('h:1', None, None), {}, '--num_processes, --process_id'),
    ((None, 2, 0), {}, '--coordinator_address'),
    (('h', 2, 0), {}, 'needs a port'),
    (('h:1', 2, 2), {}, r'\[0, --num_processes=2\)'),
    ((None, None, None), dict(JAX_NUM_PROCESSES='two'), 'integer'),
])
def test_inconsistent_settings_are_refused(args, env, match):
  with pytest.raises(distributed.DistributedError, match=match):
    distributed.settings(*args, env=env)
