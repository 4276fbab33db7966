// What --inspect found (onnx_run/inspect.cc) and its two reports
// (onnx_run/inspect_report.cc).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace onnx_mini::onnx_run {

struct IoInfo {
  std::string name, dtype;
  std::vector<std::string> dims;  // "4", "N", or "?" for an unnamed unknown dim
  bool has_shape = false;
};

struct FlopsRow {
  int64_t nodes = 0;
  double flops = 0;
};

struct Inspection {
  std::string producer, producer_version, graph_name;
  int64_t ir_version = 0;
  std::map<std::string, int64_t> opsets;
  std::vector<IoInfo> inputs, outputs;
  int64_t initializers = 0, initializer_bytes = 0, parameters = 0;
  std::map<std::string, int64_t> op_histogram;  // "Gemm", or "domain.Op" outside ai.onnx
  int64_t nodes = 0;
  std::string unsupported;                       // the loader's reason, when it refuses the graph
  std::map<std::string, FlopsRow> flops_by_op;   // after binding --dim
  double flops = 0;
  std::string flops_note;                        // why FLOPs are missing or partial
  std::vector<std::string> rewrites;             // --explain lines of -O1
  int64_t optimized_nodes = 0;
  std::map<std::string, int64_t> dims_used;
};

std::string inspection_text(const Inspection& r);
std::string inspection_json(const Inspection& r, const std::string& model);

}  // namespace onnx_mini::onnx_run
