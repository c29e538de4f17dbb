r"""LPCNet's sampling tricks on a trained model, scored by copy-synthesis.

  PYTHONPATH=. python experiments/studies/sampling_tricks.py \
      --workdir=pretrained/dense384_lpc_pitch_v2 [--utterances=8]

(RESULTS' rows ran on pretrained/dense384_lpc, since archived: restore it
with `git restore --source=archive/2026-12-02 -- pretrained/dense384_lpc`,
docs/PRETRAINED_HISTORY.md.)

An experiment beside the library (it patches the sampler's draw, which
`Vocoder.generate` keeps at plain temperature-1 sampling): LPCNet modifies
each output distribution before drawing (Valin & Skoglund 2019, sampling):
  threshold  p <- max(p - T, 0), renormalised: no draws from the
             low-probability tail (LPCNet: T = 0.002); here per softmax
             (coarse, fine);
  voiced     a per-frame temperature 1 / (1 + k max(0, 1.5 g - 0.5)) where
             g is the frame's voicing (`pitch.from_mel`): sharper
             distributions in voiced frames only;
  constant   one temperature everywhere (the `generate` argument).
Prints one JSON line per setting: PESQ-WB / STOI / MCD of the first
`utterances` test utterances, utterance i vocoded with seed i (so the
`constant 1` row is the evaluation's).
"""

import inspect
import json
import sys

from absl import app
from absl import flags
import jax
import jax.numpy as jnp
import numpy as np

from wavernn_jax import vocoder as vocoder_lib
from wavernn_jax.evaluation import metrics
from wavernn_jax.features import pitch
from wavernn_jax.synthesis import sampling
from wavernn_jax.training import input_pipeline

_WORKDIR = flags.DEFINE_string('workdir',
                               'pretrained/dense384_lpc_pitch_v2',
                               'trained model (workdir or pretrained/NAME)')
_UTTERANCES = flags.DEFINE_integer('utterances', 8, 'test utterances scored')

# (kind, coarse threshold or k or temperature, fine threshold).
SETTINGS = (('constant', 1.0, None), ('threshold', 0.002, 0.002),
            ('threshold', 0.002, 0.0), ('threshold', 0.01, 0.002),
            ('threshold', 0.02, 0.005), ('voiced', 1.0, None),
            ('voiced', 2.0, None), ('constant', 0.7, None))


def _thresholded_draw(thr_coarse, thr_fine):
  """`sampling._draw` with LPCNet's threshold; coarse is drawn first."""
  calls = [0]

  def draw(logits_Bx256, u_B, temperature):
    probs = jax.nn.softmax(logits_Bx256 / temperature, axis=-1)
    thr = thr_coarse if calls[0] % 2 == 0 else thr_fine
    calls[0] += 1
    if thr:
      probs = jnp.maximum(probs - thr, 0.0)
    cdf = jnp.cumsum(probs, axis=-1)
    idx = jnp.sum(cdf < u_B[:, None] * cdf[:, -1:], axis=-1)
    return jnp.minimum(idx, 255).astype(jnp.int32)
  return draw


def _per_frame_temperature_sampler():
  """`sampling.sample` with a temperature per frame [F] (same draws)."""
  source = inspect.getsource(sampling.sample.__wrapped__)
  for old, new in (
      ('@functools.partial(jax.jit, static_argnames=(\'hop\',))\n', ''),
      ('def sample_step(carry, u_Bx2, xin_BxG, a_BxK):',
       'def sample_step(carry, u_Bx2, xin_BxG, a_BxK, temperature):'),
      ('index, xin_BxU = frame_inputs', 'index, xin_BxU, tau = frame_inputs'),
      ('sample_step(c, *ux, a_BxK)', 'sample_step(c, *ux, a_BxK, tau)'),
      ('sample_step(c, u, xin, a_BxK)', 'sample_step(c, u, xin, a_BxK, tau)'),
      ('(first_frame + jnp.arange(f), jnp.swapaxes(xin_BxFxG, 0, 1)))',
       '(first_frame + jnp.arange(f), jnp.swapaxes(xin_BxFxG, 0, 1), '
       'temperature))')):
    if old not in source:
      sys.exit('error: sampling.sample changed; update the patterns in '
               'experiments/studies/sampling_tricks.py.')
    source = source.replace(old, new)
  namespace = dict(sampling.__dict__)
  # Looked up when traced, so a patched `sampling._draw` applies here too.
  namespace['_draw'] = lambda *args: sampling._draw(*args)  # pylint: disable=protected-access
  exec(source, namespace)  # pylint: disable=exec-used
  return jax.jit(namespace['sample'], static_argnames=('hop',))


def main(argv):
  del argv
  if _UTTERANCES.value < 1:
    sys.exit(f'error: --utterances={_UTTERANCES.value} scores nothing; give '
             'at least 1.')
  voc = vocoder_lib.Vocoder.restore(_WORKDIR.value)
  source = input_pipeline.load_split(voc.config, 'test')
  hop = voc.hop_length
  utterances = [np.asarray(source[i]['audio'])
                for i in range(min(_UTTERANCES.value, len(source)))]
  plain_draw, plain_sample = sampling._draw, sampling.sample  # pylint: disable=protected-access
  per_frame = _per_frame_temperature_sampler()
  for kind, a, b in SETTINGS:
    jax.clear_caches()
    sampling._draw = (_thresholded_draw(a, b) if kind == 'threshold'  # pylint: disable=protected-access
                      else plain_draw)
    rows = []
    for i, audio in enumerate(utterances):
      audio = audio[:len(audio) // hop * hop]
      mel = voc.mel(audio)
      tau = np.ones(mel.shape[1], np.float32)
      if kind == 'constant':
        tau[:] = a
      elif kind == 'voiced':
        _, g = pitch.from_mel(jnp.asarray(mel), voc.mel_config)
        tau = 1.0 / (1.0 + a * np.maximum(0.0, 1.5 * np.asarray(g)[0] - 0.5))
      # Chunks may run past the last frame (padding): temperature 1 there.
      tau_all = jnp.asarray(np.concatenate([tau, np.ones(4096)]), jnp.float32)

      def sample(w, xin, key, temperature, hop_, carry=None, first_frame=0,
                 tau_all=tau_all):
        del temperature
        tau_f = jax.lax.dynamic_slice(tau_all, (first_frame,), (xin.shape[1],))
        return per_frame(w, xin, key, tau_f, hop_, carry, first_frame)
      sampling.sample = sample
      gen, _ = voc.generate(mel, seed=i)
      sampling.sample = plain_sample
      rows.append(metrics.copy_synthesis_scores(audio, gen[0],
                                                voc.sample_rate,
                                                voc.mel_config))
    scores = {k: float(np.nanmean([r[k] for r in rows]))
              for k in ('pesq_wb', 'stoi', 'mcd_db')}
    setting = dict(kind=kind, value=a)
    if kind == 'threshold':
      setting = dict(kind=kind, coarse=a, fine=b)
    print(json.dumps(dict(setting, utterances=len(rows), **scores)),
          flush=True)


if __name__ == '__main__':
  app.run(main)
