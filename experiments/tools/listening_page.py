r"""A static HTML listening page: originals, copy-synthesis, Griffin-Lim.

  python experiments/tools/listening_page.py --out=workdirs/listen [--num=4] \
      [--models=dense384_lpc_pitch_v2=pretrained/dense384_lpc_pitch_v2,...]

Without --models, every shipped model (pretrained/*/card.json) is played.

For the first --num held-out (test split) utterances of the first model's
corpus (at most --max_seconds long), writes the original, each model's
copy-synthesis and the Griffin-Lim baseline as wav files with audio players,
one spectrogram figure per utterance, and the metrics table (PESQ-WB, STOI,
MCD; mean over the utterances). Open <out>/index.html in a browser; no
server is needed. Render check (Debian's chromium):
  chromium --headless --no-sandbox --disable-gpu --screenshot=shot.png \
      --window-size=1200,2000 file://$PWD/workdirs/listen/index.html
"""

import glob
import html
import os

from absl import app
from absl import flags
import matplotlib.pyplot as plt
import numpy as np

from wavernn_jax import vocoder as vocoder_lib
from wavernn_jax.evaluation import evaluate
from wavernn_jax.evaluation import metrics
from wavernn_jax.training import input_pipeline
from wavernn_jax.utils import audio_io
from wavernn_jax.utils import plotting

_OUT = flags.DEFINE_string('out', 'workdirs/listen', 'Output folder.')
_MODELS = flags.DEFINE_list('models', None, 'name=workdir pairs (default: '
                            'every model under pretrained/).')
_NUM = flags.DEFINE_integer('num', 4, 'Held-out utterances.')
_MAX_SECONDS = flags.DEFINE_float('max_seconds', 3.0,
                                  'Skip longer utterances.')


def _figure(rows, sample_rate, hop, path):
  fig, axes = plt.subplots(len(rows), 1, figsize=(8, 1.8 * len(rows)),
                           sharex=True, squeeze=False)
  lo = min(m.min() for _, m in rows)
  hi = max(m.max() for _, m in rows)
  for ax, (title, mel) in zip(axes[:, 0], rows):
    ax.imshow(mel.T, origin='lower', aspect='auto', vmin=lo, vmax=hi,
              cmap='magma',
              extent=(0, len(mel) * hop / sample_rate, 0, mel.shape[1]))
    ax.set_title(title, fontsize=9)
  axes[-1, 0].set_xlabel('time (s)')
  fig.tight_layout()
  plotting.save_figure(fig, path)


def main(argv):
  del argv
  os.makedirs(_OUT.value, exist_ok=True)
  if _MODELS.value:
    models = [tuple(m.split('=', 1)) for m in _MODELS.value]
  else:
    models = [(os.path.basename(os.path.dirname(p)), os.path.dirname(p))
              for p in sorted(glob.glob('pretrained/*/card.json'))]
  vocs = {name: vocoder_lib.Vocoder.restore(path) for name, path in models}
  first = vocs[models[0][0]]
  source = input_pipeline.load_split(first.config, 'test')
  picked = []
  for i in range(len(source)):
    ex = source[i]
    if len(ex['audio']) <= _MAX_SECONDS.value * first.sample_rate:
      picked.append(ex)
    if len(picked) == _NUM.value:
      break
  scores = {name: [] for name in list(vocs) + ['griffin_lim']}
  sections = []
  for ex in picked:
    uid = ex['id'].decode().replace('/', '_')
    hop = first.hop_length
    audio = np.asarray(ex['audio'])[:len(ex['audio']) // hop * hop]
    mel = first.mel(audio)
    clips = {'original': audio}
    for name, voc in vocs.items():
      clips[name] = voc.generate(voc.mel(audio), seed=0)[0][0]
    clips['griffin_lim'] = evaluate.griffin_lim(mel[0], first.mel_config)
    rows = []
    for name, clip in clips.items():
      audio_io.write_wav(os.path.join(_OUT.value, f'{uid}_{name}.wav'), clip,
                         first.sample_rate)
      rows.append((name, first.mel(clip)[0]))
      if name != 'original':
        scores[name].append(metrics.copy_synthesis_scores(
            audio, clip, first.sample_rate, first.mel_config))
    _figure(rows, first.sample_rate, hop,
            os.path.join(_OUT.value, f'{uid}.png'))
    players = ''.join(
        f'<div>{html.escape(name)}<br><audio controls preload="none" '
        f'src="{uid}_{name}.wav"></audio></div>' for name in clips)
    text = html.escape(ex['text'].decode())
    sections.append(f'<h2>{html.escape(uid)}</h2><p><i>{text}</i></p>'
                    f'<div class="players">{players}</div>'
                    f'<img src="{uid}.png" width="800">')
  table = ['<tr><th>system</th><th>PESQ-WB</th><th>STOI</th>'
           '<th>MCD (dB)</th></tr>']
  for name, rows in scores.items():
    mean = {k: np.nanmean([r[k] for r in rows]) for k in
            ('pesq_wb', 'stoi', 'mcd_db')}
    table.append(f'<tr><td>{html.escape(name)}</td>'
                 f'<td>{mean["pesq_wb"]:.2f}</td><td>{mean["stoi"]:.3f}</td>'
                 f'<td>{mean["mcd_db"]:.2f}</td></tr>')
  page = ('<!doctype html><html><head><meta charset="utf-8">'
          '<title>wavernn_jax listening page</title><style>'
          'body{font-family:sans-serif;max-width:900px;margin:auto}'
          'td,th{padding:4px 10px;border-bottom:1px solid #ddd}'
          '.players{display:flex;flex-wrap:wrap;gap:4px 16px}</style>'
          '</head><body><h1>wavernn_jax: copy-synthesis of held-out '
          'utterances</h1><p>Mean over the utterances below (vocoded from '
          'the mel of the original).</p><table>' + ''.join(table) +
          '</table>' + ''.join(sections) + '</body></html>')
  path = os.path.join(_OUT.value, 'index.html')
  with open(path + '.tmp', 'w') as f:
    f.write(page)
  os.replace(path + '.tmp', path)
  print(path)


if __name__ == '__main__':
  app.run(main)
