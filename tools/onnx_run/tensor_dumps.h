// Tensors written into a folder, one .npy each: --output-dir, --save-inputs and
// --dump-all. File names come from the model's value names through the
// hardening rule (runtime/io/output_file_names.h: sanitised, numbered on
// collisions) and every file goes through the atomic writer (core/atomic_file.h).
#pragma once

#include <string>
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

// --dump-all DIR: a run of the graph as loaded (-O0, a second session) with
// every node output written as it is produced.
Result<std::vector<DumpedValue>> dump_all(const Options& o, const SessionOptions& so, const std::vector<NamedTensor>& inputs);

}  // namespace onnx_mini::onnx_run
