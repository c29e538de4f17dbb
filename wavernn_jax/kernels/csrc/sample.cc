// The WaveRNN sampler on the CPU as one XLA FFI call per chunk of frames.
//
// sampling.sample's nested lax.scan pays XLA's fixed per-op cost for each
// of the dozens of small ops of every sample step (R h, the gates, four
// head products, two softmaxes, two draws, the LPC filter): at batch 1
// that cost, not arithmetic, bounds the sampler. This call runs a whole
// chunk of frames' steps in one loop. The Python side
// (cpu_kernels.sample_frames, sampling.sample_fused) makes the uniforms,
// the fixed-point LPC coefficients and the kept blocks, so the draws use the
// same uniforms as the XLA sampler.
//
// One step, as sampling.sample (PAPER.md §1), for each of the B rows:
//   with LPC: p = predict(a, hist) (exact integers, lpc.predict);
//   rh = R h (kept blocks, as block_sparse_gru.cc);
//   x = xin + scale(c') I_prev[0] + scale(f') I_prev[1]
//         [+ (s' / 4096) I_lpc[0] + (p / 4096) I_lpc[1]];
//   the coarse halves of the gates -> y_c, logits O2 relu(O1 y_c + b) + b,
//   draw c from softmax(logits / temperature) with uniform u[0];
//   the fine halves with x + scale(c) I_c -> y_f, O3 / O4, draw f with u[1];
//   ln P of (c, f) at temperature 1; h = [y_c, y_f];
//   out = combine(c, f), or with LPC s = wrap(out + p), the history shifts.
// Gates [u | r | e] of H units each, each [coarse | fine] halves of H2.
//
// Single-threaded: a vocode process samples one utterance per core.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernel_math.h"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

using namespace wavernn;  // NOLINT: the shared helpers.

// A block-sparse [I, J BH] matrix by its kept blocks (vals [J, M, BH],
// idx [J, M]) and its bias [J BH] (may be null).
struct Kept {
  const float* vals;
  const int32_t* idx;
  const float* bias;
  int64_t in, j, m, bh;
  // For ProductOne (BH = 16), the block-rows packed in groups of four in
  // the order the loop reads them: for each kept column m of a group, its
  // four indices, then its four 16-value blocks. A group runs to the last
  // non-zero block of its longest row (a pruned matrix pads its shorter
  // block-rows with zero blocks at the end, sparse_sampling.compress).
  // J % 4 trailing block-rows go in a last group padded with zero rows.
  std::vector<int64_t> start, len;  // per group: first m entry, entries
  std::vector<int32_t> pidx;        // [entries, 4]
  std::vector<float> pvals;         // [entries, 4, 16] (float32 storage)
  std::vector<uint16_t> phalf;      // the same in half precision
  std::vector<float> rounded;       // vals rounded to half (batch > 1)
  int64_t out() const { return j * bh; }
};

#ifdef __F16C__
inline v16 load16h(const uint16_t* p) {
  return {(v8)_mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)p)),
          (v8)_mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(p + 8)))};
}
#endif

// y [O] = x [I] @ W for one row from the packed groups: four block-rows at
// a time, so that four independent chains of fused multiply-adds are in
// flight, reading one index stream and one weight stream.
template <typename T, v16 (*Load)(const T*)>
void ProductPacked(const float* x, const Kept& w, const T* vals, float* y) {
  const int64_t groups = static_cast<int64_t>(w.len.size());
  for (int64_t g = 0; g < groups; ++g) {
    const int32_t* ip = w.pidx.data() + w.start[g] * 4;
    const T* vp = vals + w.start[g] * 64;
    v16 a0 = {}, a1 = {}, a2 = {}, a3 = {};
    for (int64_t m = 0; m < w.len[g]; ++m, ip += 4, vp += 64) {
      fma16(a0, x[ip[0]], Load(vp));
      fma16(a1, x[ip[1]], Load(vp + 16));
      fma16(a2, x[ip[2]], Load(vp + 32));
      fma16(a3, x[ip[3]], Load(vp + 48));
    }
    const int64_t j = 4 * g;
    float* yo = y + j * 16;
    if (j + 4 <= w.j) {
      store16(yo, a0);
      store16(yo + 16, a1);
      store16(yo + 32, a2);
      store16(yo + 48, a3);
    } else {  // The last group's padding rows are not stored.
      float tmp[64];
      store16(tmp, a0);
      store16(tmp + 16, a1);
      store16(tmp + 32, a2);
      store16(tmp + 48, a3);
      std::memcpy(yo, tmp, (w.j - j) * 16 * sizeof(float));
    }
  }
}

// y [O] = x [I] @ W (+ bias) for one row.
void ProductOne(const float* x, const Kept& w, float* y) {
  if (w.bh != 16) {
    SparseProductTile(x, 1, w.in, w.vals, w.idx, w.j, w.m, w.bh, y);
#ifdef __F16C__
  } else if (!w.phalf.empty()) {
    ProductPacked<uint16_t, load16h>(x, w, w.phalf.data(), y);
#endif
  } else {
    ProductPacked<float, load16>(x, w, w.pvals.data(), y);
  }
  if (w.bias) {
    const int64_t o = w.out();
#pragma omp simd
    for (int64_t k = 0; k < o; ++k) y[k] += w.bias[k];
  }
}

// y [B, O] = x [B, I] @ W (+ bias).
void Product(const float* x, int64_t b_size, const Kept& w, float* y) {
  if (b_size == 1) return ProductOne(x, w, y);
  SparseProductTile(x, b_size, w.in, w.vals, w.idx, w.j, w.m, w.bh, y);
  if (w.bias) {
    const int64_t o = w.out();
    for (int64_t b = 0; b < b_size; ++b)
#pragma omp simd
      for (int64_t k = 0; k < o; ++k) y[b * o + k] += w.bias[k];
  }
}

inline float Scale(int32_t byte) {  // quantization.scale
  return static_cast<float>(byte) / 127.5f - 1.0f;
}

// A row's inputs of one step (model.input_term): the frame terms, upsampled
// linearly or repeated, plus the previous bytes and the LPC inputs times
// their weight rows, summed in sampling.sample's order.
struct StepInputs {
  const float* xs;  // the row's frame terms [U]: value (and slope)
  const float* w;   // I_prev's two rows, then I_lpc's two [N, G]
  float ramp, s0, s1, l0, l1;
  int64_t g;
};

template <bool kLinear, bool kLpc>
inline float InputTerm(const StepInputs& in, int64_t i) {
  float x = kLinear ? in.xs[i] + in.ramp * in.xs[in.g + i] : in.xs[i];
  x = x + (in.s0 * in.w[i] + in.s1 * in.w[in.g + i]);
  if (kLpc) x = x + (in.l0 * in.w[2 * in.g + i] + in.l1 * in.w[3 * in.g + i]);
  return x;
}

// One half of the GRU (model.gru on the [3, H2] slices at offset `off`:
// gate g's unit k is at g H + off + k of rh and of the input terms, made
// here), with c_t's term scale(c) I_c added in the fine half: y [H2].
template <bool kLinear, bool kLpc>
void GruHalf(const float* h, const float* rh, const StepInputs& in,
             int64_t off, const float* cterm, float cscale, int64_t h_size,
             int64_t h2, float* y) {
  const float* ru = rh + off;
  const float* rr = rh + h_size + off;
  const float* re = rh + 2 * h_size + off;
  const float* hh = h + off;
  if (cterm) {
#pragma omp simd
    for (int64_t k = 0; k < h2; ++k) {
      const float xu = InputTerm<kLinear, kLpc>(in, off + k) + cscale * cterm[k];
      const float xr = InputTerm<kLinear, kLpc>(in, h_size + off + k) +
                       cscale * cterm[h2 + k];
      const float xe = InputTerm<kLinear, kLpc>(in, 2 * h_size + off + k) +
                       cscale * cterm[2 * h2 + k];
      const float u = sigmoid(ru[k] + xu);
      const float r = sigmoid(rr[k] + xr);
      const float e = fast_tanh(r * re[k] + xe);
      y[k] = u * hh[k] + (1.0f - u) * e;
    }
  } else {
#pragma omp simd
    for (int64_t k = 0; k < h2; ++k) {
      const float xu = InputTerm<kLinear, kLpc>(in, off + k);
      const float xr = InputTerm<kLinear, kLpc>(in, h_size + off + k);
      const float xe = InputTerm<kLinear, kLpc>(in, 2 * h_size + off + k);
      const float u = sigmoid(ru[k] + xu);
      const float r = sigmoid(rr[k] + xr);
      const float e = fast_tanh(r * re[k] + xe);
      y[k] = u * hh[k] + (1.0f - u) * e;
    }
  }
}

using GruHalfFn = void (*)(const float*, const float*, const StepInputs&,
                           int64_t, const float*, float, int64_t, int64_t,
                           float*);

constexpr int kClasses = 256;

// sampling._draw: the inverse-CDF draw from softmax(logits / temperature)
// with uniform u, and sampling._log_prob of it at temperature 1.
int32_t Draw(const float* logits, float u, float temperature, float* lp) {
  float z[kClasses], cdf[kClasses];
  float mx = -INFINITY;
  for (int i = 0; i < kClasses; ++i) {
    z[i] = logits[i] / temperature;
    mx = std::max(mx, z[i]);
  }
  float sum = 0.f;
#pragma omp simd reduction(+ : sum)
  for (int i = 0; i < kClasses; ++i) {
    z[i] = std::exp(z[i] - mx);
    sum += z[i];
  }
  float acc = 0.f;
  for (int i = 0; i < kClasses; ++i) {
    acc += z[i] / sum;
    cdf[i] = acc;
  }
  const float thr = u * cdf[kClasses - 1];
  int32_t n = 0;
#pragma omp simd reduction(+ : n)
  for (int i = 0; i < kClasses; ++i) n += cdf[i] <= thr;
  const int32_t idx = std::min(n, kClasses - 1);
  // ln P at temperature 1 (the same sums when the temperature is 1).
  if (temperature == 1.0f) {
    *lp = (logits[idx] - mx) - std::log(sum);
    return idx;
  }
  float lmx = -INFINITY;
  for (int i = 0; i < kClasses; ++i) lmx = std::max(lmx, logits[i]);
  float lsum = 0.f;
#pragma omp simd reduction(+ : lsum)
  for (int i = 0; i < kClasses; ++i) lsum += std::exp(logits[i] - lmx);
  *lp = (logits[idx] - lmx) - std::log(lsum);
  return idx;
}

// lpc.predict in exact integers: round(sum_k a_k s_{t-k} / 2^12), clipped.
int32_t Predict(const int32_t* a, const int32_t* hist, int64_t k_size) {
  int32_t hi = 0, lo = 0;
  for (int64_t k = 0; k < k_size; ++k) {
    hi += a[k] * (hist[k] >> 8);
    lo += a[k] * (hist[k] & 255);
  }
  constexpr int kCoefBits = 12, kShift = kCoefBits - 8;
  const int32_t rest = ((hi & ((1 << kShift) - 1)) << 8) + lo +
                       (1 << (kCoefBits - 1));
  const int32_t p = (hi >> kShift) + (rest >> kCoefBits);
  return std::clamp(p, -32768, 32767);
}

inline int32_t Wrap(int32_t v) { return ((v + 32768) & 0xFFFF) - 32768; }

// The kept blocks of a matrix, packed for ProductOne; `half`: its weights
// rounded to half precision (F16C), for both ProductOne and Product.
Kept GetKept(ffi::Buffer<ffi::F32>& vals, ffi::Buffer<ffi::S32>& idx,
             const float* bias, int64_t in, bool half) {
  auto vd = vals.dimensions();
  Kept k{vals.typed_data(), idx.typed_data(), bias, in, vd[0], vd[1], vd[2]};
#ifndef __F16C__
  // No F16C: float32 storage of the same numbers (the Python side marks
  // only matrices stored in float16, whose values float32 holds exactly).
  half = false;
#endif
  if (k.bh != 16) return k;
  const int64_t groups = (k.j + 3) / 4;
  std::vector<int64_t> row_len(groups * 4, 0);
  for (int64_t j = 0; j < k.j; ++j) {
    const float* v = k.vals + j * k.m * 16;
    for (int64_t n = k.m * 16 - 1; n >= 0; --n)
      if (v[n] != 0.f) {
        row_len[j] = n / 16 + 1;
        break;
      }
  }
  k.start.assign(groups, 0);
  k.len.assign(groups, 0);
  int64_t entries = 0;
  for (int64_t g = 0; g < groups; ++g) {
    k.start[g] = entries;
    k.len[g] = *std::max_element(&row_len[4 * g], &row_len[4 * g] + 4);
    entries += k.len[g];
  }
  k.pidx.assign(entries * 4, 0);
  k.pvals.assign(entries * 64, 0.f);
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t r = 0; r < 4 && 4 * g + r < k.j; ++r)
      for (int64_t m = 0; m < row_len[4 * g + r]; ++m) {
        const int64_t e = k.start[g] + m, src = (4 * g + r) * k.m + m;
        k.pidx[e * 4 + r] = k.idx[src];
        std::memcpy(&k.pvals[(e * 4 + r) * 16], k.vals + src * 16,
                    16 * sizeof(float));
      }
#ifdef __F16C__
  if (half) {
    const int64_t n = entries * 64;  // A multiple of 8.
    k.phalf.resize(n);
    for (int64_t i = 0; i < n; i += 8)
      _mm_storeu_si128((__m128i*)&k.phalf[i],
                       _mm256_cvtps_ph(_mm256_loadu_ps(&k.pvals[i]), 0));
    const int64_t nv = k.j * k.m * 16;  // Also a multiple of 8.
    k.rounded.resize(nv);
    for (int64_t i = 0; i < nv; i += 8)
      _mm256_storeu_ps(&k.rounded[i],
                       _mm256_cvtph_ps(_mm256_cvtps_ph(
                           _mm256_loadu_ps(k.vals + i), 0)));
    k.vals = k.rounded.data();
  }
#endif
  return k;
}

bool CheckKept(ffi::Buffer<ffi::F32>& vals, ffi::Buffer<ffi::S32>& idx,
               int64_t in, int64_t out) {
  auto vd = vals.dimensions(), id = idx.dimensions();
  if (vd.size() != 3 || id.size() != 2 || id[0] != vd[0] || id[1] != vd[1] ||
      vd[0] * vd[2] != out)
    return false;
  const int32_t* ip = idx.typed_data();
  for (int64_t n = 0; n < id[0] * id[1]; ++n)
    if (ip[n] < 0 || ip[n] >= in) return false;
  return true;
}

ffi::Error SampleImpl(
    ffi::Buffer<ffi::F32> xin, ffi::Buffer<ffi::S32> a_q,
    ffi::Buffer<ffi::F32> uni, ffi::Buffer<ffi::F32> w_in,
    ffi::Buffer<ffi::F32> w_c, ffi::Buffer<ffi::F32> r_vals,
    ffi::Buffer<ffi::S32> r_idx, ffi::Buffer<ffi::F32> o1_vals,
    ffi::Buffer<ffi::S32> o1_idx, ffi::Buffer<ffi::F32> b_o1,
    ffi::Buffer<ffi::F32> o2_vals, ffi::Buffer<ffi::S32> o2_idx,
    ffi::Buffer<ffi::F32> b_o2, ffi::Buffer<ffi::F32> o3_vals,
    ffi::Buffer<ffi::S32> o3_idx, ffi::Buffer<ffi::F32> b_o3,
    ffi::Buffer<ffi::F32> o4_vals, ffi::Buffer<ffi::S32> o4_idx,
    ffi::Buffer<ffi::F32> b_o4, ffi::Buffer<ffi::F32> h0,
    ffi::Buffer<ffi::S32> pc0, ffi::Buffer<ffi::S32> pf0,
    ffi::Buffer<ffi::S32> hist0, ffi::Buffer<ffi::F32> temperature_buf,
    ffi::Buffer<ffi::S32> valid_buf, ffi::ResultBuffer<ffi::S16> audio,
    ffi::ResultBuffer<ffi::F32> lp_out, ffi::ResultBuffer<ffi::F32> h_out,
    ffi::ResultBuffer<ffi::S32> pc_out, ffi::ResultBuffer<ffi::S32> pf_out,
    ffi::ResultBuffer<ffi::S32> hist_out, int32_t half) {  // Bit n: matrix n of R, O1..O4 in half.
  auto xd = xin.dimensions(), ad = a_q.dimensions(), ud = uni.dimensions(),
       wd = w_in.dimensions(), hd = h0.dimensions();
  if (xd.size() != 3 || ad.size() != 3 || ud.size() != 4 || wd.size() != 2 ||
      hd.size() != 2)
    return ffi::Error::InvalidArgument(
        "wavernn_sample: xin [F, B, U], a [F, B, K], u [F, P, B, 2], "
        "w_in [2 or 4, 3H], h0 [B, H] expected");
  const int64_t f_size = xd[0], b_size = xd[1], u_size = xd[2];
  const int64_t h_size = hd[1], h2 = h_size / 2, g = 3 * h_size;
  const int64_t k_size = ad[2], p_size = ud[1];
  const bool linear = u_size == 2 * g;
  const int64_t d_size = o1_vals.dimensions()[0] * o1_vals.dimensions()[2];
  if (hd[0] != b_size || h_size % 2 || (u_size != g && !linear) ||
      ad[0] != f_size || ad[1] != b_size || ud[0] != f_size ||
      ud[2] != b_size || ud[3] != 2 || wd[1] != g ||
      wd[0] != (k_size ? 4 : 2) || w_c.element_count() != 3 * h2 ||
      !CheckKept(r_vals, r_idx, h_size, g) ||
      !CheckKept(o1_vals, o1_idx, h2, d_size) ||
      !CheckKept(o2_vals, o2_idx, d_size, kClasses) ||
      !CheckKept(o3_vals, o3_idx, h2, d_size) ||
      !CheckKept(o4_vals, o4_idx, d_size, kClasses) ||
      b_o1.element_count() != d_size || b_o3.element_count() != d_size ||
      b_o2.element_count() != kClasses || b_o4.element_count() != kClasses ||
      pc0.element_count() != b_size || pf0.element_count() != b_size ||
      hist0.element_count() != b_size * k_size)
    return ffi::Error::InvalidArgument("wavernn_sample: shapes disagree");
  const Kept r = GetKept(r_vals, r_idx, nullptr, h_size, half & 1);
  const Kept o1 = GetKept(o1_vals, o1_idx, b_o1.typed_data(), h2, half & 2);
  const Kept o2 = GetKept(o2_vals, o2_idx, b_o2.typed_data(), d_size, half & 4);
  const Kept o3 = GetKept(o3_vals, o3_idx, b_o3.typed_data(), h2, half & 8);
  const Kept o4 = GetKept(o4_vals, o4_idx, b_o4.typed_data(), d_size, half & 16);
  const float temperature = temperature_buf.typed_data()[0];
  const int64_t valid =
      std::clamp<int64_t>(valid_buf.typed_data()[0], 0, f_size);
  const float* wp = w_in.typed_data();
  const float* wc = w_c.typed_data();

  std::vector<float> h(h0.typed_data(), h0.typed_data() + b_size * h_size);
  std::vector<int32_t> pc(pc0.typed_data(), pc0.typed_data() + b_size);
  std::vector<int32_t> pf(pf0.typed_data(), pf0.typed_data() + b_size);
  std::vector<int32_t> hist(hist0.typed_data(),
                            hist0.typed_data() + b_size * k_size);
  const GruHalfFn gru_half =
      linear ? (k_size ? GruHalf<true, true> : GruHalf<true, false>)
             : (k_size ? GruHalf<false, true> : GruHalf<false, false>);
  std::vector<StepInputs> inputs(b_size, StepInputs{nullptr, wp, 0.f, 0.f,
                                                    0.f, 0.f, 0.f, g});
  std::vector<float> rh(b_size * g), yc(b_size * h2), yf(b_size * h2), hid(b_size * d_size),
      logits(b_size * kClasses);
  std::vector<int32_t> pred(b_size), cs(b_size);
  int16_t* out = audio->typed_data();
  float* lp = lp_out->typed_data();
  std::fill(out, out + f_size * p_size * b_size, 0);
  std::fill(lp, lp + f_size * p_size * b_size, 0.f);

  for (int64_t f = 0; f < valid; ++f) {
    const float* xf = xin.typed_data() + f * b_size * u_size;
    const int32_t* af = a_q.typed_data() + f * b_size * k_size;
    for (int64_t p = 0; p < p_size; ++p) {
      const int64_t at = (f * p_size + p) * b_size;
      const float* u = uni.typed_data() + at * 2;
      const float ramp = static_cast<float>(p) / static_cast<float>(p_size);
      Product(h.data(), b_size, r, rh.data());
      for (int64_t b = 0; b < b_size; ++b) {
        StepInputs& in = inputs[b];
        in.xs = xf + b * u_size;
        in.ramp = ramp;
        in.s0 = Scale(pc[b]);
        in.s1 = Scale(pf[b]);
        if (k_size) {
          const int32_t* hb = hist.data() + b * k_size;
          pred[b] = Predict(af + b * k_size, hb, k_size);
          in.l0 = static_cast<float>(hb[0]) * (1.0f / 4096);
          in.l1 = static_cast<float>(pred[b]) * (1.0f / 4096);
        }
        gru_half(h.data() + b * h_size, rh.data() + b * g, in, 0, nullptr,
                 0.f, h_size, h2, yc.data() + b * h2);
      }
      Product(yc.data(), b_size, o1, hid.data());
      for (float& v : hid) v = std::max(v, 0.f);
      Product(hid.data(), b_size, o2, logits.data());
      for (int64_t b = 0; b < b_size; ++b) {
        float l;
        cs[b] = Draw(logits.data() + b * kClasses, u[b * 2], temperature, &l);
        lp[at + b] = l;
        gru_half(h.data() + b * h_size, rh.data() + b * g, inputs[b], h2, wc,
                 Scale(cs[b]), h_size, h2, yf.data() + b * h2);
      }
      Product(yf.data(), b_size, o3, hid.data());
      for (float& v : hid) v = std::max(v, 0.f);
      Product(hid.data(), b_size, o4, logits.data());
      for (int64_t b = 0; b < b_size; ++b) {
        float l;
        const int32_t fi =
            Draw(logits.data() + b * kClasses, u[b * 2 + 1], temperature, &l);
        lp[at + b] += l;
        std::memcpy(h.data() + b * h_size, yc.data() + b * h2,
                    h2 * sizeof(float));
        std::memcpy(h.data() + b * h_size + h2, yf.data() + b * h2,
                    h2 * sizeof(float));
        int32_t s = cs[b] * 256 + fi - 32768;  // quantization.combine
        if (k_size) {
          s = Wrap(s + pred[b]);
          int32_t* hb = hist.data() + b * k_size;
          std::memmove(hb + 1, hb, (k_size - 1) * sizeof(int32_t));
          hb[0] = s;
        }
        out[at + b] = static_cast<int16_t>(s);
        pc[b] = cs[b];
        pf[b] = fi;
      }
    }
  }
  std::copy(h.begin(), h.end(), h_out->typed_data());
  std::copy(pc.begin(), pc.end(), pc_out->typed_data());
  std::copy(pf.begin(), pf.end(), pf_out->typed_data());
  std::copy(hist.begin(), hist.end(), hist_out->typed_data());
  return ffi::Error::Success();
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(WavernnSample, SampleImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F32>>()  // xin
                                  .Arg<ffi::Buffer<ffi::S32>>()  // a_q
                                  .Arg<ffi::Buffer<ffi::F32>>()  // u
                                  .Arg<ffi::Buffer<ffi::F32>>()  // w_in
                                  .Arg<ffi::Buffer<ffi::F32>>()  // w_c
                                  .Arg<ffi::Buffer<ffi::F32>>()  // R vals
                                  .Arg<ffi::Buffer<ffi::S32>>()  // R idx
                                  .Arg<ffi::Buffer<ffi::F32>>()  // O1 vals
                                  .Arg<ffi::Buffer<ffi::S32>>()  // O1 idx
                                  .Arg<ffi::Buffer<ffi::F32>>()  // b_O1
                                  .Arg<ffi::Buffer<ffi::F32>>()  // O2 vals
                                  .Arg<ffi::Buffer<ffi::S32>>()  // O2 idx
                                  .Arg<ffi::Buffer<ffi::F32>>()  // b_O2
                                  .Arg<ffi::Buffer<ffi::F32>>()  // O3 vals
                                  .Arg<ffi::Buffer<ffi::S32>>()  // O3 idx
                                  .Arg<ffi::Buffer<ffi::F32>>()  // b_O3
                                  .Arg<ffi::Buffer<ffi::F32>>()  // O4 vals
                                  .Arg<ffi::Buffer<ffi::S32>>()  // O4 idx
                                  .Arg<ffi::Buffer<ffi::F32>>()  // b_O4
                                  .Arg<ffi::Buffer<ffi::F32>>()  // h0
                                  .Arg<ffi::Buffer<ffi::S32>>()  // pc0
                                  .Arg<ffi::Buffer<ffi::S32>>()  // pf0
                                  .Arg<ffi::Buffer<ffi::S32>>()  // hist0
                                  .Arg<ffi::Buffer<ffi::F32>>()  // temperature
                                  .Arg<ffi::Buffer<ffi::S32>>()  // valid
                                  .Ret<ffi::Buffer<ffi::S16>>()  // audio
                                  .Ret<ffi::Buffer<ffi::F32>>()  // lp
                                  .Ret<ffi::Buffer<ffi::F32>>()  // h
                                  .Ret<ffi::Buffer<ffi::S32>>()  // pc
                                  .Ret<ffi::Buffer<ffi::S32>>()  // pf
                                  .Ret<ffi::Buffer<ffi::S32>>()  // hist
                                  .Attr<int32_t>("half"));
