"""The shipped-model exporter's model card says what the model is."""

import json

import jax

from experiments.configs import wavernn
from experiments.tools import export_pretrained
from wavernn_jax import vocoder as vocoder_lib


def _card(arg, result):
  config = wavernn.get_config(arg)
  voc = vocoder_lib.Vocoder(
      config, vocoder_lib.init_params(config, jax.random.key(0)))
  card = dict(name='m', step=7, params=100, nonzero_params=10,
              clip='clip.wav', clip_nll_bits_per_sample=9.87654)
  return export_pretrained.model_card(voc, card, result, '`cmd --x`',
                                      '3 min on 2 cores', 'A note.', 2_500_000)


def test_card_of_a_sparse_model_with_quality_scores():
  result = dict(split='test', num_utterances=32, nll_bits_per_sample=9.5,
                lpc_bits_per_sample=10.3, uniform_bits_per_sample=16.0,
                pesq_wb=1.5, stoi=0.8, mcd_db=3.25, griffin_lim_pesq_wb=2.5,
                griffin_lim_stoi=0.97, griffin_lim_mcd_db=0.7,
                quality_utterances=8)
  text = _card('variant=sparse,preset=tiny,sparsity=0.9,block=16x1', result)
  assert text.startswith('# m — WaveRNN (sparse, H = 32, 90% block-sparse '
                         '(16x1 blocks; R_u,R_r,R_e)')
  assert '| training | 7 of 4 steps, batch 4 x 256 samples' in text
  assert '100 (10 non-zero), 2.5 MB on disk' in text
  assert ('9.50 bits / 16-bit sample (linear prediction 10.30, uniform '
          '16.00)') in text
  assert ('PESQ-WB 1.50, STOI 0.800, MCD 3.25 dB (Griffin-Lim on the same '
          'mels: 2.50, 0.970, 0.70 dB)') in text
  assert '| NLL on `clip.wav` | 9.877 bits' in text
  assert '| command | `cmd --x` |' in text
  assert '| wall time / machine | 3 min on 2 cores |' in text
  assert '\nA note.\n\n## Mel definition' in text


def test_card_of_a_subscale_model_without_quality_scores():
  text = _card('variant=subscale,preset=tiny,batch_factor=4,horizon=2',
               dict(split='test', num_utterances=3, nll_bits_per_sample=11.0))
  assert 'subscale, H = 32, subscale B = 4, F = 2;' in text
  assert 'PESQ' not in text
  assert 'linear prediction n/a' in text


def test_card_gives_the_cost_per_sample_and_the_measured_speed(tmp_path):
  config = wavernn.get_config('preset=tiny')
  voc = vocoder_lib.Vocoder(
      config, vocoder_lib.init_params(config, jax.random.key(0)))
  bench = tmp_path / 'bench.jsonl'
  rows = [dict(path='vocode_command', compile_cache=c, audio_seconds=10.0,
               workdir=f'pretrained/{m}', process_wall_s=w,
               rtf_end_to_end=10.0 / w, rtf_generate_excl_compile=r / 16000,
               samples_per_sec_generate_excl_compile=r, threads=2,
               jax='0.10.2', cpu='AMD EPYC', cpu_flags=['avx2', 'fma'])
          for m, r in (('m', 40000.0), ('reference', 15000.0))
          for c, w in (('cold', 16.0), ('warm', 8.0))]
  bench.write_text(''.join(json.dumps(r) + '\n' for r in rows))
  card = dict(name='m', step=7, params=100, nonzero_params=10,
              clip='clip.wav', clip_nll_bits_per_sample=9.0,
              multiply_adds_per_sample=voc.multiply_adds_per_sample(),
              speed=export_pretrained.warm_speed(str(bench), 'm'))
  text = export_pretrained.model_card(voc, card, dict(split='test'), 'c',
                                      't', '', 1)
  macs = card['multiply_adds_per_sample']
  gflops = 2 * macs['total'] * 16000 / 1e9
  assert (f"| cost per sample | {macs['total']:,.0f} multiply-adds per sample "
          f"({macs['cell']:,} non-zero cell weights, 0 LPC taps") in text
  assert (f'{gflops:.2f} GFLOP/s at real time, 16 kHz; LPCNet publishes ~3 '
          f'GFLOPS at 16 kHz ({gflops / 3:.2f}x)') in text
  assert ('| vocoding speed | 40,000 samples/s (2.50x real time) once '
          'compiled; 1.25x end to end with a warm compile cache') in text
  assert 'AMD EPYC (avx2, fma), 2 cores, JAX 0.10.2' in text


def test_card_states_the_exact_mel_definition():
  config = wavernn.get_config('preset=demo')
  voc = vocoder_lib.Vocoder(
      config, vocoder_lib.init_params(config, jax.random.key(0)))
  text = export_pretrained.mel_section(voc)
  for row in ('| sample_rate | 16000 |', '| n_fft | 1024 |',
              '| win_length | 800 |', '| hop_length | 200 |',
              '| n_mels | 80 |', '| fmin | 40.0 |', '| fmax | 8000.0 |',
              '| log | natural log of max(mel, 1e-05) |',
              '| magnitude | STFT magnitude (abs, power 1) |'):
    assert row in text, row
