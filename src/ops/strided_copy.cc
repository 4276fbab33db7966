#include "ops/strided_copy.h"

#include <algorithm>
#include <cstring>

#include "ops/broadcast.h"
#include "ops/elementwise_util.h"
#include "ops/parallel.h"

namespace onnx_mini {
namespace {

// The view after dropping size-1 axes and merging each axis into the next
// when it steps exactly over it (stride == next stride x next dim).
struct Axes {
  int64_t* dims;
  int64_t* strides;
  size_t rank = 0;
};

void collapse(const Shape& shape, const int64_t* strides, Axes& axes) {
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (axes.rank > 0 && axes.strides[axes.rank - 1] == strides[d] * shape[d]) {
      axes.dims[axes.rank - 1] *= shape[d];
      axes.strides[axes.rank - 1] = strides[d];
      continue;
    }
    axes.dims[axes.rank] = shape[d];
    axes.strides[axes.rank] = strides[d];
    ++axes.rank;
  }
}

// Runs [run_begin, run_end) of the collapsed view (a run: the innermost axis).
template <typename U>
void copy_runs(const U* in, const Axes& axes, int64_t run_begin, int64_t run_end, U* out) {
  const size_t inner_axis = axes.rank - 1;
  const int64_t inner = axes.dims[inner_axis], step = axes.strides[inner_axis];
  DimScratch counter_buf(inner_axis);
  int64_t* counter = counter_buf.data();
  int64_t offset = 0;
  for (size_t d = inner_axis, rest = static_cast<size_t>(run_begin); d-- > 0;) {  // unravel run_begin
    counter[d] = static_cast<int64_t>(rest % static_cast<size_t>(axes.dims[d]));
    rest /= static_cast<size_t>(axes.dims[d]);
    offset += counter[d] * axes.strides[d];
  }
  for (int64_t run = run_begin; run < run_end; ++run) {
    U* to = out + run * inner;
    if (step == 1) {
      std::memcpy(to, in + offset, static_cast<size_t>(inner) * sizeof(U));
    } else {
      for (int64_t j = 0; j < inner; ++j) to[j] = in[offset + j * step];
    }
    for (size_t d = inner_axis; d-- > 0;) {  // the outer axes' odometer
      offset += axes.strides[d];
      if (++counter[d] < axes.dims[d]) break;
      offset -= axes.strides[d] * axes.dims[d];
      counter[d] = 0;
    }
  }
}

// Below this a copy runs on the calling thread. A transformer block of d_model
// 256 at sequence 128 moves 128 KiB per Transpose: split in two, the GPT block
// at batch 1 on 2 threads took 0.97x the time it took with 256 KiB here.
constexpr size_t kParallelBytes = size_t{64} << 10;
// Bytes per task when split: enough to amortise a task, small enough to balance.
constexpr size_t kTaskBytes = size_t{32} << 10;

}  // namespace

bool copy_strided(const void* src, const Shape& shape, const int64_t* strides, size_t element_size, void* dst,
                  ThreadPool* pool) {
  const int64_t n = num_elements(shape);
  if (n == 0) return dispatch_size(element_size, [](auto) {});
  DimScratch dims_buf(shape.size()), strides_buf(shape.size());
  Axes axes{dims_buf.data(), strides_buf.data()};
  collapse(shape, strides, axes);
  return dispatch_size(element_size, [&](auto tag) {
    using U = decltype(tag);
    const U* in = static_cast<const U*>(src);
    U* out = static_cast<U*>(dst);
    if (axes.rank == 0) {
      out[0] = in[0];
      return;
    }
    const int64_t inner = axes.dims[axes.rank - 1], runs = n / inner;
    const size_t bytes = static_cast<size_t>(n) * sizeof(U);
    if (!pool || bytes < kParallelBytes || runs < 2) return copy_runs(in, axes, 0, runs, out);
    const int64_t tasks = std::min<int64_t>(runs, static_cast<int64_t>(bytes / kTaskBytes));
    for_each_task(pool, tasks, [&](int64_t task) {
      copy_runs(in, axes, runs * task / tasks, runs * (task + 1) / tasks, out);
    });
  });
}

}  // namespace onnx_mini
