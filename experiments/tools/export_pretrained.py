r"""Exports a trained workdir as a shipped model under pretrained/<name>/.

  python experiments/tools/export_pretrained.py --workdir=workdirs/long/dense384 \
      --name=dense384 --eval_json=workdirs/long/dense384/eval_test.json \
      --command="experiments/studies/train_pretrained.sh workdirs/long (lane 1)" \
      --trained_on="55 min on one core of a 2-core AMD EPYC VM"

Writes the parameters (no optimizer state), `card.json` with the model's
teacher-forced NLL on the held-out clip (the number the test checks), its
size and step, and MODEL_CARD.md: the config, corpus and split, steps, wall
time, the held-out metrics of `--eval_json` (the JSON line printed by
`launch.py --mode=evaluate --quality=N`) and the commands.
"""

import json
import os

from absl import app
from absl import flags
import jax
import numpy as np

from wavernn_jax import vocoder as vocoder_lib
from wavernn_jax.evaluation import evaluate
from wavernn_jax.models import model as model_lib
from wavernn_jax.utils import audio_io
from wavernn_jax.utils import history

_WORKDIR = flags.DEFINE_string('workdir', None, 'Training workdir.',
                               required=True)
_NAME = flags.DEFINE_string('name', None, 'Name under pretrained/.',
                            required=True)
_CLIP = flags.DEFINE_string('clip', 'tests/fixtures/heldout_clip.wav',
                            'Held-out clip whose NLL goes in the card.')
_EVAL_JSON = flags.DEFINE_string(
    'eval_json', None, 'File holding the JSON line of launch.py '
    '--mode=evaluate (optionally with --quality) for the model card.')
_COMMAND = flags.DEFINE_string('command', None,
                               'The command that trained the model.')
_TRAINED_ON = flags.DEFINE_string(
    'trained_on', None, 'Wall time and machine of the training run '
    '(default: the train_seconds the workdir logged).')
_NOTE = flags.DEFINE_string('note', '', 'A closing paragraph for the card.')
_SPEED_JSON = flags.DEFINE_string(
    'speed_json', None, 'JSON lines of `bench_sampling.py --path=vocode` '
    'on this workdir: its warm-cache row goes in the card.')
# LPCNet's published cost (Valin & Skoglund, 2019): ~3 GFLOPS at 16 kHz.
LPCNET_GFLOPS = 3.0


def main(argv):
  del argv
  voc = vocoder_lib.Vocoder.restore(_WORKDIR.value)
  voc.params = jax.device_get(voc.params)
  out = os.path.join('pretrained', _NAME.value)
  voc.export(out)
  clip = audio_io.read_audio(_CLIP.value, voc.sample_rate)
  nll = evaluate.nll_bits_per_sample(voc, [clip])
  card = dict(name=_NAME.value, step=voc.step, variant=voc.config.variant,
              hidden=voc.model_config.hidden,
              params=model_lib.param_count(voc.params),
              nonzero_params=int(sum(np.count_nonzero(x) for x in
                                     jax.tree_util.tree_leaves(voc.params))),
              clip=_CLIP.value, clip_samples=int(len(clip)),
              clip_nll_bits_per_sample=nll['nll_bits_per_sample'])
  if voc.variant.counts_multiply_adds:
    card['multiply_adds_per_sample'] = voc.multiply_adds_per_sample()
  if _SPEED_JSON.value:
    card['speed'] = warm_speed(_SPEED_JSON.value, _NAME.value)
  with open(os.path.join(out, 'card.json'), 'w') as f:
    json.dump(card, f, indent=1)
  if _EVAL_JSON.value:
    with open(_EVAL_JSON.value) as f:
      result = json.loads(f.read().strip().splitlines()[-1])
    with open(os.path.join(out, 'MODEL_CARD.md'), 'w') as f:
      f.write(model_card(voc, card, result, _COMMAND.value or '(not given)',
                         _TRAINED_ON.value or _logged_time(_WORKDIR.value),
                         _NOTE.value,
                         _disk_bytes(out)))
  print(json.dumps(card))


def warm_speed(path: str, name: str) -> dict:
  """The warm-cache row of model `name` (its workdir's last folder) in a
  `bench_sampling.py --path=vocode` file (which may time others too)."""
  with open(path) as f:
    rows = [json.loads(l) for l in f if l.strip()]
  warm = [r for r in rows if r.get('compile_cache') == 'warm' and
          os.path.basename(os.path.normpath(r.get('workdir', ''))) == name]
  if not warm:
    raise app.UsageError(f'{path} has no warm-cache row of '
                         f'`bench_sampling.py --path=vocode` for {name}.')
  return warm[-1]


def _cost_row(card: dict, sample_rate: int) -> str:
  m = card['multiply_adds_per_sample']
  gflops = 2 * m['total'] * sample_rate / 1e9
  return (f"{m['total']:,.0f} multiply-adds per sample ({m['cell']:,} "
          f"non-zero cell weights, {m['lpc']} LPC taps, "
          f"{m['conditioning']:,.0f} of frame-rate conditioning): "
          f'{gflops:.2f} GFLOP/s at real time, {sample_rate / 1000:g} kHz; '
          f'LPCNet publishes ~{LPCNET_GFLOPS:g} GFLOPS at 16 kHz '
          f'({gflops / LPCNET_GFLOPS:.2f}x)')


def _speed_row(r: dict) -> str:
  flags_ = ', '.join(r.get('cpu_flags', [])) or 'flags not recorded'
  return (f"{r['samples_per_sec_generate_excl_compile']:,.0f} samples/s "
          f"({r['rtf_generate_excl_compile']:.2f}x real time) once compiled; "
          f"{r['rtf_end_to_end']:.2f}x end to end with a warm compile cache "
          f"(`launch.py --mode=vocode` of a {r['audio_seconds']:g} s file, "
          f"{r['process_wall_s']:.1f} s in all); {r.get('cpu', 'CPU')} "
          f"({flags_}), {r.get('threads', '?')} "
          f"core{'' if r.get('threads') == 1 else 's'}, JAX {r.get('jax')}")


def _logged_time(workdir: str) -> str:
  seconds = history.last_value(os.path.join(workdir, 'metrics.jsonl'),
                               'train_seconds', None)
  return 'not logged' if seconds is None else f'{seconds / 60:.0f} min'


def _disk_bytes(path: str) -> int:
  return sum(os.path.getsize(os.path.join(d, f))
             for d, _, files in os.walk(path) for f in files)


def _model_line(config) -> str:
  """The variant's defining settings, in words."""
  m = config.model
  line = f'{config.variant}, H = {m.hidden}'
  if config.get('subscale'):
    line += (f', subscale B = {config.subscale.batch_factor}, '
             f'F = {config.subscale.horizon}')
  if config.get('sparsity') and config.sparsity.get('enabled'):
    line += (f', {config.sparsity.target:.0%} block-sparse '
             f'({config.sparsity.block} blocks; {config.sparsity.matrices})')
  if m.get('emphasis'):
    line += f', pre-emphasis {m.emphasis:g}'
  if m.get('lpc_order'):
    line += f', LPC order {m.lpc_order} from the mel'
  if m.get('pitch'):
    line += ', pitch period and voicing from the mel'
  mel = config.mel
  return (line + f'; {mel.n_mels} mel bins, hop {mel.hop_length}, '
          f'{mel.sample_rate // 1000} kHz')


def model_card(voc, card: dict, result: dict, command: str, trained_on: str,
               note: str, disk_bytes: int) -> str:
  """MODEL_CARD.md: what it is, how it was trained, how it scores."""
  c = voc.config
  name = card['name']
  rows = [
      ('model', _model_line(c)),
      ('parameters', f"{card['params']:,} ({card['nonzero_params']:,} "
                     f'non-zero), {disk_bytes / 1e6:.1f} MB on disk '
                     '(parameters only)'),
      ('corpus and split', f'`{c.data.name}` train split (TFDS builder '
                           f'`data/{c.data.name}`); evaluated on its test '
                           'split'),
      ('training', f"{card['step']:,} of {c.train.steps:,} steps, batch "
                   f'{c.data.batch_size} x {c.data.crop_samples} samples, '
                   f'Adam {c.train.learning_rate:g} (cosine)'
                   + (f'; the Polyak average (decay '
                      f'{c.train.ema_decay:g}) of the params is shipped'
                      if getattr(voc, 'averaged', False) else '')),
      ('wall time / machine', trained_on),
  ]
  fmt = lambda k, d=3: (f'{result[k]:.{d}f}' if k in result else 'n/a')
  rows.append((f"held-out NLL ({result.get('split')} split, "
               f"{result.get('num_utterances')} utterances)",
               f"{fmt('nll_bits_per_sample', 2)} bits / 16-bit sample "
               f"(linear prediction {fmt('lpc_bits_per_sample', 2)}, uniform "
               f"{fmt('uniform_bits_per_sample', 2)})"))
  if 'pesq_wb' in result:
    seeds = result.get('quality_seed')
    over = (f", mean of {len(seeds)} samplings, seeds "
            f"{', '.join(map(str, seeds))}" if isinstance(seeds, list) else
            ', mean')
    rows.append((f"copy-synthesis ({result['quality_utterances']} held-out "
                 f'utterances{over})',
                 f"PESQ-WB {fmt('pesq_wb', 2)}, STOI {fmt('stoi')}, MCD "
                 f"{fmt('mcd_db', 2)} dB (Griffin-Lim on the same mels: "
                 f"{fmt('griffin_lim_pesq_wb', 2)}, "
                 f"{fmt('griffin_lim_stoi')}, "
                 f"{fmt('griffin_lim_mcd_db', 2)} dB)"))
  if 'multiply_adds_per_sample' in card:
    rows.append(('cost per sample', _cost_row(card, voc.sample_rate)))
  if 'speed' in card:
    rows.append(('vocoding speed', _speed_row(card['speed'])))
  rows.append((f"NLL on `{card['clip']}`",
               f"{card['clip_nll_bits_per_sample']:.3f} bits / sample "
               '(`card.json`; checked by `tests/pretrained_test.py`)'))
  rows.append(('command', command))
  table = '\n'.join(f'| {k} | {v} |' for k, v in rows)
  return (f'# {name} — WaveRNN ({_model_line(c)})\n\n'
          f'Restore: `Vocoder.restore("pretrained/{name}")`; vocode:\n'
          f'`python launch.py --mode=vocode --workdir=pretrained/{name} '
          '--input=in.wav --output=out.wav` (or `--mel=mel.npy`).\n\n'
          f'| field | value |\n|---|---|\n{table}\n'
          + (f'\n{note}\n' if note else '') + '\n' + mel_section(voc))


def mel_section(voc) -> str:
  """The card's mel definition (`Vocoder.mel_spec`): what a front-end
  must compute to feed the model (`launch.py --mode=vocode --mel=...`)."""
  rows = '\n'.join(f'| {k} | {v} |' for k, v in voc.mel_spec.items())
  return ('## Mel definition\n\n`Vocoder.mel_spec`; a mel given with '
          '`--mel` (float [frames, n_mels]) must follow it.\n\n'
          f'| field | value |\n|---|---|\n{rows}\n')


if __name__ == '__main__':
  app.run(main)
