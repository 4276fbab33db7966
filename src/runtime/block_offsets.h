// Offsets in one block of memory for the values of one run: each value takes
// the lowest 64-byte-aligned offset where it fits between the values still
// live (first fit), and gives it back after its last reader. A value placed
// this way can use memory another value wrote moments before, which a slot of
// the memory plan (runtime/plan.h) cannot: a slot is the same buffer in every
// run, and the one a value gets may not have been touched since the previous
// run. ORT places tensors the same way (its memory patterns).
//
// The offsets are worked out as the run goes, since the shapes are known only
// then; the block itself is the frame's (runtime/execution_frame.h), which
// grows it after a run whose values reached past its end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace onnx_mini {

class BlockOffsets {
 public:
  static constexpr int64_t kAlignment = 64;
  // Past this a value is never placed (place returns -1): it goes to a slot,
  // whose growth the frame's memory limit refuses.
  static constexpr int64_t kMaxBytes = int64_t{1} << 48;

  // The offset of a new value of `bytes` (rounded up to kAlignment; at least
  // kAlignment, so that no two live values start at the same offset), or -1.
  int64_t place(int64_t bytes);
  // Bytes the value at `offset` holds (rounded as placed); 0 when none.
  int64_t size_at(int64_t offset) const;
  // The value at `offset` is dead; no-op for an offset that holds none.
  void release(int64_t offset);
  // The end of the run: every value is dead. The high-water mark stays.
  void clear() { live_.clear(); }
  // The highest end of any value placed since construction or reset_high_water.
  int64_t high_water() const { return high_water_; }
  void reset_high_water() { high_water_ = 0; }
  size_t live_count() const { return live_.size(); }

 private:
  std::vector<std::pair<int64_t, int64_t>> live_;  // [begin, end), sorted by begin
  int64_t high_water_ = 0;
};

}  // namespace onnx_mini
