// What a run (not --check) found, and its report: text or one JSON object.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/session.h"
#include "onnx_run/check_outputs.h"
#include "onnx_run/observers.h"
#include "onnx_run/options.h"
#include "onnx_run/profile.h"
#include "onnx_run/tensor_dumps.h"
#include "onnx_run/timing.h"

namespace onnx_mini::onnx_run {

struct RunReport {
  double load_ms = 0;
  std::vector<Tensor> outputs;
  std::vector<std::string> output_files;  // --output-dir: the file of each output
  std::vector<std::pair<std::string, std::string>> input_files;  // --save-inputs: input name, file
  std::vector<DumpedValue> dumped;                                // --dump-all
  StatsObserver stats;
  ProfileObserver profile;
  Latency latency;
  std::optional<OutputCheckReport> check;  // --check-output
};

void print_json_report(const Session& session, const Options& o, const RunReport& report);
void print_text_report(const Session& session, const Options& o, const RunReport& report);

}  // namespace onnx_mini::onnx_run
