// --repeat N: warm-up, then N timed runs. On a terminal, a progress line on
// stderr (at most every 0.5 s); Ctrl-C (SIGINT) during the timed runs stops
// them and the statistics of the runs done so far are reported, marked
// interrupted.
#pragma once

#include <chrono>
#include <vector>

#include "runtime/session.h"
#include "onnx_run/options.h"

namespace onnx_mini::onnx_run {

struct Latency {
  double median_ms = 0, p10_ms = 0, p90_ms = 0;
  int runs = 0;
  bool interrupted = false;  // SIGINT before all runs were done
};

// Median, p10 and p90 (nearest rank); zero runs give zeros.
Latency summarize(std::vector<double> ms);

double ms_since(std::chrono::steady_clock::time_point start);

// observer (may be null) watches the timed runs only, not the warm-up.
Result<Latency> time_runs(Session& session, const std::vector<NamedTensor>& inputs, const Options& o,
                          std::vector<Tensor>& outputs, RunObserver* observer);

}  // namespace onnx_mini::onnx_run
