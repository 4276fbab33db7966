// The pass interface. A pass is a small pattern-and-rewrite unit (one per file
// in graph/passes/); the pass manager runs them in order after loading and
// before memory planning.
#pragma once

#include <functional>
#include <string>

#include "graph/ir.h"

namespace onnx_mini {

struct PassContext {
  // 0: run the graph as loaded; 1: clean-ups and fusions.
  int opt_level = 1;
  // Receives one line per rewrite, naming the nodes it touched (onnx-run --explain).
  std::function<void(const std::string&)> log;
  // Check the IR invariants after every pass (tests and debug builds).
  bool verify_each = false;

  void explain(const std::string& line) const {
    if (log) log(line);
  }
};

class Pass {
 public:
  virtual ~Pass() = default;
  virtual const char* name() const = 0;
  // Rewrites the graph in place; returns the number of rewrites made.
  virtual Result<int> run(Graph& g, const PassContext& ctx) const = 0;
};

}  // namespace onnx_mini
