"""The fused CPU kernels (issue 37): the GRU recurrence as XLA FFI calls.

`csrc/block_sparse_gru.cc` runs a whole teacher-forced window's recurrence,
forward (T steps of R h, the gates and the new state) and its BPTT
backward, each as one call. The XLA path (`model.teacher_forced`'s nested
`lax.scan`) pays a fixed cost for each of the dozens of small ops of every
step; one call pays it once per window. `gru_sequence` wraps the two calls
in a `jax.custom_vjp`, so `jax.grad` of the loss runs them.

The library is compiled on the user's machine (g++ from Debian's packages,
`-O3 -march=native`: AVX2 and AVX-512 alike) into build/ at the repo root,
named by a hash of the source, the flags and the CPU's flags, so that a
checkout moved to another machine builds its own. `./setup_env.sh` builds
it; `available()` builds it on first use if it is missing. Where it cannot
build, `available()` is False, one line says why, and `model.kernel=auto`
runs the XLA path (the reference, and the path on GPU and TPU).

    python -m wavernn_jax.kernels.cpu_kernels   # build (or find) it; one line
"""

import ctypes
import functools
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys

from absl import logging
import jax
import jax.numpy as jnp
import numpy as np

KERNELS = ('auto', 'xla', 'fused')
_CSRC = pathlib.Path(__file__).parent / 'csrc'
_SOURCES = (_CSRC / 'block_sparse_gru.cc', _CSRC / 'sample.cc')
_HEADERS = (_CSRC / 'kernel_math.h',)
_BUILD_DIR = pathlib.Path(__file__).resolve().parents[2] / 'build'
_FLAGS = ('-O3', '-march=native', '-ffast-math', '-fopenmp-simd',
          '-std=c++17', '-shared', '-fPIC', '-Wno-psabi', '-Wno-attributes',
          '-Wno-return-type', '-Wno-aggressive-loop-optimizations')
_TARGETS = {'wavernn_gru_forward': 'WavernnGruForward',
            'wavernn_gru_backward': 'WavernnGruBackward',
            'wavernn_matmul_forward': 'WavernnMatmulForward',
            'wavernn_matmul_backward': 'WavernnMatmulBackward',
            'wavernn_sample': 'WavernnSample'}


# glibc mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_MAX, _M_ARENA_MAX = -1, -4, -8


def tune_malloc() -> bool:
  """Keeps freed memory in the process for reuse (glibc's malloc).

  XLA's CPU runtime allocates each execution's buffers anew. By default
  glibc serves blocks of tens of MB (a training window's states and gate
  terms) with a fresh mmap and returns them on free, so every step pays a
  page fault per 4 kB it touches: 12,600 faults per fused window at H = 896,
  batch 8, which took the kernel's forward from 38 to 66 ms (issue 37).
  Without mmap for large blocks and without trimming, freed blocks are
  reused. XLA runs the step on its thread pool, whose threads each get an
  arena of their own, and glibc unmaps a thread arena's heap once it is
  free whatever the trim threshold: so one arena for the process (measured
  on the flagship's fused step, one AVX2 core: 860k -> 274k page faults in
  a 22-step benchmark, 0.27 -> 0.185 CPU-s per step in alternating
  processes). Both paths gain; launch.py and the benchmarks call it at
  start, before XLA's threads allocate. Returns whether it applied (False off glibc).
  """
  try:
    libc = ctypes.CDLL(None)
    return bool(libc.mallopt(_M_MMAP_MAX, 0) and
                libc.mallopt(_M_TRIM_THRESHOLD, 2**30) and
                libc.mallopt(_M_ARENA_MAX, 1))
  except (OSError, AttributeError):
    return False


def _cpu_flags() -> str:
  try:
    for line in open('/proc/cpuinfo'):
      if line.startswith('flags'):
        return line
  except OSError:
    pass
  return ''


def library_path() -> pathlib.Path:
  """Where this machine's build of the kernels lives (build/...so)."""
  digest = hashlib.sha256()
  for part in (*(f.read_bytes() for f in _SOURCES + _HEADERS),
               ' '.join(_FLAGS).encode(), _cpu_flags().encode(),
               jax.ffi.include_dir().encode()):
    digest.update(part)
  return _BUILD_DIR / f'wavernn_cpu_kernels-{digest.hexdigest()[:16]}.so'


def build() -> pathlib.Path:
  """Compiles the kernels if this machine has no build yet; their path.

  Raises RuntimeError with one line on failure (no compiler, bad headers).
  """
  path = library_path()
  if path.exists():
    return path
  cxx = os.environ.get('CXX') or shutil.which('g++') or shutil.which('c++')
  if not cxx:
    raise RuntimeError('no C++ compiler (g++) found; install it with '
                       '`sudo apt-get install g++`')
  _BUILD_DIR.mkdir(parents=True, exist_ok=True)
  tmp = path.with_suffix(f'.{os.getpid()}.tmp')
  cmd = [cxx, *_FLAGS, f'-I{jax.ffi.include_dir()}', f'-I{_CSRC}',
         *map(str, _SOURCES), '-o', str(tmp), '-lmvec', '-lm']
  proc = subprocess.run(cmd, capture_output=True, text=True)
  if proc.returncode:
    tmp.unlink(missing_ok=True)
    last = (proc.stderr.strip().splitlines() or ['?'])[-1]
    raise RuntimeError(f'{os.path.basename(cxx)} failed: {last}')
  os.replace(tmp, path)  # Atomic: a parallel build never sees half a file.
  return path


@functools.cache
def _registered() -> str | None:
  """Builds, loads and registers the kernels once; None, or why not."""
  if os.environ.get('WAVERNN_NO_FUSED'):
    return 'WAVERNN_NO_FUSED is set'
  try:
    lib = ctypes.cdll.LoadLibrary(str(build()))
    for target, symbol in _TARGETS.items():
      jax.ffi.register_ffi_target(
          target, jax.ffi.pycapsule(getattr(lib, symbol)), platform='cpu')
  except (RuntimeError, OSError, AttributeError) as e:
    return str(e)
  return None


def available() -> bool:
  """Whether the fused kernels are built and registered (CPU only)."""
  why = _registered()
  if why is not None:
    _warn_once(why)
  return why is None


@functools.cache
def _warn_once(why: str):
  logging.warning('The fused CPU kernels are not available (%s); the XLA '
                  'path runs.', why)


def use_fused(kernel: str) -> bool:
  """Whether `model.kernel` = kernel runs the fused path here.

  'xla': never; 'auto': where the kernels are built and JAX runs on the
  CPU; 'fused': always, and raises ValueError where it cannot.
  """
  if kernel not in KERNELS:
    raise ValueError(f'model.kernel={kernel!r} is unknown; use one of '
                     f'{KERNELS}.')
  if kernel == 'xla':
    return False
  on_cpu = jax.default_backend() == 'cpu'
  if kernel == 'auto':
    return on_cpu and available()
  if not on_cpu:
    raise ValueError('model.kernel=fused runs on the CPU only; use '
                     'model.kernel=auto or xla on GPU / TPU.')
  if not available():
    raise ValueError(f'model.kernel=fused: the kernels are not built '
                     f'({_registered()}); use model.kernel=xla or auto.')
  return True


def _require():
  why = _registered()
  if why is not None:
    raise RuntimeError(f'the fused CPU kernels are not available ({why}).')


def _forward_call(xin_FxBxG, a_TxBxK, w_KxG, h0_BxH, vals_JxMxBH, idx_JxM):
  _require()
  t, b, _ = a_TxBxK.shape
  g = xin_FxBxG.shape[-1]
  h = h0_BxH.shape[1]
  return jax.ffi.ffi_call(
      'wavernn_gru_forward',
      (jax.ShapeDtypeStruct((t, b, h), jnp.float32),
       jax.ShapeDtypeStruct((t, b, g), jnp.float32)))(
           xin_FxBxG, a_TxBxK, w_KxG, h0_BxH, vals_JxMxBH, idx_JxM)


@jax.custom_vjp
def gru_sequence(xin_FxBxG, a_TxBxK, w_KxG, h0_BxH, vals_JxMxBH, idx_JxM):
  """All T states of the GRU recurrence: h_t = gru(h_{t-1}, R h_{t-1}, x_t).

  The input terms of step t (frame t // P, P = T / F) are
  x_t = xin[t // P] + a[t] @ w, made inside the kernel.

  Args:
    xin_FxBxG: float32 frame-rate input terms (gates [u | r | e], each
      [coarse | fine] half, as `model.input_term` lays them out); F = T
      with K = 0 passes any per-step terms made outside.
    a_TxBxK: float32 per-step scalar inputs (K may be 0).
    w_KxG: float32 their weight rows.
    h0_BxH: float32 initial state.
    vals_JxMxBH: float32 kept blocks of R [H, 3H] by block-row: output
      j BH + q gets sum_m h[idx[j, m]] vals[j, m, q] (padding: 0).
    idx_JxM: int32 input index of every kept column, in [0, H).

  Returns:
    h [T, B, H], equal to `model.teacher_forced`'s scan to float rounding.
  """
  return _forward_call(xin_FxBxG, a_TxBxK, w_KxG, h0_BxH, vals_JxMxBH,
                       idx_JxM)[0]


def _fwd(xin, a, w, h0, vals, idx):
  h_all, rh_all = _forward_call(xin, a, w, h0, vals, idx)
  return h_all, (xin, a, w, h0, vals, idx, h_all, rh_all)


def _bwd(res, dh_all):
  xin, a, w, h0, vals, idx, h_all, rh_all = res
  like = lambda x: jax.ShapeDtypeStruct(x.shape, jnp.float32)
  grads = jax.ffi.ffi_call(
      'wavernn_gru_backward', tuple(map(like, (xin, a, w, h0, vals))))(
          xin, a, w, h0, vals, idx, h_all, rh_all,
          dh_all.astype(jnp.float32))
  return (*grads, None)


gru_sequence.defvjp(_fwd, _bwd)


@jax.custom_vjp
def block_sparse_matmul(x_NxI, vals_JxMxBH, idx_JxM):
  """x @ W for a block-sparse W [I, J BH] given by its kept blocks (as in
  `gru_sequence`): the heads' products over all of a window's states."""
  _require()
  n = x_NxI.shape[0]
  j, _, bh = vals_JxMxBH.shape
  return jax.ffi.ffi_call(
      'wavernn_matmul_forward', jax.ShapeDtypeStruct((n, j * bh), jnp.float32))(
          x_NxI, vals_JxMxBH, idx_JxM)


def _matmul_fwd(x, vals, idx):
  return block_sparse_matmul(x, vals, idx), (x, vals, idx)


def _matmul_bwd(res, dy):
  x, vals, idx = res
  like = lambda a: jax.ShapeDtypeStruct(a.shape, jnp.float32)
  dx, dvals = jax.ffi.ffi_call('wavernn_matmul_backward', (like(x),
                                                           like(vals)))(
      x, vals, idx, dy.astype(jnp.float32))
  return dx, dvals, None


block_sparse_matmul.defvjp(_matmul_fwd, _matmul_bwd)


# The sampled matrices, in the order of the kernel's `half` bit mask.
_SAMPLED = ('R', 'O1', 'O2', 'O3', 'O4')


def sample_frames(xin_FxBxU, a_FxBxK, u_FxPxBx2, w_in_NxG, w_c, kept, carry,
                  temperature, valid, half=()):
  """A chunk of frames' sampling steps in one call (csrc/sample.cc).

  Args:
    xin_FxBxU: float32 frame input terms without LPC columns (U = G, or
      2G: value and slope of the linear upsampling).
    a_FxBxK: int32 fixed-point LPC coefficients (`lpc.fixed_point`; K = 0
      without LPC).
    u_FxPxBx2: float32 uniforms of the coarse and fine draws of each step.
    w_in_NxG: float32 I_prev's two rows, then I_lpc's two with LPC.
    w_c: float32 I_c [1, 3 H2].
    kept: {'R', 'O1'..'O4': `kept_blocks`} and 'b_O1'..'b_O4'.
    carry: (h [B, H], prev c [B], prev f [B], LPC history [B, K]), as
      `sampling.initial_carry`.
    temperature: float32 scalar.
    valid: int32 scalar: frames that are sampled (the rest are padding:
      zeros out, carry untouched).
    half: names of the matrices ('R', 'O1'..'O4') whose values are float16
      numbers: the kernel multiplies them in half-precision storage (F16C),
      half the bytes per sample. Rounds any that are not.

  Returns:
    audio int16 [F, P, B], ln P float32 [F, P, B], the carry after.
  """
  _require()
  f, p, b, _ = u_FxPxBx2.shape
  h, pc, pf, hist = carry
  mats = []
  for name in ('O1', 'O2', 'O3', 'O4'):
    mats += [*kept[name], kept['b_' + name].astype(jnp.float32)]
  out = (jax.ShapeDtypeStruct((f, p, b), jnp.int16),
         jax.ShapeDtypeStruct((f, p, b), jnp.float32),
         jax.ShapeDtypeStruct(h.shape, jnp.float32),
         jax.ShapeDtypeStruct(pc.shape, jnp.int32),
         jax.ShapeDtypeStruct(pf.shape, jnp.int32),
         jax.ShapeDtypeStruct(hist.shape, jnp.int32))
  audio, lp, *carry = jax.ffi.ffi_call('wavernn_sample', out)(
      xin_FxBxU.astype(jnp.float32), a_FxBxK.astype(jnp.int32),
      u_FxPxBx2.astype(jnp.float32), w_in_NxG.astype(jnp.float32),
      w_c.astype(jnp.float32), *kept['R'], *mats, h.astype(jnp.float32),
      pc.astype(jnp.int32), pf.astype(jnp.int32), hist.astype(jnp.int32),
      jnp.asarray(temperature, jnp.float32), jnp.asarray(valid, jnp.int32),
      half=np.int32(sum(1 << i for i, n in enumerate(_SAMPLED) if n in half)))
  return audio, lp, tuple(carry)


def kept_blocks(r):
  """(vals [J, M, BH], idx [J, M]) of R for `gru_sequence`.

  R (or a head O1..O4) is a `sparse_sampling.BlockSparse` (its kept blocks;
  BW > 1 blocks are split into BW columns) or a dense [I, O] array (every
  column kept, in block-rows of 16 outputs, or fewer where O is not a
  multiple of 16).
  Differentiable in the values either way.
  """
  if isinstance(r, jax.Array) or hasattr(r, 'ndim'):
    i, o = r.shape
    bh = next(d for d in (16, 8, 4, 2, 1) if o % d == 0)
    vals = r.astype(jnp.float32).reshape(i, o // bh, bh).transpose(1, 0, 2)
    idx = jnp.broadcast_to(jnp.arange(i, dtype=jnp.int32), (o // bh, i))
    return vals, idx
  vals = r.values.astype(jnp.float32)
  if r.block[1] != 1:  # [J, BH, M] -> [J, M, BH].
    vals = jnp.swapaxes(vals, 1, 2)
  return vals, r.idx.astype(jnp.int32)


def main():
  try:
    path = build()
  except RuntimeError as e:
    print(f'warning: the fused CPU kernels did not build ({e}); '
          'model.kernel=auto runs the XLA path.', file=sys.stderr)
    return 0
  print(f'fused CPU kernels: {path}')
  return 0


if __name__ == '__main__':
  sys.exit(main())
