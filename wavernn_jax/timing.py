"""Wall-clock time spent tracing, lowering and compiling JAX code.

    with timing.CompileTimer() as ct:
      voc.generate(mel)
    ct.seconds   # of the call's wall time, spent making executables

Benchmarks and `launch.py --mode=vocode` report compile time apart from
the run time with it: the sum of JAX's own duration events (tracing,
lowering to MLIR, backend compilation) while the block runs.
"""

import threading

import jax

# JAX's monitoring events for the three stages of making an executable.
COMPILE_EVENTS = ('/jax/core/compile/jaxpr_trace_duration',
                  '/jax/core/compile/jaxpr_to_mlir_module_duration',
                  '/jax/core/compile/backend_compile_duration')


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
