"""The fused CPU sampler (issue 37) against the XLA sampler and the model.

Float order differs between the two samplers (sums, tanh, exp), so the
same uniforms can give a different draw where a uniform falls within
rounding of a CDF step, and the two sample paths part from there. So the
check is per step: given the fused sampler's own past, the XLA draw from the
model's teacher-forced logits and the same uniform is the fused draw, but
for a bounded fraction; and ln P of each draw agrees with `log_prob`.
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments.configs import wavernn
from wavernn_jax import vocoder as vocoder_lib
from wavernn_jax.features import lpc
from wavernn_jax.features import quantization
from wavernn_jax.kernels import cpu_kernels
from wavernn_jax.models import model as model_lib
from wavernn_jax.synthesis import sampling
from wavernn_jax.synthesis import sparse_sampling

pytestmark = pytest.mark.skipif(not cpu_kernels.available(),
                                reason='the fused CPU kernels did not build')

# The flagship's recipe (scalar byte inputs, LPC, pitch, linear upsampling,
# pre-emphasis), R and the heads pruned in 16x1 blocks; and the plain cell.
FLAGSHIP = dict(embed_inputs=False, emphasis=0.85, lpc_order=16, pitch=True,
                upsample='linear')
FRAMES = 10


def _vocoder(prune: bool, **model):
  config = wavernn.get_config('preset=tiny,hidden=64')
  config.model.update(model)
  voc = vocoder_lib.Vocoder.from_config(config, seed=0)
  if prune:
    # Unbalanced: block-rows of different lengths (zero padding the
    # kernel skips).
    voc.prune(0.75, (16, 1), ('R_u', 'R_r', 'R_e', 'O1', 'O2', 'O3', 'O4'),
              balance_rows=False)
  return voc


def _mel(voc, frames=FRAMES, seed=0):
  rng = np.random.default_rng(seed)
  t = np.arange(frames * voc.hop_length)
  wave = (0.3 * np.sin(2 * np.pi * 180 * t / 16000) * np.sin(t / 700) +
          0.05 * rng.normal(size=t.size))
  return voc.mel(np.stack([wave, wave[::-1]]).astype(np.float32))


def _sample(voc, mel, fused, chunk=4, frames=FRAMES, seed=7, temperature=1.0):
  w = sparse_sampling.sampler_weights(voc.weights(),
                                      voc.pruned_specs())
  xin = vocoder_lib.window_terms(voc.net, voc.params, mel, 0, frames,
                                 batch=mel.shape[0])
  whole = -(-frames // chunk) * chunk
  return w, xin, sampling.sample_chunks(
      w, xin[:, :whole], jax.random.key(seed), jnp.float32(temperature),
      voc.hop_length, chunk, frames=frames, fused=fused)


@pytest.mark.parametrize('prune, options', [(True, FLAGSHIP),
                                            (False, dict(embed_inputs=False))])
def test_each_draw_is_the_xla_draw_given_the_same_past(prune, options):
  voc = _vocoder(prune, **options)
  mel = _mel(voc)
  w, xin, (audio, lp, _) = _sample(voc, mel, fused=True)
  if prune:  # The block-sparse kernel path, R and heads.
    assert all(isinstance(w[k], sparse_sampling.BlockSparse)
               for k in ('R', 'O1', 'O2', 'O3', 'O4'))
  assert audio.shape == (2, FRAMES * voc.hop_length)
  assert len(np.unique(audio)) > 50
  # The model's teacher-forced logits of the fused sampler's own output.
  lp_c, lp_f, logits = voc.net.apply(voc.params, jnp.asarray(audio), mel,
                                     return_logits=True)
  np.testing.assert_allclose(lp, lp_c + lp_f, rtol=1e-4, atol=1e-4)
  # The bytes drawn: those of the excitation with LPC.
  drawn = jnp.asarray(audio)
  _, a = model_lib.split_lpc(w, xin[:, :FRAMES])
  if a is not None:
    drawn, _ = lpc.residual(drawn, a, voc.hop_length)
  c, f = quantization.split(drawn)
  # The XLA sampler's uniforms: per frame from fold_in(key, frame).
  key = jax.random.key(7)
  u = jnp.concatenate([jax.random.uniform(jax.random.fold_in(key, i),
                                          (voc.hop_length, 2, 2))
                       for i in range(FRAMES)])  # [T, B, 2]
  t = FRAMES * voc.hop_length
  draw = sampling._draw  # pylint: disable=protected-access
  want_c = draw(logits[:, :, 0].reshape(-1, 256),
                u[:, :, 0].T.reshape(-1), 1.0).reshape(2, t)
  want_f = draw(logits[:, :, 1].reshape(-1, 256),
                u[:, :, 1].T.reshape(-1), 1.0).reshape(2, t)
  differ = float(np.mean(np.asarray(want_c != c)) +
                 np.mean(np.asarray(want_f != f)))
  assert differ <= 2e-3, differ


def test_chunks_and_padding_give_the_one_call_result():
  """Chunks of 3 frames (the last padded) equal one call of the 10 frames
  padded to 12; the carry after is the same, bit for bit."""
  voc = _vocoder(True, **FLAGSHIP)
  mel = _mel(voc)
  _, _, (a3, lp3, carry3) = _sample(voc, mel, fused=True, chunk=3)
  _, _, (a12, lp12, carry12) = _sample(voc, mel, fused=True, chunk=12)
  np.testing.assert_array_equal(a3, a12)
  np.testing.assert_array_equal(lp3, lp12)
  for x, y in zip(carry3, carry12):
    np.testing.assert_array_equal(x, y)


def test_half_storage_is_exact_and_one_row_is_a_batch_row(monkeypatch):
  """Block-sparse values stored in float16 (`Vocoder.sparse_dtype`) draw
  exactly what the float32 path draws on the same numbers, at batch 2 and
  at batch 1 (the packed single-row product); and batch 1 draws, bit for
  bit, row 0 of a batch of 2 given the same uniforms."""
  voc = _vocoder(True, **FLAGSHIP)  # Unbalanced rows: padded groups.
  mel = _mel(voc)
  w = sparse_sampling.sampler_weights(voc.weights(), voc.pruned_specs())
  def stored(dtype):
    return {k: sparse_sampling.BlockSparse(
        v.values.astype(jnp.float16).astype(dtype), v.idx, v.shape, v.block)
            if isinstance(v, sparse_sampling.BlockSparse) else v
            for k, v in w.items()}
  half, single = stored(jnp.float16), stored(jnp.float32)
  xin = vocoder_lib.window_terms(voc.net, voc.params, mel, 0, FRAMES,
                                 batch=2)
  xin = jnp.concatenate([xin[:1], xin[:1]])[:, :FRAMES]  # One, twice.
  u = jax.random.uniform(jax.random.key(5), (FRAMES, voc.hop_length, 2, 2))
  key, temp = jax.random.key(0), jnp.float32(1.0)
  asked = []  # The matrices sample_fused asks the kernel to read in half.
  real = cpu_kernels.sample_frames
  monkeypatch.setattr(cpu_kernels, 'sample_frames', lambda *a: (
      asked.append(tuple(a[-1])), real(*a))[1])
  out = {}
  for name, weights in (('half', half), ('single', single)):
    for b in (1, 2):
      out[name, b] = sampling.sample_fused(weights, xin[:b], key, temp,
                                           voc.hop_length,
                                           u_FxPxBx2=u[:, :, :b])
  assert asked == [('R', 'O1', 'O2', 'O3', 'O4')] * 2 + [()] * 2
  for b in (1, 2):
    for x, y in zip(out['half', b][:2], out['single', b][:2]):
      np.testing.assert_array_equal(x, y)
  for x, y in zip(out['half', 1][:2], out['half', 2][:2]):
    np.testing.assert_array_equal(x[0], y[0])
  assert len(np.unique(np.asarray(out['half', 1][0]))) > 50
  # Rounding to float16 moved the weights: other ln P than float32's.
  full = sampling.sample_fused(w, xin[:1], key, temp, voc.hop_length,
                               u_FxPxBx2=u[:, :, :1])
  assert not np.array_equal(full[1], out['half', 1][1])


def test_temperature_sharpens_the_draws():
  voc = _vocoder(False, embed_inputs=False)
  mel = _mel(voc)
  spread = {}
  for temp in (1.0, 0.05):
    _, _, (audio, lp, _) = _sample(voc, mel, fused=True, temperature=temp)
    spread[temp] = float(np.mean(lp))  # ln P at temperature 1 of the draws.
  # Cold draws pick likelier samples.
  assert spread[0.05] > spread[1.0] + 0.5


def test_which_weights_the_fused_sampler_takes():
  dense = _vocoder(False, embed_inputs=False)
  w = dense.weights()
  assert sampling.pick_fused(w, 'auto') and sampling.pick_fused(w, 'fused')
  assert not sampling.pick_fused(w, 'xla')
  embedded = _vocoder(False, embed_inputs=True)
  w = embedded.weights()
  assert 'embedded' in sampling.fused_unsupported(w)
  assert not sampling.pick_fused(w, 'fused')  # Falls back to XLA.
  bf16 = {**w, 'I_prev': 0, 'R': w['R'].astype(jnp.bfloat16)}
  assert 'bfloat16' in sampling.fused_unsupported(bf16)


def test_generate_runs_the_path_model_kernel_picks(monkeypatch):
  voc = _vocoder(True, **FLAGSHIP)
  mel = _mel(voc)[:1]
  seen = []
  for name in ('sample', 'sample_fused'):
    real = getattr(sampling, name)
    monkeypatch.setattr(sampling, name, lambda *a, real=real, name=name: (
        seen.append(name), real(*a))[1])
  out = {}
  for kernel in ('xla', 'fused', 'auto'):
    voc.variant = dataclasses.replace(voc.variant, model=dataclasses.replace(
        voc.model_config, kernel=kernel))
    out[kernel], _ = voc.generate(mel, seed=3)
  assert seen[0] == 'sample' and set(seen[1:]) == {'sample_fused'}
  np.testing.assert_array_equal(out['fused'], out['auto'])
