// In-register transpose of a 16 x 16 float block (AVX-512F): the convolution
// kernels that move between NCHW (pixels in the lanes) and channel-blocked or
// pixel-row tiles (ops/conv_packed.cc's transposing store,
// ops/conv_depthwise_blocked.cc's repacking) share it.
#pragma once

#if defined(__x86_64__)
#include <immintrin.h>

namespace onnx_mini {

// v[i] lane j becomes v[j] lane i: 16 channels of 16 pixels into 16 pixels
// of 16 channels, and back. Pairs of rows interleaved by floats, then by
// float pairs (each 128-bit lane then holds 4 channels of one pixel), then the
// 128-bit lanes gathered across the four groups of 4 rows.
__attribute__((target("avx512f"))) inline void transpose16(__m512 v[16]) {
  __m512 a[16], b[16];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    a[2 * i] = _mm512_unpacklo_ps(v[2 * i], v[2 * i + 1]);
    a[2 * i + 1] = _mm512_unpackhi_ps(v[2 * i], v[2 * i + 1]);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    const __m512d lo = _mm512_castps_pd(a[4 * i]), hi = _mm512_castps_pd(a[4 * i + 1]);
    const __m512d lo2 = _mm512_castps_pd(a[4 * i + 2]), hi2 = _mm512_castps_pd(a[4 * i + 3]);
    b[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(lo, lo2));
    b[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(lo, lo2));
    b[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(hi, hi2));
    b[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(hi, hi2));
  }
  // b[4 * i + k], 128-bit lane L: rows 4i..4i+3 of column 4L + k.
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) {
    const __m512 c0 = _mm512_shuffle_f32x4(b[k], b[4 + k], 0x44), c1 = _mm512_shuffle_f32x4(b[k], b[4 + k], 0xEE);
    const __m512 d0 = _mm512_shuffle_f32x4(b[8 + k], b[12 + k], 0x44);
    const __m512 d1 = _mm512_shuffle_f32x4(b[8 + k], b[12 + k], 0xEE);
    v[k] = _mm512_shuffle_f32x4(c0, d0, 0x88);
    v[4 + k] = _mm512_shuffle_f32x4(c0, d0, 0xDD);
    v[8 + k] = _mm512_shuffle_f32x4(c1, d1, 0x88);
    v[12 + k] = _mm512_shuffle_f32x4(c1, d1, 0xDD);
  }
}

}  // namespace onnx_mini

#endif
