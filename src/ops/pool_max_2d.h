// MaxPool's common 2-D case on float (kernel 2x2..3x3, stride 1 or 2, no
// dilation, any padding or ceil_mode), one output row at a time in registers:
// 16 outputs take the max down their window's input rows of the columns their
// windows start at (stride 2: 32 columns deinterleaved into even and odd), and
// their later taps by a lane shift from the next 16 outputs' columns. Padding
// and columns past the row are masked loads filled with -inf, so nothing
// outside the row is read and no pass checks a bound; no row is stored and read
// back (an intermediate row buffer read at unaligned offsets, 2 and 18 floats
// into what was just stored, stalled on store forwarding). Output rows striding
// 2 go in pairs (a 3-row pair shares its middle row), and the input rows a few
// output rows ahead are prefetched. NaN propagates as on the general row path
// (a window holding a NaN gives NaN): a plane runs with plain vmaxps while one
// compare per input vector proves it NaN-free, and again with a NaN-keeping
// max when it is not. Other pools, and machines without AVX-512, take
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
