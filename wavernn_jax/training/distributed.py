"""Joining the processes of a multi-host run (`jax.distributed`).

One process runs per host (or per GPU); together they see every device, and
`train.py` shards each global batch over all of them on a `data` mesh axis.
The processes find each other through a coordinator (process 0's address
and a free port), the process count and each process's id, given as flags
or as environment variables:

  JAX_COORDINATOR_ADDRESS=10.0.0.1:1234 JAX_NUM_PROCESSES=2 JAX_PROCESS_ID=0

With none of them, a Slurm, Open MPI or multi-host Cloud TPU job is detected
by JAX itself; otherwise the run is a single process. On CPU the processes
exchange gradients through gloo (JAX's CPU collectives).
"""

import os

from absl import logging
import jax
from jax.experimental import multihost_utils
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P
import numpy as np

from wavernn_jax.utils import errors

# Environment variables a scheduler sets when a job has several tasks; with
# any of them > 1, `jax.distributed.initialize()` detects the rest itself.
_CLUSTER_SIZE_VARS = ('SLURM_NTASKS', 'OMPI_COMM_WORLD_SIZE')


class DistributedError(errors.UserError):
  """Inconsistent multi-process settings; the message is one line."""


def _env_int(env, name: str) -> int | None:
  value = env.get(name)
  if value in (None, ''):
    return None
  try:
    return int(value)
  except ValueError:
    raise DistributedError(f'{name}={value!r} must be an integer.') from None


def _cluster_detected(env) -> bool:
  """True in a multi-task Slurm/MPI job or on a multi-host Cloud TPU."""
  for name in _CLUSTER_SIZE_VARS:
    if (_env_int(env, name) or 1) > 1:
      return True
  return ',' in env.get('TPU_WORKER_HOSTNAMES', '')


def settings(coordinator_address: str | None = None,
             num_processes: int | None = None,
             process_id: int | None = None, env=None) -> dict | None:
  """The arguments for `jax.distributed.initialize`, or None (one process).

  Args:
    coordinator_address: 'host:port' of process 0; None: from
      $JAX_COORDINATOR_ADDRESS.
    num_processes: processes in the run; None: from $JAX_NUM_PROCESSES.
    process_id: this process, in [0, num_processes); None: from
      $JAX_PROCESS_ID.
    env: environment (default os.environ).

  Returns:
    keyword arguments for `jax.distributed.initialize` ({} lets JAX detect a
    Slurm/MPI/TPU cluster), or None for a single-process run.

  Raises:
    DistributedError: a partial or out-of-range setting.
  """
  env = os.environ if env is None else env
  address = coordinator_address or env.get('JAX_COORDINATOR_ADDRESS') or None
  count = num_processes if num_processes is not None else _env_int(
      env, 'JAX_NUM_PROCESSES')
  pid = process_id if process_id is not None else _env_int(
      env, 'JAX_PROCESS_ID')
  if address is None and count is None and pid is None:
    return {} if _cluster_detected(env) else None
  if count == 1 and address is None:
    return None
  missing = [flag for flag, value in (('--coordinator_address', address),
                                      ('--num_processes', count),
                                      ('--process_id', pid)) if value is None]
  if missing:
    raise DistributedError(
        f'a multi-process run needs {", ".join(missing)} too (or the '
        'JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES, JAX_PROCESS_ID '
        'variables); give all three, or none for one process.')
  if ':' not in address:
    raise DistributedError(
        f'--coordinator_address={address!r} needs a port: host:port, e.g. '
        '10.0.0.1:1234 (process 0\'s address, the same on every process).')
  if count < 1 or not 0 <= pid < count:
    raise DistributedError(
        f'--process_id={pid} must be in [0, --num_processes={count}).')
  return dict(coordinator_address=address, num_processes=count,
              process_id=pid)


def initialize(coordinator_address: str | None = None,
               num_processes: int | None = None,
               process_id: int | None = None) -> None:
  """Joins a multi-process run if one is configured; else does nothing.

  Must run before anything touches a JAX device. Processes other than 0 log
  warnings only, so the progress lines are printed once.

  Args:
    coordinator_address: see `settings`.
    num_processes: see `settings`.
    process_id: see `settings`.

  Raises:
    DistributedError: bad settings (see `settings`).
  """
  kwargs = settings(coordinator_address, num_processes, process_id)
  if kwargs is None:
    return
  # CPU devices of different processes all-reduce through gloo (GPUs use
  # NCCL, TPUs their interconnect; this setting only concerns CPU).
  jax.config.update('jax_cpu_collectives_implementation', 'gloo')
  jax.distributed.initialize(**kwargs)
  if jax.process_index() != 0:
    logging.set_verbosity(logging.WARNING)
  logging.info('Process %d of %d; %d local and %d global devices.',
               jax.process_index(), jax.process_count(),
               jax.local_device_count(), jax.device_count())


def any_process(flag: bool) -> bool:
  """True if `flag` is true in any process (every process must call it).

  Used for stop decisions (SIGTERM, time budget) that one process may see
  alone: all processes must leave the training loop at the same step, or the
  others would wait forever in the next all-reduce.
  """
  if jax.process_count() == 1:
    return bool(flag)
  return bool(np.any(multihost_utils.process_allgather(
      np.asarray(bool(flag)))))


def data_parallel_value_and_grad(loss_fn, mesh: jax.sharding.Mesh):
  """`jax.value_and_grad(loss_fn, has_aux=True)` with the batch on 'data'.

  Each device differentiates the loss of its own rows of the batch; one
  all-reduce then averages (loss, aux, grads) over the `data` axis. For a
  loss that is a mean over rows (and equal rows per device) this is the
  global-batch value and gradient, to float rounding.

  Written out rather than left to the jit partitioner because, for the
  recurrent model, the partitioner all-reduces parameter gradients inside
  the backward time loop, once per chunk: between two CPU processes over
  gloo that measured 2-8 s per tiny step, against 0.04-0.07 s with the one
  all-reduce here.

  Args:
    loss_fn: (params, batch, *consts) -> (scalar loss, aux dict); consts
      are replicated and not differentiated (e.g. a sparse layout).
    mesh: mesh with a `data` axis; params are replicated, batch rows split.

  Returns:
    (params, batch, *consts) -> ((loss, aux), grads), all replicated.
  """
  def local(params, batch, *consts):
    out = jax.value_and_grad(loss_fn, has_aux=True)(params, batch, *consts)
    return jax.lax.pmean(out, 'data')

  def value_and_grad(params, batch, *consts):
    # check_vma=False: the model's scans start from unvarying zero carries.
    sharded = jax.shard_map(local, mesh=mesh,
                            in_specs=(P(), P('data')) + (P(),) * len(consts),
                            out_specs=P(), check_vma=False)
    # A no-op on a batch already split on 'data' (as train.py passes it).
    return sharded(params, jax.reshard(batch, NamedSharding(mesh, P('data'))),
                   *consts)
  return value_and_grad
