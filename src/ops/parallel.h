// The runtime's own worker threads, one pool per session, for kernels that
// split their work (the packed GEMM, the OpenBLAS fallback's row blocks, batched
// MatMul). A session built with N threads owns a pool of N participants (the
// calling thread and N - 1 workers) and OpenBLAS is held at one thread
// (ops/blas.h), so all the session's intra-op parallelism goes through its pool
// and it never uses more than N threads.
//
// A dispatch hands out task indices from both ends of the range (the calling
// thread from the front, the workers from the back; parallel.cc says why), a
// shrinking share of the rest per claim (tasks_per_claim); the calling thread
// works too, so a pool of 1 runs everything inline with no thread at all.
// Workers start on the first dispatch of more than one task, so a session that
// never splits work never starts a thread. Idle workers spin for a short while
// (kSpin in parallel.cc) so the next layer of the same run finds them awake,
// then sleep on a condition variable: nothing burns CPU after a run.
//
// Several threads may dispatch on one pool at once (a later step runs one
// session from many threads): one dispatch holds the workers, the others run
// their tasks on their own calling thread, so each caller still gets its work
// done and the pool never runs more than its N threads' worth of tasks at once
// beyond the callers themselves.
#pragma once

#include <cstdint>
#include <memory>

namespace onnx_mini {

using TaskFn = void (*)(const void* context, int64_t task);

class ThreadPool {
 public:
  // `threads` take part in a dispatch, the caller included; <= 0 picks the
  // number of online CPUs.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const;
  static int online_cpus();

  // Calls fn(context, task) for every task in [0, num_tasks), spread over the
  // pool's threads, and returns when all are done. fn must not throw.
  void for_each_task(int64_t num_tasks, TaskFn fn, const void* context);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// How many tasks a thread takes at once from its end of a dispatch's range
// when `remaining` are left (>= 1): a share of them, so a dispatch of many
// small tasks makes few claims (parallel.cc says why and how large).
int64_t tasks_per_claim(int64_t remaining, int participants);

// On `pool`, or inline on the calling thread when pool is null (a kernel run
// outside a session, e.g. by a test).
void for_each_task(ThreadPool* pool, int64_t num_tasks, TaskFn fn, const void* context);

// Convenience over any callable: for_each_task(pool, n, [&](int64_t t) {...}).
template <typename F>
void for_each_task(ThreadPool* pool, int64_t num_tasks, const F& fn) {
  for_each_task(
      pool, num_tasks, [](const void* c, int64_t t) { (*static_cast<const F*>(c))(t); }, &fn);
}

}  // namespace onnx_mini
