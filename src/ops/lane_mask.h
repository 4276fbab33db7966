// Masks of a run of lanes of a 16-float vector, for the masked loads and
// stores at the edges of a row (the convolutions' and pools' padding and
// row ends). Plain integers: __mmask16 is a uint16_t.
#pragma once

#include <algorithm>
#include <cstdint>

namespace onnx_mini {

// Lanes [lo, hi) of a 16-lane vector, clamped to it (none when hi <= lo).
inline uint16_t lane_range_mask(int64_t lo, int64_t hi) {
  lo = std::clamp<int64_t>(lo, 0, 16);
  hi = std::clamp<int64_t>(hi, lo, 16);
  return static_cast<uint16_t>(((uint32_t{1} << hi) - 1) & ~((uint32_t{1} << lo) - 1));
}

// Lanes j of 16 values from column `start` of a row of `width` with 0 <= start + j < width.
inline uint16_t lanes_within(int64_t start, int64_t width) { return lane_range_mask(-start, width - start); }

}  // namespace onnx_mini
