// One row of a zero-bordered copy of an image: the padded input of the packed
// convolution's gathered form (ops/conv_packed.cc), written row by row once
// per run. Its rows are short (56 floats at ResNet-18's 56x56, 13 at
// SqueezeNet's 13x13): rather than three library calls per row (memset,
// memcpy, memset) for a few hundred bytes, vector stores, masked only at the
// row's edges. SqueezeNet at batch 1 on 2 threads, six alternated rounds of
// --profile: every 3x3 expand 1.5-4 us faster (0.98-0.99 of its time), on 1
// thread unchanged; ResNet-18's stride-2 3x3 at 28x28 cut out alone 0.975 on
// 2 threads, in the whole model unchanged.
//
// Winograd's per-unit copy of its tile rows (ops/conv_winograd.cc) keeps the
// library calls: with this row its 3x3 layers on 2 threads took 17-59 us
// longer each (ResNet-18, five rounds). Not explained; unlike the gathered
// form's units, its transform reads the rows right after they are stored.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>

#include "ops/lane_mask.h"
#endif

namespace onnx_mini {

#if defined(__x86_64__)
// The target a caller's row loop needs for zero_padded_row to be inlined in it.
#define ONNX_MINI_PADDED_ROW_TARGET __attribute__((target("avx512f")))

// dst[0, left) = 0, dst[left, left + width) = src[0, width), then `right`
// zeros. Reads nothing outside src[0, width). Needs AVX-512F (its callers run
// on the packed kernel only, PackedWeights::supported()).
ONNX_MINI_PADDED_ROW_TARGET inline void zero_padded_row(float* dst, int64_t left, const float* src, int64_t width,
                                                        int64_t right) {
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t j = 0; j < left; j += 16) _mm512_mask_storeu_ps(dst + j, lane_range_mask(0, left - j), zero);
  dst += left;
  int64_t i = 0;
  for (; i + 16 <= width; i += 16) _mm512_storeu_ps(dst + i, _mm512_loadu_ps(src + i));
  // The row's last values and the first zeros after them in one store.
  const int64_t rest = width - i, end = width + right;
  if (rest + right > 0) {
    const __m512 last = _mm512_maskz_loadu_ps(lane_range_mask(0, rest), src + i);
    _mm512_mask_storeu_ps(dst + i, lane_range_mask(0, rest + right), last);
  }
  for (int64_t j = i + 16; j < end; j += 16) _mm512_mask_storeu_ps(dst + j, lane_range_mask(0, end - j), zero);
}
#else
#define ONNX_MINI_PADDED_ROW_TARGET

inline void zero_padded_row(float* dst, int64_t left, const float* src, int64_t width, int64_t right) {
  std::memset(dst, 0, static_cast<size_t>(left) * sizeof(float));
  if (width > 0) std::memcpy(dst + left, src, static_cast<size_t>(width) * sizeof(float));
  std::memset(dst + left + width, 0, static_cast<size_t>(right) * sizeof(float));
}
#endif

// n zeros at dst (a row wholly in the padding).
ONNX_MINI_PADDED_ROW_TARGET inline void zero_row(float* dst, int64_t n) { zero_padded_row(dst, n, nullptr, 0, 0); }

}  // namespace onnx_mini
