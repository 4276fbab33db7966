// The runtime's worker pool (ops/parallel.*), one per session: every task runs
// once for any thread count, concurrent and nested dispatches, workers that
// sleep after their spin window, and a pool that uses no more threads than it
// was given.
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "ops/parallel.h"

namespace onnx_mini {
namespace {

TEST(Parallel, EveryTaskRunsOnceForAnyThreadCountAndManyDispatches) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.num_threads(), threads);
    for (int64_t tasks : {0, 1, 2, 5, 64, 1000}) {
      for (int round = 0; round < 50; ++round) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(tasks));
        for_each_task(&pool, tasks, [&](int64_t t) { hits[static_cast<size_t>(t)].fetch_add(1); });
        for (int64_t t = 0; t < tasks; ++t) ASSERT_EQ(hits[static_cast<size_t>(t)].load(), 1) << "task " << t;
      }
    }
  }
}

TEST(Parallel, CallerTakesTasksFromTheFrontAndTheWorkerFromTheBack) {
  // Each thread keeps to its own end of the range, so consecutive layers whose
  // tasks are numbered by pixel block give each thread the same pixels. Tasks
  // take a while so the worker joins in; whatever the timing, the caller's
  // tasks are a prefix of the range and the worker's the rest.
  ThreadPool pool(2);
  constexpr int64_t kTasks = 64;
  int worker_ran = 0;
  for (int round = 0; round < 20; ++round) {
    std::vector<std::thread::id> ran_on(kTasks);
    for_each_task(&pool, kTasks, [&](int64_t t) {
      ran_on[static_cast<size_t>(t)] = std::this_thread::get_id();
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    });
    const std::thread::id caller = std::this_thread::get_id();
    int64_t prefix = 0;
    while (prefix < kTasks && ran_on[static_cast<size_t>(prefix)] == caller) ++prefix;
    for (int64_t t = prefix; t < kTasks; ++t) {
      ASSERT_NE(ran_on[static_cast<size_t>(t)], caller) << "round " << round << ": task " << t << " after the caller's prefix of " << prefix;
    }
    worker_ran += prefix < kTasks;
  }
  // Not asserted: a loaded machine may keep the worker off the CPU for a
  // whole dispatch. Printed so a run that never exercised the worker shows.
  if (worker_ran == 0) std::printf("note: the worker took no task in any round\n");
}

TEST(Parallel, AClaimTakesAShareOfTheRestAndTheLastClaimsOneTask) {
  // A quarter of what is left on 2 threads, an eighth on 4; never none.
  EXPECT_EQ(tasks_per_claim(144, 2), 36);
  EXPECT_EQ(tasks_per_claim(144, 4), 18);
  EXPECT_EQ(tasks_per_claim(7, 2), 1);
  EXPECT_EQ(tasks_per_claim(1, 2), 1);
  EXPECT_EQ(tasks_per_claim(1, 64), 1);
  // Claims from the two ends in turn of 144 tasks (a depthwise layer's
  // planes): every task claimed once, in 20-odd claims on 2 threads rather
  // than 144 (more with more participants: smaller shares), and no claim
  // near the meeting point larger than 4 tasks, so no thread is left with a
  // long tail while the others wait.
  for (int participants : {2, 3, 8}) {
    int64_t front = 0, back = 144, claims = 0, largest_late = 0;
    for (bool from_front = true; front < back; from_front = !from_front) {
      const int64_t remaining = back - front, count = tasks_per_claim(remaining, participants);
      ASSERT_GE(count, 1);
      ASSERT_LE(count, remaining);
      if (remaining <= 16) largest_late = std::max(largest_late, count);
      (from_front ? front : back) += from_front ? count : -count;
      ++claims;
    }
    EXPECT_EQ(front, back);
    EXPECT_LE(claims, participants == 2 ? 30 : 72) << participants << " participants";
    EXPECT_LE(largest_late, 4) << participants << " participants";
  }
}

TEST(Parallel, ConcurrentDispatchesFromSeveralThreadsEachRunEveryTask) {
  // Several threads dispatch on one pool (one session run from several
  // threads): one gets the workers, the others run inline; none loses or
  // repeats a task. A task dispatching again (nested) also runs inline.
  ThreadPool pool(3);
  std::atomic<bool> ok{true};
  auto hammer = [&](int64_t tasks) {
    for (int round = 0; round < 300; ++round) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(tasks));
      for_each_task(&pool, tasks, [&](int64_t t) {
        std::atomic<int> inner{0};
        for_each_task(&pool, 4, [&](int64_t) { inner.fetch_add(1); });
        if (inner.load() != 4) ok.store(false);
        hits[static_cast<size_t>(t)].fetch_add(1);
      });
      for (auto& h : hits) {
        if (h.load() != 1) ok.store(false);
      }
    }
  };
  std::thread a(hammer, 7), b(hammer, 33);
  hammer(16);
  a.join();
  b.join();
  EXPECT_TRUE(ok.load());
}

TEST(Parallel, WorkersSleepAfterTheSpinWindow) {
  // A dispatch, then a pause well past the 50 us spin: the next dispatch must
  // still run every task (the workers wake from the condition variable).
  ThreadPool pool(2);
  for (int round = 0; round < 5; ++round) {
    std::atomic<int> count{0};
    for_each_task(&pool, 16, [&](int64_t) { count.fetch_add(1); });
    EXPECT_EQ(count.load(), 16);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

TEST(Parallel, NoThreadBurnsCpuAfterTheWork) {
  // Busy dispatches, then idle: over the idle window the whole process may use
  // only a sliver of CPU (workers asleep, not spinning). Idle 300 ms first so
  // that OpenBLAS's own workers, which spin ~0.1 s after the library starts
  // them, are asleep too; then 200 ms are measured, of which a spinning thread
  // would burn all.
  ThreadPool pool(2);
  std::atomic<int64_t> sum{0};
  for (int round = 0; round < 200; ++round) for_each_task(&pool, 8, [&](int64_t t) { sum.fetch_add(t); });
  EXPECT_EQ(sum.load(), 200 * 28);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const double before = process_cpu_seconds();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const double used = process_cpu_seconds() - before;
  EXPECT_LT(used, 0.02) << "CPU seconds used by the process while idle";
}

// The threads that run a pool's tasks: the caller and at most threads - 1
// workers, whatever the number of tasks; two pools of different sizes in one
// process each keep to their own count.
TEST(Parallel, EachPoolRunsTasksOnAtMostItsThreadCount) {
  ThreadPool one(1), three(3);
  for (ThreadPool* pool : {&one, &three}) {
    std::mutex mu;
    std::set<std::thread::id> seen;
    for (int round = 0; round < 50; ++round) {
      for_each_task(pool, 64, [&](int64_t) {
        // Long enough that every worker gets tasks in some round.
        const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(20);
        while (std::chrono::steady_clock::now() < until) {
        }
        std::lock_guard<std::mutex> lock(mu);
        seen.insert(std::this_thread::get_id());
      });
    }
    EXPECT_LE(static_cast<int>(seen.size()), pool->num_threads());
    EXPECT_TRUE(seen.count(std::this_thread::get_id())) << "the caller works too";
    if (pool == &one) {
      EXPECT_EQ(seen.size(), 1u) << "a pool of one runs everything on the caller";
    }
  }
}

// Threads of this process (/proc/self/task entries).
int process_threads() {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/task")) n += e.is_directory() ? 1 : 0;
  return n;
}

TEST(Parallel, WorkersStartOnTheFirstDispatchThatSplitsWork) {
  const int before = process_threads();
  ThreadPool pool(4);
  for_each_task(&pool, 1, [](int64_t) {});
  EXPECT_EQ(process_threads(), before) << "a pool that has split no work holds no thread";
  for_each_task(&pool, 8, [](int64_t) {});
  EXPECT_EQ(process_threads(), before + 3) << "the caller and three workers";
}

TEST(Parallel, NullPoolRunsInlineOnTheCaller) {
  std::vector<std::thread::id> ids(10);
  for_each_task(nullptr, 10, [&](int64_t t) { ids[static_cast<size_t>(t)] = std::this_thread::get_id(); });
  for (const auto& id : ids) EXPECT_EQ(id, std::this_thread::get_id());
}

}  // namespace
}  // namespace onnx_mini
