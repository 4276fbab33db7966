#include "ops/parallel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define ONNX_MINI_CPU_RELAX() _mm_pause()
#else
#define ONNX_MINI_CPU_RELAX() std::this_thread::yield()
#endif

namespace onnx_mini {
namespace {

// How long an idle worker keeps polling before it sleeps. Between the layers of
// one run (and between back-to-back runs) the gap is a few microseconds, far
// below this; a futex wake-up instead costs ~5-50 us, the whole time of a small
// layer. After a run the workers sleep within this bound, so nothing spins on.
constexpr auto kSpin = std::chrono::microseconds(50);
// Polls (a PAUSE each, ~18 ns on this machine's Zen 5) between the yields of
// a spinning thread. A yield lets a thread that shares this CPU run (the
// machine oversubscribed), but it is a system call, and under a
// paravirtualised kernel (this VM) sched_yield took 1.16 us: with a yield
// every 16 polls a spinning worker spent four fifths of its time in the
// kernel and saw a new dispatch that much later. Every 256 polls (~5 us of
// spinning): whole models at batch 1 on 2 threads, six alternated rounds,
// SqueezeNet 2.73 ms against 2.78, MobileNetV2 3.29 against 3.36 (five),
// ResNet-18 unchanged; 4096 measured the same as 256.
constexpr int kPollsPerYield = 256;
// Task counts up to this are dealt from both ends of one 64-bit word.
constexpr int64_t kMaxTwoEndedTasks = (int64_t{1} << 31) - 1;

}  // namespace

// A claim is a compare-and-swap on the line holding both ends, which the
// other thread has just written: on this VM it took 0.1-0.2 us, and
// MobileNetV2's depthwise layers (144 planes of ~0.5 us each, one claim per
// plane) spent a tenth of each thread's time claiming. Taking a share of what
// is left (guided self-scheduling) makes a few dozen claims at most in a
// dispatch rather than one per task; the shares shrink as the ends meet and
// the last claims are of one task, so the threads still finish together. 1 / (2 x
// participants) of the rest: whole models at batch 1 on 2 threads, five
// alternated rounds, SqueezeNet's sum of node times 0.95 of one task per
// claim (3.08 against 3.24 ms), MobileNetV2 0.98 (six rounds), ResNet-18
// 0.97 (four; old and new binaries later, six rounds: 0.999); a share of 1/2
// measured 1.03 and 1/8 1.01 against 1/4. With 144 tasks on 2 threads taking
// turns: 18 claims.
int64_t tasks_per_claim(int64_t remaining, int participants) {
  return std::max<int64_t>(1, remaining / (2 * int64_t{participants}));
}

class ThreadPool::Impl {
 public:
  explicit Impl(int participants) : participants_(participants) {}
  ~Impl() { stop_workers(); }

  int participants() const { return participants_; }

  void run(int64_t num_tasks, TaskFn fn, const void* context) {
    // One dispatch at a time: another caller (a second thread running the same
    // session, or a task dispatching again) runs its tasks inline rather than
    // wait or race for the workers.
    std::unique_lock<std::mutex> dispatch(dispatch_mu_, std::try_to_lock);
    if (!dispatch.owns_lock() || participants_ <= 1 || num_tasks <= 1) {
      for (int64_t t = 0; t < num_tasks; ++t) fn(context, t);
      return;
    }
    if (threads_.empty()) start_workers();
    fn_ = fn;
    context_ = context;
    num_tasks_ = num_tasks;
    two_ended_ = num_tasks <= kMaxTwoEndedTasks;
    next_.store(0, std::memory_order_relaxed);
    ends_.store(two_ended_ ? static_cast<uint64_t>(num_tasks) << 32 : 0, std::memory_order_relaxed);
    busy_.store(static_cast<int>(threads_.size()), std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mu_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    take_tasks(/*from_front=*/true);
    // Wait for the workers to finish theirs (and to stop touching fn_/context_).
    // Yielding now and then matters when a worker shares this CPU (the
    // scheduler put it here, or the machine is oversubscribed): it can only
    // finish once we let it run. With a CPU to itself a yield returns at once.
    for (int spins = 0; busy_.load(std::memory_order_acquire) != 0; ++spins) {
      if (spins % kPollsPerYield == kPollsPerYield - 1) {
        std::this_thread::yield();
      } else {
        ONNX_MINI_CPU_RELAX();
      }
    }
  }

 private:
  // The caller takes tasks from the front of [0, num_tasks), the workers from
  // the back, until the two ends meet: still first come first served, but on 2
  // threads each keeps to its own end of the range in every dispatch. Kernels
  // number their tasks pixel block by pixel block, so from one layer to the
  // next a thread mostly reads the pixels it wrote itself, from its own cache,
  // not the other core's. (One shared counter dealt tasks alternately, and the
  // small 1x1 layers of SqueezeNet ran slower on 2 threads than on 1.)
  void take_tasks(bool from_front) {
    if (!two_ended_) {
      for (int64_t t; (t = next_.fetch_add(1, std::memory_order_relaxed)) < num_tasks_;) fn_(context_, t);
      return;
    }
    uint64_t ends = ends_.load(std::memory_order_relaxed);
    for (;;) {
      const uint64_t front = ends & 0xffffffffu, back = ends >> 32;
      if (front >= back) return;
      const auto count = static_cast<uint64_t>(tasks_per_claim(static_cast<int64_t>(back - front), participants_));
      const uint64_t rest = from_front ? ends + count : ends - (count << 32);
      if (ends_.compare_exchange_weak(ends, rest, std::memory_order_relaxed)) {
        // In the order of this thread's end: the front ascending, the back descending.
        if (from_front) {
          for (uint64_t t = front; t < front + count; ++t) fn_(context_, static_cast<int64_t>(t));
        } else {
          for (uint64_t t = back; t-- > back - count;) fn_(context_, static_cast<int64_t>(t));
        }
        ends = ends_.load(std::memory_order_relaxed);
      }
    }
  }

  void worker_loop(uint64_t seen) {
    for (;;) {
      const auto spin_until = std::chrono::steady_clock::now() + kSpin;
      int polls = 0;
      while (generation_.load(std::memory_order_acquire) == seen && !stop_.load(std::memory_order_relaxed)) {
        ONNX_MINI_CPU_RELAX();
        if (++polls % kPollsPerYield == 0) std::this_thread::yield();  // as the dispatcher does, see run()
        if (polls % 64 == 0 && std::chrono::steady_clock::now() > spin_until) {
          std::unique_lock<std::mutex> lock(mu_);
          cv_.wait(lock, [&] {
            return generation_.load(std::memory_order_acquire) != seen || stop_.load(std::memory_order_relaxed);
          });
          break;
        }
      }
      if (stop_.load(std::memory_order_relaxed)) return;
      seen = generation_.load(std::memory_order_acquire);
      take_tasks(/*from_front=*/false);
      busy_.fetch_sub(1, std::memory_order_release);
    }
  }

  // On the first dispatch that needs them, under dispatch_mu_: a session whose
  // products are all small (most test and fuzz models) never starts a thread.
  void start_workers() {
    // The generation a new worker starts from is read here, not by the thread:
    // the dispatch about to be issued must still look new to it.
    const uint64_t current = generation_.load(std::memory_order_acquire);
    for (int i = 1; i < participants_; ++i) threads_.emplace_back([this, current] { worker_loop(current); });
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lock(mu_);  // set under the lock: no missed wake-up
      stop_.store(true, std::memory_order_relaxed);
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  const int participants_;  // the caller and participants_ - 1 workers
  std::vector<std::thread> threads_;
  std::mutex dispatch_mu_;  // held by the thread whose dispatch owns the workers
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> stop_{false};  // workers exit; written under mu_
  std::atomic<uint64_t> generation_{0};
  std::atomic<int64_t> next_{0};    // the next task, when !two_ended_
  std::atomic<uint64_t> ends_{0};   // two_ended_: front task (low 32 bits), one past the back task (high 32)
  std::atomic<int> busy_{0};
  // The current dispatch: written before generation_ is bumped (release), read by
  // workers after they see the new generation (acquire).
  TaskFn fn_ = nullptr;
  const void* context_ = nullptr;
  int64_t num_tasks_ = 0;
  bool two_ended_ = false;  // ends_ rather than next_ (counts that fit its 32-bit halves)
};

ThreadPool::ThreadPool(int threads) : impl_(std::make_unique<Impl>(threads > 0 ? threads : online_cpus())) {}
ThreadPool::~ThreadPool() = default;

int ThreadPool::num_threads() const { return impl_->participants(); }

int ThreadPool::online_cpus() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

void ThreadPool::for_each_task(int64_t num_tasks, TaskFn fn, const void* context) { impl_->run(num_tasks, fn, context); }

void for_each_task(ThreadPool* pool, int64_t num_tasks, TaskFn fn, const void* context) {
  if (pool) {
    pool->for_each_task(num_tasks, fn, context);
  } else {
    for (int64_t t = 0; t < num_tasks; ++t) fn(context, t);
  }
}

}  // namespace onnx_mini
