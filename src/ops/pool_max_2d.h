// MaxPool's common 2-D case on float (kernel 2x2..3x3, stride 1 or 2, no
// dilation, any padding or ceil_mode) as two vector passes per output row:
// the window's input rows combined lane by lane into a row buffer that holds
// the horizontal padding as -inf, then a max along the buffer with the
// stride (stride 2 deinterleaved into even and odd columns), so neither pass
// checks a bound. NaN propagates as on the general row path (a window holding
// a NaN gives NaN). Other pools, and machines without AVX-512, take
// ops/pool_loops.*.
#pragma once

#include <cstdint>

#include "ops/window_geometry.h"

namespace onnx_mini {

// Whether max_pool_2d_planes handles geometry g (and this CPU can run it).
bool max_pool_2d_applies(const WindowGeometry& g);

// y[plane] = max pool of x[plane] for planes [first, first + count).
void max_pool_2d_planes(const float* x, float* y, int64_t first, int64_t count, const WindowGeometry& g);

}  // namespace onnx_mini
