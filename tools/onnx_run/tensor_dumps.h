// Tensors written into a folder, one .npy each: --output-dir, --save-inputs and
// --dump-all. File names come from the model's value names through the
// hardening rule (runtime/io/output_file_names.h: sanitised, numbered on
// collisions) and every file goes through the atomic writer (core/atomic_file.h).
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/session.h"
#include "onnx_run/options.h"

namespace onnx_mini::onnx_run {

// The folder a flag names, created when absent; an error names the flag.
Status make_folder(const std::string& dir, const std::string& flag);

// Writes tensors[i] as DIR/<file for names[i]>; returns the paths, in order.
// `what` ("input", "output") goes into error messages.
Result<std::vector<std::string>> write_tensor_folder(const std::string& dir, const std::string& flag,
                                                     const std::vector<std::string>& names,
                                                     const std::vector<const Tensor*>& tensors, const std::string& what);

// One dumped node output.
struct DumpedValue {
  std::string value, node, op, file;
};

// --dump-all DIR: watches a run of the graph as loaded (-O0) and writes each
// node output when its node has run. The file names are fixed at construction,
// over every node output of the graph, so the collision rule numbers them the
// same way on every run. The first failed write stops the dump (the run goes on).
class DumpObserver final : public RunObserver {
 public:
  DumpObserver(const Graph& g, std::string dir);
  void after_node(const Node& node, const std::vector<const Tensor*>& outputs, double seconds) override;
  const Status& status() const { return status_; }
  std::vector<DumpedValue> take_dumped() { return std::move(dumped_); }

 private:
  const Graph& graph_;
  std::string dir_;
  std::unordered_map<std::string, std::string> file_of_;
  std::vector<DumpedValue> dumped_;
  Status status_ = Status::ok();
};

}  // namespace onnx_mini::onnx_run
