// SIMD helpers shared by the fused CPU kernels (block_sparse_gru.cc,
// sample.cc): sixteen-float vectors, fast tanh / sigmoid, lane sums, and
// the block-sparse product rh = h @ W by kept blocks.
#ifndef WAVERNN_JAX_CSRC_KERNEL_MATH_H_
#define WAVERNN_JAX_CSRC_KERNEL_MATH_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#ifdef __AVX__
#include <immintrin.h>
#endif

namespace wavernn {

// Sixteen floats as two vectors of eight (one AVX2 register each; GCC's
// 64-byte vectors compile to slow code where AVX-512 is missing).
typedef float v8 __attribute__((vector_size(32)));
struct v16 {
  v8 lo, hi;
};

inline v8 load8(const float* p) {
  v8 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
inline void store8(float* p, v8 v) { std::memcpy(p, &v, sizeof(v)); }
inline v16 load16(const float* p) { return {load8(p), load8(p + 8)}; }
inline void store16(float* p, v16 v) {
  store8(p, v.lo);
  store8(p + 8, v.hi);
}
// a += s v and a += v w, lane by lane.
inline void fma16(v16& a, float s, v16 v) {
  a.lo += s * v.lo;
  a.hi += s * v.hi;
}
inline void fma16(v16& a, v16 v, v16 w) {
  a.lo += v.lo * w.lo;
  a.hi += v.hi * w.hi;
}
inline float hsum16(v16 v) {
  const v8 s = v.lo + v.hi;
  float r = 0.f;
  for (int i = 0; i < 8; ++i) r += s[i];
  return r;
}

// tanh as the rational approximation XLA's CPU backend uses (Eigen's
// generic_fast_tanh_float: |error| < 1e-7 relative on float): inlined and
// vectorised with the loops around it, where libm's tanhf and expf are
// calls (they took most of the gates' time).
inline float fast_tanh(float x) {
  const float c = 7.90531110763549805f;
  x = x > c ? c : (x < -c ? -c : x);
  const float x2 = x * x;
  float p = x2 * -2.76076847742355e-16f + 2.00018790482477e-13f;
  p = p * x2 + -8.60467152213735e-11f;
  p = p * x2 + 5.12229709037114e-08f;
  p = p * x2 + 1.48572235717979e-05f;
  p = p * x2 + 6.37261928875436e-04f;
  p = p * x2 + 4.89352455891786e-03f;
  p = p * x;
  float q = x2 * 1.19825839466702e-06f + 1.18534705686654e-04f;
  q = q * x2 + 2.26843463243900e-03f;
  q = q * x2 + 4.89352518554385e-03f;
  return p / q;
}
// The lane sums of four 16-float accumulators, added to out[0..3 * stride].
inline void AddHsum4(v16 a0, v16 a1, v16 a2, v16 a3, float* out,
                     int64_t stride) {
#ifdef __AVX__
  const __m256 s0 = (__m256)(a0.lo + a0.hi), s1 = (__m256)(a1.lo + a1.hi),
               s2 = (__m256)(a2.lo + a2.hi), s3 = (__m256)(a3.lo + a3.hi);
  const __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(s0, s1),
                                  _mm256_hadd_ps(s2, s3));
  float r[4];
  _mm_storeu_ps(r, _mm_add_ps(_mm256_castps256_ps128(t),
                              _mm256_extractf128_ps(t, 1)));
  for (int k = 0; k < 4; ++k) out[k * stride] += r[k];
#else
  out[0] += hsum16(a0);
  out[stride] += hsum16(a1);
  out[2 * stride] += hsum16(a2);
  out[3 * stride] += hsum16(a3);
#endif
}

inline float sigmoid(float x) { return 0.5f + 0.5f * fast_tanh(0.5f * x); }

// rh [B, G] = h [B, H] @ the block-sparse R.
inline void SparseProductTile(const float* h, int64_t b_size, int64_t h_size,
                   const float* vals, const int32_t* idx, int64_t j_size,
                   int64_t m_size, int64_t bh, float* rh) {
  const int64_t g = j_size * bh;
  if (bh == 16) {
    for (int64_t j = 0; j < j_size; ++j) {
      const float* vj = vals + j * m_size * 16;
      const int32_t* ij = idx + j * m_size;
      int64_t b0 = 0;
      for (; b0 + 4 <= b_size; b0 += 4) {
        v16 a0 = {}, a1 = {}, a2 = {}, a3 = {};
        const float* h0 = h + b0 * h_size;
        for (int64_t m = 0; m < m_size; ++m) {
          const v16 v = load16(vj + m * 16);
          const int64_t i = ij[m];
          fma16(a0, h0[i], v);
          fma16(a1, h0[h_size + i], v);
          fma16(a2, h0[2 * h_size + i], v);
          fma16(a3, h0[3 * h_size + i], v);
        }
        store16(rh + b0 * g + j * 16, a0);
        store16(rh + (b0 + 1) * g + j * 16, a1);
        store16(rh + (b0 + 2) * g + j * 16, a2);
        store16(rh + (b0 + 3) * g + j * 16, a3);
      }
      for (; b0 < b_size; ++b0) {
        v16 a = {};
        const float* hb = h + b0 * h_size;
        for (int64_t m = 0; m < m_size; ++m)
          fma16(a, hb[ij[m]], load16(vj + m * 16));
        store16(rh + b0 * g + j * 16, a);
      }
    }
    return;
  }
  // Any other block height: the same sums, scalar.
  for (int64_t b = 0; b < b_size; ++b) {
    const float* hb = h + b * h_size;
    for (int64_t j = 0; j < j_size; ++j) {
      float* out = rh + b * g + j * bh;
      for (int64_t q = 0; q < bh; ++q) out[q] = 0.f;
      for (int64_t m = 0; m < m_size; ++m) {
        const float hv = hb[idx[j * m_size + m]];
        const float* v = vals + (j * m_size + m) * bh;
        for (int64_t q = 0; q < bh; ++q) out[q] += hv * v[q];
      }
    }
  }
}

}  // namespace wavernn

#endif  // WAVERNN_JAX_CSRC_KERNEL_MATH_H_
