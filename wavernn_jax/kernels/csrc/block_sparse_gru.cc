// The block-sparse GRU recurrence of WaveRNN on the CPU, as XLA FFI calls.
//
// One call runs the whole teacher-forced window's recurrence (T steps),
// another its backward pass (BPTT), so that XLA's per-op cost in a scan is
// paid once per window instead of T times dozens of small ops. The Python
// side (wavernn_jax/cpu_kernels.py) registers them and gives them a
// custom_vjp; the lax.scan path in model.py stays the reference.
//
// Notation as in model.py: T steps, B batch, H hidden units, G = 3H gate
// pre-activations laid out [u | r | e] (each gate H units, unit k of a gate
// updating h[k]). R is stored as its kept blocks: J = G / BH block-rows of
// BH outputs, each listing M kept input columns (idx [J, M]) and their
// weights vals [J, M, BH] (padding: weight 0). The product is
//   rh[b, j BH + q] = sum_m h[b, idx[j, m]] vals[j, m, q].
// The step is model.gru: u = s(rh_u + x_u), r = s(rh_r + x_r),
//   e = tanh(r rh_e + x_e), h' = u h + (1 - u) e,
// with the input terms x_t = xin[t / P] + sum_k a[t, k] w[k] made in the
// loop (frame-rate terms xin, K per-step scalar inputs a and their weight
// rows w: the previous bytes, c_t and the LPC inputs), so that neither pass
// reads or writes a [T, B, G] tensor of them; the backward pass sums their
// gradient per frame and into dw as it goes.
//
// Single-threaded: training runs one process per core.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#ifdef __AVX__
#include <immintrin.h>
#endif

#include "xla/ffi/api/ffi.h"
#include "kernel_math.h"

namespace ffi = xla::ffi;

namespace {

using namespace wavernn;  // NOLINT: the shared helpers.

// The transpose of R's kept blocks, by input column: column i holds the
// entries col_start[i] .. col_start[i + 1] - 1 of (row block, weights).
struct ByColumn {
  std::vector<int64_t> start;
  std::vector<int32_t> block_row;
  std::vector<float> vals;  // [entries, BH]
};

ByColumn Transpose(const float* vals, const int32_t* idx, int64_t j_size,
                   int64_t m_size, int64_t bh, int64_t h_size) {
  ByColumn t;
  t.start.assign(h_size + 1, 0);
  for (int64_t n = 0; n < j_size * m_size; ++n) ++t.start[idx[n] + 1];
  for (int64_t i = 0; i < h_size; ++i) t.start[i + 1] += t.start[i];
  std::vector<int64_t> fill(t.start.begin(), t.start.end() - 1);
  t.block_row.resize(j_size * m_size);
  t.vals.resize(j_size * m_size * bh);
  for (int64_t j = 0; j < j_size; ++j) {
    for (int64_t m = 0; m < m_size; ++m) {
      const int64_t at = fill[idx[j * m_size + m]]++;
      t.block_row[at] = static_cast<int32_t>(j);
      std::memcpy(&t.vals[at * bh], vals + (j * m_size + m) * bh,
                  bh * sizeof(float));
    }
  }
  return t;
}

// dh [B, H] += drh [B, G] @ R^T.
void SparseProductTTile(const float* drh, int64_t b_size, int64_t h_size,
                    const ByColumn& t, int64_t bh, int64_t g, float* dh) {
  for (int64_t i = 0; i < h_size; ++i) {
    const int64_t lo = t.start[i], hi = t.start[i + 1];
    if (lo == hi) continue;
    if (bh == 16) {
      int64_t b0 = 0;
      for (; b0 + 4 <= b_size; b0 += 4) {
        v16 a0 = {}, a1 = {}, a2 = {}, a3 = {};
        const float* d0 = drh + b0 * g;
        for (int64_t n = lo; n < hi; ++n) {
          const v16 v = load16(&t.vals[n * 16]);
          const int64_t o = t.block_row[n] * 16;
          fma16(a0, v, load16(d0 + o));
          fma16(a1, v, load16(d0 + g + o));
          fma16(a2, v, load16(d0 + 2 * g + o));
          fma16(a3, v, load16(d0 + 3 * g + o));
        }
        AddHsum4(a0, a1, a2, a3, dh + b0 * h_size + i, h_size);
      }
      for (; b0 < b_size; ++b0) {
        v16 a = {};
        for (int64_t n = lo; n < hi; ++n)
          fma16(a, load16(&t.vals[n * 16]),
                load16(drh + b0 * g + t.block_row[n] * 16));
        dh[b0 * h_size + i] += hsum16(a);
      }
    } else {
      for (int64_t b = 0; b < b_size; ++b) {
        float s = 0.f;
        for (int64_t n = lo; n < hi; ++n) {
          const float* v = &t.vals[n * bh];
          const float* d = drh + b * g + t.block_row[n] * bh;
          for (int64_t q = 0; q < bh; ++q) s += v[q] * d[q];
        }
        dh[b * h_size + i] += s;
      }
    }
  }
}

// Rows in tiles of this many: a tile's inputs and outputs stay in L2 while
// every block-row passes over them (the heads multiply 3,200 rows).
constexpr int64_t kRowTile = 32;

void SparseProduct(const float* h, int64_t b_size, int64_t h_size,
                   const float* vals, const int32_t* idx, int64_t j_size,
                   int64_t m_size, int64_t bh, float* rh) {
  for (int64_t r = 0; r < b_size; r += kRowTile)
    SparseProductTile(h + r * h_size, std::min(kRowTile, b_size - r), h_size,
                      vals, idx, j_size, m_size, bh, rh + r * j_size * bh);
}

void SparseProductT(const float* drh, int64_t b_size, int64_t h_size,
                    const ByColumn& t, int64_t bh, int64_t g, float* dh) {
  for (int64_t r = 0; r < b_size; r += kRowTile)
    SparseProductTTile(drh + r * g, std::min(kRowTile, b_size - r), h_size, t,
                       bh, g, dh + r * h_size);
}

// Scratch kept from call to call (a fresh buffer of tens of MB costs a
// page fault per 4 kB on every call).
std::vector<float>& Scratch(int which, size_t size) {
  static thread_local std::vector<float> buffers[3];
  buffers[which].resize(size);
  return buffers[which];
}

// The gradient of the kept blocks of a block-sparse product y = x @ W:
// dvals[j, m, q] = sum over n of x[n, idx[j, m]] dy[n, j BH + q], for the N
// rows x[n] = row(n) [I] and dy [N, J BH]. x is transposed to [I, N] and
// each row block of dy copied to [N, BH], so that both stream.
template <typename RowFn>
void BlockGradient(RowFn row, const float* dy, int64_t n_size, int64_t i_size,
                   const int32_t* ip, int64_t j_size, int64_t m_size,
                   int64_t bh, float* dv) {
  const int64_t o_size = j_size * bh;
  std::vector<float>& x_t = Scratch(1, i_size * n_size);
  for (int64_t n = 0; n < n_size; ++n) {
    const float* r = row(n);
    for (int64_t i = 0; i < i_size; ++i) x_t[i * n_size + n] = r[i];
  }
  std::vector<float>& block = Scratch(2, n_size * bh);
  for (int64_t j = 0; j < j_size; ++j) {
    for (int64_t n = 0; n < n_size; ++n)
      std::memcpy(&block[n * bh], dy + n * o_size + j * bh,
                  bh * sizeof(float));
    if (bh == 16) {
      int64_t m = 0;
      for (; m + 4 <= m_size; m += 4) {
        const float* c0 = &x_t[ip[j * m_size + m] * n_size];
        const float* c1 = &x_t[ip[j * m_size + m + 1] * n_size];
        const float* c2 = &x_t[ip[j * m_size + m + 2] * n_size];
        const float* c3 = &x_t[ip[j * m_size + m + 3] * n_size];
        v16 a0 = {}, a1 = {}, a2 = {}, a3 = {};
        for (int64_t n = 0; n < n_size; ++n) {
          const v16 d = load16(&block[n * 16]);
          fma16(a0, c0[n], d);
          fma16(a1, c1[n], d);
          fma16(a2, c2[n], d);
          fma16(a3, c3[n], d);
        }
        store16(dv + (j * m_size + m) * 16, a0);
        store16(dv + (j * m_size + m + 1) * 16, a1);
        store16(dv + (j * m_size + m + 2) * 16, a2);
        store16(dv + (j * m_size + m + 3) * 16, a3);
      }
      for (; m < m_size; ++m) {
        const float* c = &x_t[ip[j * m_size + m] * n_size];
        v16 a = {};
        for (int64_t n = 0; n < n_size; ++n)
          fma16(a, c[n], load16(&block[n * 16]));
        store16(dv + (j * m_size + m) * 16, a);
      }
    } else {
      for (int64_t m = 0; m < m_size; ++m) {
        const float* c = &x_t[ip[j * m_size + m] * n_size];
        float* out = dv + (j * m_size + m) * bh;
        for (int64_t q = 0; q < bh; ++q) out[q] = 0.f;
        for (int64_t n = 0; n < n_size; ++n)
          for (int64_t q = 0; q < bh; ++q) out[q] += c[n] * block[n * bh + q];
      }
    }
  }
}

// a . b over n floats in four independent 8-lane sums (one chained sum
// waits on the adder's latency every 8 elements: 18 % of the backward call
// in a perf profile).
inline float Dot(const float* a, const float* b, int64_t n) {
  v8 s0 = {}, s1 = {}, s2 = {}, s3 = {};
  int64_t o = 0;
  for (; o + 32 <= n; o += 32) {
    s0 += load8(a + o) * load8(b + o);
    s1 += load8(a + o + 8) * load8(b + o + 8);
    s2 += load8(a + o + 16) * load8(b + o + 16);
    s3 += load8(a + o + 24) * load8(b + o + 24);
  }
  const v8 s = (s0 + s1) + (s2 + s3);
  float r = 0.f;
  for (int i = 0; i < 8; ++i) r += s[i];
  for (; o < n; ++o) r += a[o] * b[o];
  return r;
}

// One step for one row with the input terms made in the same loop:
// x = xin + sum_k a[k] w[k] (K known at compile time, summed in the order
// InputTerms sums them), then the gates: h_new [H].
template <int K>
inline void GruRowInline(const float* hb, const float* rb, const float* xin,
                         const float* a, const float* w, int64_t h_size,
                         float* ob) {
  const int64_t g = 3 * h_size;
  float ak[K > 0 ? K : 1];
  for (int kk = 0; kk < K; ++kk) ak[kk] = a[kk];
#pragma omp simd
  for (int64_t k = 0; k < h_size; ++k) {
    float xu = xin[k], xr = xin[h_size + k], xe = xin[2 * h_size + k];
    for (int kk = 0; kk < K; ++kk) {
      xu += ak[kk] * w[kk * g + k];
      xr += ak[kk] * w[kk * g + h_size + k];
      xe += ak[kk] * w[kk * g + 2 * h_size + k];
    }
    const float u = sigmoid(rb[k] + xu);
    const float r = sigmoid(rb[h_size + k] + xr);
    const float e = fast_tanh(r * rb[2 * h_size + k] + xe);
    ob[k] = u * hb[k] + (1.0f - u) * e;
  }
}

// The backward of one step for one row (K known at compile time): from
// dh = db + cb, writes the input terms' gradient dx [G] (and adds it to
// the frame's dxf and, times a, to dw), dL/d(R h) drb [G] and the gradient
// by the previous state, before R^T, nb [H].
template <int K>
inline void GruRowBackward(const float* hb, const float* rb, const float* xin,
                           const float* a, const float* w, const float* db,
                           const float* cb, int64_t h_size, float* dx,
                           float* dxf, float* dw, float* drb, float* nb) {
  const int64_t g = 3 * h_size;
  float ak[K > 0 ? K : 1];
  for (int kk = 0; kk < K; ++kk) ak[kk] = a[kk];
#pragma omp simd
  for (int64_t k = 0; k < h_size; ++k) {
    float xu = xin[k], xr = xin[h_size + k], xe = xin[2 * h_size + k];
    for (int kk = 0; kk < K; ++kk) {
      xu += ak[kk] * w[kk * g + k];
      xr += ak[kk] * w[kk * g + h_size + k];
      xe += ak[kk] * w[kk * g + 2 * h_size + k];
    }
    const float u = sigmoid(rb[k] + xu);
    const float r = sigmoid(rb[h_size + k] + xr);
    const float re = rb[2 * h_size + k];
    const float e = fast_tanh(r * re + xe);
    const float dh = db[k] + cb[k];
    const float dpu = dh * (hb[k] - e) * u * (1.0f - u);
    const float dpe = dh * (1.0f - u) * (1.0f - e * e);
    const float dpr = dpe * re * r * (1.0f - r);
    dx[k] = dpu;
    dx[h_size + k] = dpr;
    dx[2 * h_size + k] = dpe;
    dxf[k] += dpu;
    dxf[h_size + k] += dpr;
    dxf[2 * h_size + k] += dpe;
    for (int kk = 0; kk < K; ++kk) {
      dw[kk * g + k] += ak[kk] * dpu;
      dw[kk * g + h_size + k] += ak[kk] * dpr;
      dw[kk * g + 2 * h_size + k] += ak[kk] * dpe;
    }
    drb[k] = dpu;
    drb[h_size + k] = dpr;
    drb[2 * h_size + k] = dpe * r;
    nb[k] = dh * u;
  }
}

// Dispatch on K, the per-step scalar inputs (the model has 3 or 5; 0 when
// the terms are made outside).
#define WAVERNN_DISPATCH_K(k, F, ...)            \
  switch (k) {                                  \
    case 0: F<0>(__VA_ARGS__); break;           \
    case 1: F<1>(__VA_ARGS__); break;           \
    case 2: F<2>(__VA_ARGS__); break;           \
    case 3: F<3>(__VA_ARGS__); break;           \
    case 4: F<4>(__VA_ARGS__); break;           \
    case 5: F<5>(__VA_ARGS__); break;           \
    case 6: F<6>(__VA_ARGS__); break;           \
    case 7: F<7>(__VA_ARGS__); break;           \
    case 8: F<8>(__VA_ARGS__); break;           \
    default: return ffi::Error::InvalidArgument( \
        "block_sparse_gru: at most 8 scalar inputs per step"); \
  }

struct Dims {
  int64_t t, b, h, g, f, p, k, j, m, bh;
};

// Shapes: xin [F, B, G], a [T, B, K], w [K, G], h0 [B, H], vals [J, M, BH],
// idx [J, M], with G = 3H = J BH and T = F P.
ffi::Error GetDims(ffi::Buffer<ffi::F32>& xin, ffi::Buffer<ffi::F32>& a,
                   ffi::Buffer<ffi::F32>& w, ffi::Buffer<ffi::F32>& h0,
                   ffi::Buffer<ffi::F32>& vals, ffi::Buffer<ffi::S32>& idx,
                   Dims* d) {
  auto xd = xin.dimensions(), ad = a.dimensions(), wd = w.dimensions(),
       hd = h0.dimensions(), vd = vals.dimensions(), id = idx.dimensions();
  if (xd.size() != 3 || ad.size() != 3 || wd.size() != 2 || hd.size() != 2 ||
      vd.size() != 3 || id.size() != 2)
    return ffi::Error::InvalidArgument(
        "block_sparse_gru: xin [F, B, 3H], a [T, B, K], w [K, 3H], "
        "h0 [B, H], vals [J, M, BH], idx [J, M] expected");
  d->f = xd[0];
  d->b = xd[1];
  d->g = xd[2];
  d->t = ad[0];
  d->k = ad[2];
  d->h = hd[1];
  d->j = vd[0];
  d->m = vd[1];
  d->bh = vd[2];
  if (d->f <= 0 || d->t % d->f || ad[1] != d->b || wd[0] != d->k ||
      wd[1] != d->g || hd[0] != d->b || d->g != 3 * d->h ||
      d->j * d->bh != d->g || id[0] != d->j || id[1] != d->m)
    return ffi::Error::InvalidArgument("block_sparse_gru: shapes disagree");
  d->p = d->t / d->f;
  const int32_t* ip = idx.typed_data();
  for (int64_t n = 0; n < d->j * d->m; ++n)
    if (ip[n] < 0 || ip[n] >= d->h)
      return ffi::Error::InvalidArgument("block_sparse_gru: idx out of range");
  return ffi::Error::Success();
}

// Forward: h_all [T, B, H] and the residual rh_all [T, B, G] (R h_{t-1}).
ffi::Error GruForwardImpl(ffi::Buffer<ffi::F32> xin, ffi::Buffer<ffi::F32> a,
                          ffi::Buffer<ffi::F32> w, ffi::Buffer<ffi::F32> h0,
                          ffi::Buffer<ffi::F32> vals,
                          ffi::Buffer<ffi::S32> idx,
                          ffi::ResultBuffer<ffi::F32> h_all,
                          ffi::ResultBuffer<ffi::F32> rh_all) {
  Dims d;
  ffi::Error err = GetDims(xin, a, w, h0, vals, idx, &d);
  if (err.failure()) return err;
  const int64_t g = d.g, bg = d.b * d.g, bh_ = d.b * d.h;
  float* hp = h_all->typed_data();
  float* rp = rh_all->typed_data();
  const float* h_prev = h0.typed_data();
  for (int64_t t = 0; t < d.t; ++t) {
    float* rh = rp + t * bg;
    SparseProduct(h_prev, d.b, d.h, vals.typed_data(), idx.typed_data(), d.j,
                  d.m, d.bh, rh);
    float* h_new = hp + t * bh_;
    const float* xf = xin.typed_data() + (t / d.p) * bg;
    for (int64_t b = 0; b < d.b; ++b) {
      WAVERNN_DISPATCH_K(d.k, GruRowInline, h_prev + b * d.h, rh + b * g,
                         xf + b * g, a.typed_data() + (t * d.b + b) * d.k,
                         w.typed_data(), d.h, h_new + b * d.h);
    }
    h_prev = h_new;
  }
  return ffi::Error::Success();
}

// Backward: given dh_all [T, B, H] (the loss's gradient by each h_t; h_T's
// carry-out is not used), returns dxin [F, B, G], da [T, B, K], dw [K, G],
// dh0 [B, H] and dvals [J, M, BH].
ffi::Error GruBackwardImpl(
    ffi::Buffer<ffi::F32> xin, ffi::Buffer<ffi::F32> a,
    ffi::Buffer<ffi::F32> w, ffi::Buffer<ffi::F32> h0,
    ffi::Buffer<ffi::F32> vals, ffi::Buffer<ffi::S32> idx,
    ffi::Buffer<ffi::F32> h_all, ffi::Buffer<ffi::F32> rh_all,
    ffi::Buffer<ffi::F32> dh_all, ffi::ResultBuffer<ffi::F32> dxin,
    ffi::ResultBuffer<ffi::F32> da, ffi::ResultBuffer<ffi::F32> dw,
    ffi::ResultBuffer<ffi::F32> dh0, ffi::ResultBuffer<ffi::F32> dvals) {
  Dims d;
  ffi::Error err = GetDims(xin, a, w, h0, vals, idx, &d);
  if (err.failure()) return err;
  const int64_t h_size = d.h, g = d.g, b_size = d.b, k_size = d.k;
  const int64_t bhs = b_size * h_size, bg = b_size * g;
  const ByColumn by_col = Transpose(vals.typed_data(), idx.typed_data(), d.j,
                                    d.m, d.bh, h_size);
  const float* hp = h_all.typed_data();
  const float* rp = rh_all.typed_data();
  const float* dhp = dh_all.typed_data();
  const float* ap = a.typed_data();
  const float* wp = w.typed_data();
  float* dxin_p = dxin->typed_data();
  float* da_p = da->typed_data();
  float* dw_p = dw->typed_data();
  std::fill(dxin_p, dxin_p + d.f * bg, 0.f);
  std::fill(dw_p, dw_p + k_size * g, 0.f);
  std::vector<float>& drh_all = Scratch(0, d.t * bg);  // dL / d(R h_{t-1}).
  std::vector<float> carry(bhs, 0.f), next(bhs), dx(g);
  for (int64_t t = d.t - 1; t >= 0; --t) {
    const float* h_prev = t ? hp + (t - 1) * bhs : h0.typed_data();
    const float* rh = rp + t * bg;
    const float* xf = xin.typed_data() + (t / d.p) * bg;
    float* dxf = dxin_p + (t / d.p) * bg;
    const float* dht = dhp + t * bhs;
    float* drh = drh_all.data() + t * bg;
    for (int64_t b = 0; b < b_size; ++b) {
      const float* at = ap + (t * b_size + b) * k_size;
      WAVERNN_DISPATCH_K(k_size, GruRowBackward, h_prev + b * h_size,
                         rh + b * g, xf + b * g, at, wp, dht + b * h_size,
                         carry.data() + b * h_size, h_size, dx.data(),
                         dxf + b * g, dw_p, drh + b * g,
                         next.data() + b * h_size);
      for (int64_t kk = 0; kk < k_size; ++kk)  // da = dx . w[k]
        da_p[(t * b_size + b) * k_size + kk] = Dot(wp + kk * g, dx.data(), g);
    }
    SparseProductT(drh, b_size, h_size, by_col, d.bh, g, next.data());
    carry.swap(next);
  }
  std::memcpy(dh0->typed_data(), carry.data(), bhs * sizeof(float));

  // dvals = sum over (t, b) of h_{t-1}[b, idx] drh[t, b, block]; row n of
  // the T B rows is h0's for n < B, else h_all's row n - B.
  const float* h0p = h0.typed_data();
  BlockGradient(
      [&](int64_t n) {
        return n < b_size ? h0p + n * h_size : hp + (n - b_size) * h_size;
      },
      drh_all.data(), d.t * b_size, h_size, idx.typed_data(), d.j, d.m, d.bh,
      dvals->typed_data());
  return ffi::Error::Success();
}

// y [N, O] = x [N, I] @ the block-sparse W (vals [J, M, BH], idx [J, M]).
ffi::Error MatmulForwardImpl(ffi::Buffer<ffi::F32> x,
                             ffi::Buffer<ffi::F32> vals,
                             ffi::Buffer<ffi::S32> idx,
                             ffi::ResultBuffer<ffi::F32> y) {
  auto xd = x.dimensions(), vd = vals.dimensions(), id = idx.dimensions();
  if (xd.size() != 2 || vd.size() != 3 || id.size() != 2 || id[0] != vd[0] ||
      id[1] != vd[1])
    return ffi::Error::InvalidArgument(
        "block_sparse_matmul: x [N, I], vals [J, M, BH], idx [J, M] expected");
  const int32_t* ip = idx.typed_data();
  for (int64_t n = 0; n < id[0] * id[1]; ++n)
    if (ip[n] < 0 || ip[n] >= xd[1])
      return ffi::Error::InvalidArgument("block_sparse_matmul: idx out of range");
  SparseProduct(x.typed_data(), xd[0], xd[1], vals.typed_data(), ip, vd[0],
                vd[1], vd[2], y->typed_data());
  return ffi::Error::Success();
}

// Its gradient: dx [N, I] = dy @ W^T and dvals of the kept blocks.
ffi::Error MatmulBackwardImpl(ffi::Buffer<ffi::F32> x,
                              ffi::Buffer<ffi::F32> vals,
                              ffi::Buffer<ffi::S32> idx,
                              ffi::Buffer<ffi::F32> dy,
                              ffi::ResultBuffer<ffi::F32> dx,
                              ffi::ResultBuffer<ffi::F32> dvals) {
  auto xd = x.dimensions(), vd = vals.dimensions();
  const int64_t n_size = xd[0], i_size = xd[1], j_size = vd[0],
                m_size = vd[1], bh = vd[2];
  const ByColumn by_col =
      Transpose(vals.typed_data(), idx.typed_data(), j_size, m_size, bh, i_size);
  float* dxp = dx->typed_data();
  std::fill(dxp, dxp + n_size * i_size, 0.f);
  SparseProductT(dy.typed_data(), n_size, i_size, by_col, bh, j_size * bh, dxp);
  const float* xp = x.typed_data();
  BlockGradient([&](int64_t n) { return xp + n * i_size; }, dy.typed_data(),
                n_size, i_size, idx.typed_data(), j_size, m_size, bh,
                dvals->typed_data());
  return ffi::Error::Success();
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(WavernnGruForward, GruForwardImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F32>>()  // xin
                                  .Arg<ffi::Buffer<ffi::F32>>()  // a
                                  .Arg<ffi::Buffer<ffi::F32>>()  // w
                                  .Arg<ffi::Buffer<ffi::F32>>()  // h0
                                  .Arg<ffi::Buffer<ffi::F32>>()  // vals
                                  .Arg<ffi::Buffer<ffi::S32>>()  // idx
                                  .Ret<ffi::Buffer<ffi::F32>>()  // h_all
                                  .Ret<ffi::Buffer<ffi::F32>>()  // rh_all
);

XLA_FFI_DEFINE_HANDLER_SYMBOL(WavernnGruBackward, GruBackwardImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F32>>()  // xin
                                  .Arg<ffi::Buffer<ffi::F32>>()  // a
                                  .Arg<ffi::Buffer<ffi::F32>>()  // w
                                  .Arg<ffi::Buffer<ffi::F32>>()  // h0
                                  .Arg<ffi::Buffer<ffi::F32>>()  // vals
                                  .Arg<ffi::Buffer<ffi::S32>>()  // idx
                                  .Arg<ffi::Buffer<ffi::F32>>()  // h_all
                                  .Arg<ffi::Buffer<ffi::F32>>()  // rh_all
                                  .Arg<ffi::Buffer<ffi::F32>>()  // dh_all
                                  .Ret<ffi::Buffer<ffi::F32>>()  // dxin
                                  .Ret<ffi::Buffer<ffi::F32>>()  // da
                                  .Ret<ffi::Buffer<ffi::F32>>()  // dw
                                  .Ret<ffi::Buffer<ffi::F32>>()  // dh0
                                  .Ret<ffi::Buffer<ffi::F32>>()  // dvals
);

XLA_FFI_DEFINE_HANDLER_SYMBOL(WavernnMatmulForward, MatmulForwardImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F32>>()  // x
                                  .Arg<ffi::Buffer<ffi::F32>>()  // vals
                                  .Arg<ffi::Buffer<ffi::S32>>()  // idx
                                  .Ret<ffi::Buffer<ffi::F32>>()  // y
);

XLA_FFI_DEFINE_HANDLER_SYMBOL(WavernnMatmulBackward, MatmulBackwardImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F32>>()  // x
                                  .Arg<ffi::Buffer<ffi::F32>>()  // vals
                                  .Arg<ffi::Buffer<ffi::S32>>()  // idx
                                  .Arg<ffi::Buffer<ffi::F32>>()  // dy
                                  .Ret<ffi::Buffer<ffi::F32>>()  // dx
                                  .Ret<ffi::Buffer<ffi::F32>>()  // dvals
);
