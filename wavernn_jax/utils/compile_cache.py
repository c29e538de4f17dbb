"""JAX's persistent compilation cache, on by default for `launch.py`.

A second `launch.py` call with the same model (same shapes, same code, same
jax / jaxlib) loads its executables from disk instead of compiling them
again. The folder is, first found:

  --compile_cache=DIR        (launch.py; '' turns the cache off)
  $WAVERNN_JAX_COMPILE_CACHE
  $JAX_COMPILATION_CACHE_DIR (JAX's own setting)
  $XDG_CACHE_HOME/wavernn_jax/xla, else ~/.cache/wavernn_jax/xla

It is safe to delete at any time. JAX keys every entry on the computation,
the compile options, the devices and its own version, so a changed model or
an upgraded jax compiles again. `stats()` counts what the cache did in this
process (`launch.py --mode=vocode` reports it in its JSON).
"""

import os

import jax

ENV = 'WAVERNN_JAX_COMPILE_CACHE'

_counts = {'hits': 0, 'writes': 0, 'requests': 0}
_events = {'/jax/compilation_cache/cache_hits': 'hits',
           '/jax/compilation_cache/cache_misses': 'writes',
           '/jax/compilation_cache/compile_requests_use_cache': 'requests'}
_state = {'dir': None, 'listening': False}


def default_dir() -> str:
  """$WAVERNN_JAX_COMPILE_CACHE, $JAX_COMPILATION_CACHE_DIR, else the
  user's cache folder."""
  for env in (ENV, 'JAX_COMPILATION_CACHE_DIR'):
    if os.environ.get(env) is not None:
      return os.environ[env]
  base = os.environ.get('XDG_CACHE_HOME') or os.path.join(
      os.path.expanduser('~'), '.cache')
  return os.path.join(base, 'wavernn_jax', 'xla')


def _listener(event: str, **kwargs):
  del kwargs
  if event in _events:
    _counts[_events[event]] += 1


def enable(path: str | None = None) -> str | None:
  """Turns the cache on in `path` (None: `default_dir()`; '': off).

  Call before the first compile. Every executable is cached, however fast
  it compiled (the sampler's take 1-2 s, under JAX's default 1 s floor on
  a fast machine). Returns the folder, or None when off.
  """
  path = default_dir() if path is None else path
  if not path:
    return None
  path = os.path.abspath(os.path.expanduser(path))
  os.makedirs(path, exist_ok=True)
  jax.config.update('jax_compilation_cache_dir', path)
  jax.config.update('jax_persistent_cache_min_compile_time_secs', 0.0)
  jax.config.update('jax_persistent_cache_min_entry_size_bytes', 0)
  if not _state['listening']:
    jax.monitoring.register_event_listener(_listener)
    _state['listening'] = True
  _state['dir'] = path
  return path


def stats() -> dict:
  """What the cache did in this process: its folder, executables loaded
  from it (hits) and compiled and written to it (writes)."""
  return {'compile_cache_dir': _state['dir'],
          'compile_cache_hits': _counts['hits'],
          'compile_cache_writes': _counts['writes']}
