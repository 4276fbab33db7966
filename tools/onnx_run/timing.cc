#include "onnx_run/timing.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>

namespace onnx_mini::onnx_run {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;

void on_sigint(int) { g_interrupted = 1; }

// SIGINT sets a flag for the time it is alive; the previous handler (the
// atomic writer's clean-up) comes back afterwards.
class InterruptFlag {
 public:
  InterruptFlag() {
    g_interrupted = 0;
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &previous_);
  }
  ~InterruptFlag() { sigaction(SIGINT, &previous_, nullptr); }
  bool raised() const { return g_interrupted != 0; }

 private:
  struct sigaction previous_ {};
};

// Warm-up: at least 3 runs and kWarmUp of wall time. Caches and page faults
// settle within a run or two; the time bound is for threads: OpenBLAS's workers
// spin for ~0.1 s after they start (OPENBLAS_THREAD_TIMEOUT, 2^28 cycles) and,
// while they do, the scheduler may seat the runtime's worker on the main
// thread's CPU, which makes the first runs at --threads 2 as slow as one thread.
// A long-running process never sees that window.
Status warm_up(Session& session, const std::vector<NamedTensor>& inputs, std::vector<Tensor>& outputs) {
  constexpr auto kWarmUp = std::chrono::milliseconds(250);
  const auto warm_until = std::chrono::steady_clock::now() + kWarmUp;
  for (int i = 0; i < 3 || std::chrono::steady_clock::now() < warm_until; ++i) {
    OM_RETURN_IF_ERROR(session.run(inputs, outputs));
  }
  return Status::ok();
}

// "\rrun 1200/100000  1.2 s  median 0.95 ms" on stderr when it is a terminal.
class Progress {
 public:
  explicit Progress(int total) : total_(total), shown_(isatty(STDERR_FILENO) != 0) {}
  void update(int done, const std::vector<double>& ms) {
    if (!shown_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(500)) return;
    last_ = now;
    std::vector<double> sorted = ms;
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<long>(sorted.size() / 2), sorted.end());
    std::fprintf(stderr, "\rrun %d/%d  %.1f s  median %.4f ms ", done, total_, ms_since(start_) / 1000,
                 sorted[sorted.size() / 2]);
    printed_ = true;
  }
  ~Progress() {
    if (printed_) std::fprintf(stderr, "\r\033[K");  // clear the line before the report
  }

 private:
  int total_;
  bool shown_, printed_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_ = start_;
};

}  // namespace

Latency summarize(std::vector<double> ms) {
  if (ms.empty()) return Latency{};
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) { return ms[static_cast<size_t>(q * static_cast<double>(ms.size() - 1) + 0.5)]; };
  return Latency{at(0.5), at(0.1), at(0.9), static_cast<int>(ms.size())};
}

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

Result<Latency> time_runs(Session& session, const std::vector<NamedTensor>& inputs, const Options& o,
                          std::vector<Tensor>& outputs, RunObserver* observer) {
  InterruptFlag interrupt;
  OM_RETURN_IF_ERROR(warm_up(session, inputs, outputs));
  session.set_observer(observer);
  std::vector<double> ms;
  // Reserved up to a million runs (8 MB); a larger --repeat grows the vector
  // between timed runs rather than asking for gigabytes up front.
  ms.reserve(static_cast<size_t>(std::min(o.repeat, 1 << 20)));
  {
    Progress progress(o.repeat);
    for (int i = 0; i < o.repeat && !interrupt.raised(); ++i) {
      const auto start = std::chrono::steady_clock::now();
      Status s = session.run(inputs, outputs);
      if (!s.is_ok()) {
        session.set_observer(nullptr);
        return s;
      }
      ms.push_back(ms_since(start));
      progress.update(i + 1, ms);
    }
  }
  session.set_observer(nullptr);
  Latency latency = summarize(ms);
  latency.interrupted = interrupt.raised();
  return latency;
}

}  // namespace onnx_mini::onnx_run
