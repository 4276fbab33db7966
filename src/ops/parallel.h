// The runtime's own worker threads, for kernels that split their work (today the
// packed GEMM, ops/packed_gemm.*). Process wide, like OpenBLAS's threads: one
// setting (`SessionOptions::threads`, `onnx-run --threads`) sizes both.
//
// A dispatch hands out task indices through one atomic counter; the calling
// thread works too, so `threads` = 1 runs everything inline with no pool at all.
// Idle workers spin for a short while (kSpinMicros in parallel.cc) so the next
// layer of the same run finds them awake, then sleep on a condition variable:
// nothing burns CPU after a run.
#pragma once

#include <cstdint>

namespace onnx_mini::parallel {

// Threads that take part in a dispatch, the caller included. n <= 0 picks the
// number of online CPUs. Not to be called while a dispatch is running.
void set_num_threads(int n);
int num_threads();

// Calls fn(task) for every task in [0, num_tasks), spread over the threads, and
// returns when all are done. fn must not throw. Safe from several threads at
// once (two sessions run side by side): while one dispatch holds the workers,
// the others run their tasks on their own calling thread.
using TaskFn = void (*)(const void* context, int64_t task);
void for_each_task(int64_t num_tasks, TaskFn fn, const void* context);

// Convenience over any callable: for_each_task(n, [&](int64_t t) {...}).
template <typename F>
void for_each_task(int64_t num_tasks, const F& fn) {
  for_each_task(
      num_tasks, [](const void* c, int64_t t) { (*static_cast<const F*>(c))(t); }, &fn);
}

}  // namespace onnx_mini::parallel
