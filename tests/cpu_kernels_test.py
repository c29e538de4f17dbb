"""The fused CPU kernels (issue 37) against NumPy and against the XLA path."""

import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments.configs import wavernn
from wavernn_jax import vocoder as vocoder_lib
from wavernn_jax.kernels import cpu_kernels
from wavernn_jax.models import model
from wavernn_jax.models import sparse_training
from wavernn_jax.models import sparsity
from wavernn_jax.training import input_pipeline
from wavernn_jax.training import train
from wavernn_jax.utils import errors

pytestmark = pytest.mark.skipif(not cpu_kernels.available(),
                                reason='the fused CPU kernels did not build')


def _sigmoid(x):
  return 1.0 / (1.0 + np.exp(-x))


def _numpy_gru(xin, a, w, h0, vals, idx):
  """The recurrence by hand, in float64: every h_t."""
  t_size, b_size, _ = a.shape
  p = t_size // xin.shape[0]
  j_size, m_size, bh = vals.shape
  h = h0.astype(np.float64)
  hid = h.shape[1]
  out = []
  for t in range(t_size):
    rh = np.zeros((b_size, j_size * bh))
    for j in range(j_size):
      for m in range(m_size):
        rh[:, j * bh:(j + 1) * bh] += h[:, idx[j, m], None] * vals[j, m]
    x = xin[t // p] + a[t] @ w
    u = _sigmoid(rh[:, :hid] + x[:, :hid])
    r = _sigmoid(rh[:, hid:2 * hid] + x[:, hid:2 * hid])
    e = np.tanh(r * rh[:, 2 * hid:] + x[:, 2 * hid:])
    h = u * h + (1 - u) * e
    out.append(h)
  return np.stack(out)


def _random_inputs(t, b, hid, bh, m, k, frames, seed=0):
  rng = np.random.default_rng(seed)
  g = 3 * hid
  j = g // bh
  idx = np.stack([rng.choice(hid, m, replace=False) for _ in range(j)])
  f32 = lambda *s, scale=1.0: (rng.normal(size=s) * scale).astype(np.float32)
  return (f32(frames, b, g), f32(t, b, k), f32(k, g, scale=0.5),
          f32(b, hid, scale=0.5), f32(j, m, bh, scale=0.3),
          idx.astype(np.int32))


@pytest.mark.parametrize('t, b, hid, bh, m, k, frames', [
    (12, 3, 32, 16, 5, 3, 4),  # The 16-row blocks' vector path.
    (9, 5, 6, 2, 3, 0, 9),  # Odd sizes, scalar path, no scalar inputs.
    (8, 1, 16, 4, 16, 5, 2),  # Batch 1, every column kept.
])
def test_forward_equals_numpy(t, b, hid, bh, m, k, frames):
  args = _random_inputs(t, b, hid, bh, m, k, frames)
  got = cpu_kernels.gru_sequence(*map(jnp.asarray, args))
  np.testing.assert_allclose(got, _numpy_gru(*args), rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize('t, b, hid, bh, m, k, frames', [
    (12, 3, 32, 16, 5, 3, 4), (9, 5, 6, 2, 3, 2, 3)])
def test_every_gradient_equals_jax_grad_of_a_transcription(
    t, b, hid, bh, m, k, frames):
  """Every gradient against jax.grad of a pure-JAX transcription."""
  args = [jnp.asarray(x) for x in _random_inputs(t, b, hid, bh, m, k,
                                                 frames)]
  idx = args[-1]
  ct = jnp.asarray(np.random.default_rng(9).normal(size=(t, b, hid)),
                   jnp.float32)

  def reference(xin, a, w, h0, vals):
    dense = jnp.zeros((hid, 3 * hid)).at[
        idx[:, :, None], jnp.arange(3 * hid).reshape(-1, bh)[:, None, :]].add(
            vals)
    p = t // frames

    def step(h, inputs):
      tt, a_t = inputs
      x = xin[tt // p] + a_t @ w
      h = model.gru(h.reshape(b, 2, -1), (h @ dense).reshape(b, 3, 2, -1),
                    x.reshape(b, 3, 2, -1)).reshape(b, hid)
      return h, h
    return jax.lax.scan(step, h0, (jnp.arange(t), a))[1]

  loss = lambda f: lambda *x: (f(*x) * ct).sum()
  fused = lambda *x: cpu_kernels.gru_sequence(*x, idx)
  want = jax.grad(loss(reference), argnums=range(5))(*args[:5])
  got = jax.grad(loss(fused), argnums=range(5))(*args[:5])
  for name, g, r in zip(('xin', 'a', 'w', 'h0', 'vals'), got, want):
    assert np.abs(r).max() > 0, name
    np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-5 * np.abs(r).max(),
                               err_msg=name)


def _loss_and_grads(config, params, window, layouts):
  net = vocoder_lib.make_net(config)
  mel_cfg = vocoder_lib.mel_config(config)
  ctx = input_pipeline.context_frames(config)
  loss = lambda p: train.window_nll(net, mel_cfg, ctx, p, window, layouts)[0]
  return jax.jit(jax.value_and_grad(loss))(params)


@pytest.mark.parametrize('arg, block, options', [
    # The flagship's options: scalar inputs, LPC, pitch (the kernel makes
    # the input terms), R and the heads pruned in 16x1 blocks.
    ('variant=sparse,block=16x1', (16, 1),
     dict(embed_inputs=False, lpc_order=8, pitch=True, emphasis=0.85)),
    # Embedded bytes: the input terms are made outside the kernel.
    ('variant=sparse,block=4x4', (4, 4), dict(embed_inputs=True)),
    # Linear upsampling, no LPC; a dense R through the kernel.
    ('variant=dense', None, dict(upsample='linear')),
])
def test_training_loss_and_every_gradient_equal_the_xla_path(arg, block,
                                                             options):
  config = wavernn.get_config(f'{arg},preset=tiny,hidden=64')
  config.model.update(options)
  config.data.batch_size = 3
  params = vocoder_lib.init_params(config, jax.random.key(0))
  layouts = None
  if block is not None:
    keys = ('R', 'O1', 'O2', 'O3', 'O4')
    noise = np.random.default_rng(1)
    layouts = {}
    for key in keys:
      w = params['params'][key]
      mask = np.asarray(sparsity.block_mask(
          jnp.asarray(noise.normal(size=w.shape)), 0.7, block, True))
      layouts[key] = sparse_training.layout(mask, block)
  window = np.random.default_rng(3).integers(
      -3000, 3000, (3, input_pipeline.window_samples(config)), np.int16)
  results = {}
  for kernel in ('xla', 'fused'):
    config.model.kernel = kernel
    results[kernel] = _loss_and_grads(config, params, window, layouts)
  (loss, grads), (ref_loss, ref_grads) = results['fused'], results['xla']
  np.testing.assert_allclose(loss, ref_loss, rtol=1e-5)
  leaves = jax.tree_util.tree_leaves_with_path(ref_grads)
  assert jax.tree_util.tree_structure(grads) == jax.tree_util.tree_structure(
      ref_grads)
  for (path, want), got in zip(leaves, jax.tree_util.tree_leaves(grads)):
    np.testing.assert_allclose(got, want, rtol=1e-4,
                               atol=2e-5 * np.abs(want).max() + 1e-9,
                               err_msg=jax.tree_util.keystr(path))


def test_log_prob_of_a_long_input_is_chunked_and_equals_the_xla_path():
  """A whole utterance: several kernel calls (chunks of frames), the state
  carried from one to the next."""
  config = wavernn.get_config('variant=dense,preset=tiny,hidden=32')
  config.model.update(embed_inputs=False, lpc_order=4)
  params = vocoder_lib.init_params(config, jax.random.key(2))
  frames = 2 * model.FUSED_CHUNK_FRAMES + 4  # Chunks of 12 frames.
  hop = config.mel.hop_length
  audio = np.random.default_rng(4).integers(-2000, 2000, (2, frames * hop),
                                            np.int16)
  out = {}
  for kernel in ('xla', 'fused'):
    config.model.kernel = kernel
    net = vocoder_lib.make_net(config)
    mel = model.mel_lib.log_mel(model.quantization.to_float(audio),
                                vocoder_lib.mel_config(config))
    out[kernel] = jax.jit(net.apply)(params, audio, mel)
  for got, want in zip(out['fused'], out['xla']):
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)


def test_the_config_field_picks_the_path():
  cfg = lambda **kw: model.ModelConfig(hidden=8, **kw)
  assert not cfg(kernel='xla').fused()
  assert cfg(kernel='auto').fused()  # Built here (the module is not skipped).
  assert cfg(kernel='fused').fused()
  assert not cfg(kernel='auto', matmul_dtype='bfloat16').fused()
  with pytest.raises(errors.UserError, match='float32'):
    cfg(kernel='fused', matmul_dtype='bfloat16').fused()
  with pytest.raises(errors.UserError, match='unknown'):
    cfg(kernel='avx')


@pytest.mark.parametrize('block', [(16, 1), (4, 4), (2, 1)])
def test_block_sparse_matmul_and_its_gradients_equal_the_masked_product(
    block):
  """Rows beyond one tile (70 = 2 x 32 + 6), every block shape."""
  rng = np.random.default_rng(6)
  w = rng.normal(size=(48, 64)).astype(np.float32)
  mask = np.asarray(sparsity.block_mask(jnp.asarray(rng.normal(size=w.shape)),
                                        0.6, block, False))
  lay = sparse_training.layout(mask, block)
  x = jnp.asarray(rng.normal(size=(70, 48)), jnp.float32)
  dy = jnp.asarray(rng.normal(size=(70, 64)), jnp.float32)

  def fused(x, w):
    return cpu_kernels.block_sparse_matmul(
        x, *cpu_kernels.kept_blocks(lay.gather(w)))
  want = x @ (w * mask)
  np.testing.assert_allclose(fused(x, jnp.asarray(w)), want, rtol=1e-5,
                             atol=1e-5)
  loss = lambda f: lambda x, w: (f(x, w) * dy).sum()
  got = jax.grad(loss(fused), argnums=(0, 1))(x, jnp.asarray(w))
  ref = jax.grad(loss(lambda x, w: x @ (w * mask)), argnums=(0, 1))(
      x, jnp.asarray(w))
  for g, r in zip(got, ref):
    np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-4)
  assert (np.asarray(got[1])[~mask] == 0).all()


# Threads that allocate after tune_malloc share the main arena: a fresh
# process counts the heaps glibc's malloc_info reports.
_ARENAS = r'''
import ctypes, os, sys, tempfile, threading
import numpy as np
from wavernn_jax.kernels import cpu_kernels
if sys.argv[1] == 'tuned':
  assert cpu_kernels.tune_malloc()
def work():
  for _ in range(20):
    np.ones(1 << 18).sum()  # 2 MB from this thread's arena.
threads = [threading.Thread(target=work) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
path = os.path.join(tempfile.mkdtemp(), 'info.xml')
f = libc.fopen(path.encode(), b'w')
libc.malloc_info(0, ctypes.c_void_p(f))
libc.fclose(ctypes.c_void_p(f))
print(open(path).read().count('<heap nr='))
'''


@pytest.mark.skipif(sys.platform != 'linux', reason='glibc only')
def test_tune_malloc_gives_every_thread_the_one_arena():
  def heaps(mode):
    out = subprocess.run([sys.executable, '-c', _ARENAS, mode], check=True,
                         capture_output=True, text=True).stdout
    return int(out.split()[-1])
  assert heaps('tuned') == 1
  assert heaps('default') > 1  # The test can see more than one.
