// --profile: time per node and per op type, in microseconds; --profile-file F
// also writes every node run as a Chrome trace event (JSON, "X" complete
// events), which chrome://tracing, Perfetto and speedscope open.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "runtime/session.h"

namespace onnx_mini::onnx_run {

struct OpTime {
  std::string node, op;
  int64_t calls = 0;
  double total_s = 0;
};

struct OpTypeTime {
  std::string op;
  int64_t nodes = 0, calls = 0;
  double total_s = 0;
};

class ProfileObserver final : public RunObserver {
 public:
  void after_node(const Node& node, const std::vector<const Tensor*>& outputs, double seconds) override;
  // Keep every node run for the trace file (one event each).
  void record_trace(bool on) { trace_ = on; }
  // Rows sorted by share of the total, largest first.
  std::vector<OpTime> sorted() const;
  std::vector<OpTypeTime> by_op_type() const;
  std::string table() const;
  std::string json() const;          // per node
  std::string op_type_json() const;  // per op type
  // {"traceEvents": [...], "displayTimeUnit": "ms"}
  std::string trace_json() const;

 private:
  struct TraceEvent {
    size_t row;
    double start_us, duration_us;
  };
  std::vector<OpTime> rows_;
  std::map<std::pair<std::string, std::string>, size_t> index_;  // by node identity (name, op)
  bool trace_ = false;
  std::vector<TraceEvent> events_;
  std::chrono::steady_clock::time_point origin_ = std::chrono::steady_clock::now();
};

}  // namespace onnx_mini::onnx_run
