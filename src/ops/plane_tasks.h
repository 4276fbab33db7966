// Splitting [N * C] planes (or any run of equal, independent items) over a
// session's threads: contiguous blocks of items, each block worth at least
// kMinTaskWork units of work so a small tensor runs inline without a dispatch.
#pragma once

#include <algorithm>
#include <cstdint>

#include "ops/parallel.h"

namespace onnx_mini {

// ~32 k element-visits: a few microseconds, well above a dispatch's cost.
inline constexpr int64_t kMinTaskWork = int64_t{1} << 15;

// Calls f(first, count) for blocks covering [0, items); `work_per_item` sizes the blocks.
template <typename F>
void for_each_item_block(ThreadPool* pool, int64_t items, int64_t work_per_item, const F& f) {
  if (items <= 0) return;
  const int64_t per_task = std::clamp<int64_t>(kMinTaskWork / std::max<int64_t>(1, work_per_item), 1, items);
  const int64_t tasks = (items + per_task - 1) / per_task;
  for_each_task(tasks > 1 ? pool : nullptr, tasks, [&](int64_t t) {
    const int64_t first = t * per_task;
    f(first, std::min(per_task, items - first));
  });
}

}  // namespace onnx_mini
