// The loops behind MaxPool, AveragePool, LpPool and the global pools, over
// planes of [N * C, spatial...] tensors. One pass over the input per plane:
//
//   Row path (every pool without an Indices output): for each output row the
//   window's input rows along the outer spatial axes are combined elementwise
//   into a row buffer (contiguous, vectorised), which carries its padding as
//   values (-inf or the type's lowest for max, 0 for sums), so the pass along
//   the last axis runs without a bounds check: y[ow] = combine over kw of
//   buf[ow * stride + kw * dilation]. Max and sums are separable over a box
//   window, so this is the exact same result as visiting every tap.
//   Float MaxPool in 2-D with kernel 2 or 3, stride 1 or 2 and no dilation
//   takes the same two passes as AVX-512 vectors (ops/pool_max_2d.*).
//   Direct path (MaxPool with Indices, or a last-axis window wider than the
//   row buffer): every tap of every window, tracking where the maximum was.
//
// Max propagates NaN (as numpy and PyTorch do): a window holding a NaN gives
// NaN, its index the first NaN's. Ties give the first maximum in row-major tap
// order. Averages and Lp sums accumulate in T (float): window sums are short,
// so the error stays within a few ulps per tap.
#pragma once

#include <cstdint>

#include "ops/window_geometry.h"

namespace onnx_mini {

enum class PoolKind { kMax, kAverage, kLp };

struct PoolSpec {
  PoolKind kind = PoolKind::kMax;
  bool count_include_pad = false;  // AveragePool divisor counts explicit padding
  double p = 2;                    // LpPool norm (an integer from LpPool-2 on)
};

// y[plane] = pool(x[plane]) for planes [first, first + count); x planes hold
// prod(in) elements, y planes prod(out). T: float; int8_t / uint8_t for max.
template <typename T>
void pool_planes(const T* x, T* y, int64_t first, int64_t count, const WindowGeometry& g, const PoolSpec& spec);

// MaxPool with its Indices output: flat indices into the whole input tensor,
// the spatial part row-major, or column-major when `column_major`
// (storage_order = 1).
template <typename T>
void max_pool_with_indices(const T* x, T* y, int64_t* indices, int64_t first, int64_t count, const WindowGeometry& g,
                           bool column_major);

// One value per plane: max, mean, or (sum |x|^p)^(1/p) over `plane_size` elements.
template <typename T>
void global_pool_planes(const T* x, T* y, int64_t first, int64_t count, int64_t plane_size, const PoolSpec& spec);

}  // namespace onnx_mini
