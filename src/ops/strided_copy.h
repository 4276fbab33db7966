// Gathering a strided view of a tensor into contiguous memory: what Transpose,
// Slice, Expand and the variadic ops' broadcast of their first input do, with
// the view's inner runs copied as runs.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/shape.h"

namespace onnx_mini {

class ThreadPool;

// dst[i] = src[offset(i)] for every element i of `shape` in row-major order,
// where offset() follows `strides` (in elements, any sign, one per axis of
// `shape`) and elements are `element_size` bytes (1, 2, 4 or 8; false for
// others). Axes of size 1 are dropped and axes the view keeps contiguous are
// merged first, so a Transpose that keeps the last axis, or a Slice of whole
// rows, becomes one memcpy per run rather than one per element. Copies of
// 64 KiB and more are split over `pool` (may be null) by runs. No heap
// allocation for ranks up to 8.
bool copy_strided(const void* src, const Shape& shape, const int64_t* strides, size_t element_size, void* dst,
                  ThreadPool* pool = nullptr);

}  // namespace onnx_mini
