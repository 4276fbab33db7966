#include "runtime/block_offsets.h"

#include <algorithm>

namespace onnx_mini {

int64_t BlockOffsets::place(int64_t bytes) {
  if (bytes < 0 || bytes > kMaxBytes) return -1;
  const int64_t need = std::max(kAlignment, (bytes + kAlignment - 1) / kAlignment * kAlignment);
  // The lowest gap that holds it: before the first live value, between two,
  // or after the last. A run has a few values live at once (tens at most).
  int64_t at = 0;
  auto it = live_.begin();
  for (; it != live_.end(); ++it) {
    if (it->first - at >= need) break;
    at = std::max(at, it->second);
  }
  live_.insert(it, {at, at + need});
  high_water_ = std::max(high_water_, at + need);
  return at;
}

int64_t BlockOffsets::size_at(int64_t offset) const {
  auto it = std::lower_bound(live_.begin(), live_.end(), std::make_pair(offset, int64_t{0}));
  return it != live_.end() && it->first == offset ? it->second - it->first : 0;
}

void BlockOffsets::release(int64_t offset) {
  auto it = std::lower_bound(live_.begin(), live_.end(), std::make_pair(offset, int64_t{0}));
  if (it != live_.end() && it->first == offset) live_.erase(it);
}

}  // namespace onnx_mini
