// --check-output NAME=FILE.npy / FILE.npz: one run's outputs compared with
// references given by name (the run's inputs come from --input or are generated).
#pragma once

#include <string>
#include <vector>

#include "runtime/session.h"
#include "onnx_run/options.h"

namespace onnx_mini::onnx_run {

struct OutputCheckReport {
  int compared = 0, passed = 0;
  std::string text;  // one block per output
  std::string json;  // JSON array of per-output results
  bool pass() const { return passed == compared; }
};

// Unreadable references are bad input (exit 5); a reference naming no output
// of the model is a usage error listing the outputs (exit 2).
Result<OutputCheckReport> check_outputs(const Session& session, const std::vector<Tensor>& outputs, const Options& options);

}  // namespace onnx_mini::onnx_run
