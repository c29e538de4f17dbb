"""Wall-clock time spent tracing, lowering and compiling JAX code.

    with timing.CompileTimer() as ct:
      voc.generate(mel)
    ct.seconds   # of the call's wall time, spent making executables

Benchmarks and `launch.py --mode=vocode` report compile time apart from
the run time with it: the sum of JAX's own duration events (tracing,
lowering to MLIR, backend compilation) while the block runs. `machine()`
names what a speed was measured on (CPU model, vector extensions, cores).
"""

import os
import threading

import jax

# JAX's monitoring events for the three stages of making an executable.
COMPILE_EVENTS = ('/jax/core/compile/jaxpr_trace_duration',
                  '/jax/core/compile/jaxpr_to_mlir_module_duration',
                  '/jax/core/compile/backend_compile_duration')


# The CPU flags that change how fast XLA-CPU's matmuls run.
VECTOR_FLAGS = ('avx2', 'fma', 'avx512f', 'avx512_bf16', 'avx512_vnni',
                'amx_bf16')


def machine(cpuinfo: str = '/proc/cpuinfo') -> dict:
  """{'cpu': model name, 'cpu_flags': the VECTOR_FLAGS it has, 'cores':
  the cores this process may run on}, for every speed reported."""
  try:
    with open(cpuinfo) as f:
      lines = f.read().splitlines()
  except OSError:
    lines = []
  flags = set(next((l.split(':', 1)[1].split() for l in lines
                    if l.startswith('flags')), []))
  model = next((l.split(':', 1)[1].strip() for l in lines
                if l.startswith('model name')), 'unknown')
  return dict(cpu=model, cpu_flags=[f for f in VECTOR_FLAGS if f in flags],
              cores=len(os.sched_getaffinity(0)))


class CompileTimer:
  """Context manager: `seconds` of compile events in the calling thread."""

  def __init__(self):
    self.seconds = 0.0
    self.count = 0  # backend compiles (executables made).
    self._thread = None

  def _listener(self, event: str, duration: float, **kwargs):
    del kwargs
    if threading.get_ident() != self._thread or event not in COMPILE_EVENTS:
      return
    self.seconds += duration
    self.count += event == COMPILE_EVENTS[-1]

  def __enter__(self) -> 'CompileTimer':
    self._thread = threading.get_ident()
    jax.monitoring.register_event_duration_secs_listener(self._listener)
    return self

  def __exit__(self, *exc):
    jax.monitoring.unregister_event_duration_listener(self._listener)
    return False
