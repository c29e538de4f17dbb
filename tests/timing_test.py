"""CompileTimer counts the compiling of the code run in its block, only."""

import os
import subprocess
import sys
import threading

import jax
import jax.numpy as jnp

from wavernn_jax.utils import timing


def test_compile_time_counted_once_per_shape():
  f = jax.jit(lambda x: jnp.tanh(x) @ x.T)
  x = jnp.ones((64, 64))
  with timing.CompileTimer() as first:
    f(x).block_until_ready()
  assert first.count >= 1 and first.seconds > 0
  with timing.CompileTimer() as again:  # Cached: nothing compiled.
    f(x).block_until_ready()
  assert again.count == 0 and again.seconds == 0.0
  with timing.CompileTimer() as new_shape:
    f(jnp.ones((32, 64))).block_until_ready()
  assert new_shape.count >= 1


def test_other_threads_compiling_are_not_counted():
  g = jax.jit(lambda x: jnp.cos(x) * 3.0)
  with timing.CompileTimer() as ct:
    t = threading.Thread(target=lambda: g(jnp.ones(7)).block_until_ready())
    t.start()
    t.join()
  assert ct.count == 0 and ct.seconds == 0.0


def test_machine_names_the_cpu_and_its_vector_flags(tmp_path):
  info = tmp_path / 'cpuinfo'
  info.write_text('processor\t: 0\nmodel name\t: AMD EPYC\n'
                  'flags\t\t: fpu sse2 avx avx2 fma avx512f avx512_bf16\n')
  m = timing.machine(str(info))
  assert m['cpu'] == 'AMD EPYC'
  assert m['cpu_flags'] == ['avx2', 'fma', 'avx512f', 'avx512_bf16']
  # The cores this process may run on: one when pinned to one.
  pinned = subprocess.run(
      [sys.executable, '-c', 'import os; os.sched_setaffinity(0, '
       '{min(os.sched_getaffinity(0))}); from wavernn_jax.utils import timing; '
       'print(timing.machine()["cores"])'], capture_output=True, text=True,
      check=True, cwd=os.path.dirname(os.path.dirname(__file__)))
  assert pinned.stdout.strip() == '1'
  assert m['cores'] == len(os.sched_getaffinity(0))
  assert timing.machine(str(tmp_path / 'absent'))['cpu_flags'] == []
