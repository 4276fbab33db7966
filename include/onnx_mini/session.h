// The public C++ API of onnx-mini: load a model (a file or bytes in memory),
// read what it declares, run it into buffers the caller provides. Hides the IR
// and the kernel interfaces; see README "Library API".
//
// Thread safety: Session::run may be called from many threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "onnx_mini/export.h"
#include "onnx_mini/status.h"
#include "onnx_mini/tensor.h"

namespace onnx_mini::api {

// The library's version, "MAJOR.MINOR.PATCH".
ONNX_MINI_API const char* version();

struct SessionOptions {
  int threads = 0;    // threads a run computes on, the caller's included; 0 = online CPUs
  int opt_level = 1;  // 0 = run the graph as loaded (no fusion)
  int64_t max_memory_bytes = int64_t{16} << 30;  // buffers of one run
  int64_t max_nodes = 1'000'000;
  // Subgraph runs (Loop iterations, If branches) one run may make: a Loop's
  // trip count is data, so an untrusted model could otherwise loop for as long
  // as its inputs say. Past it, run() is kResourceLimit.
  int64_t max_loop_iterations = int64_t{1} << 24;
};

struct ModelInfo {
  std::string producer;
  int64_t ir_version = 0;
  std::map<std::string, int> opsets;  // by domain ("" = ai.onnx)
  std::vector<ValueInfo> inputs;      // the ones a caller feeds, in graph order
  std::vector<ValueInfo> outputs;
};

// Called after each node of a run (profiling, dumping intermediates). Runs on
// the thread that called run(); the views are valid during the call only.
struct NodeEvent {
  const std::string& node_name;
  const std::string& op_type;
  const std::vector<TensorView>& outputs;  // data points into the run's buffers
  double seconds;
};
using NodeObserver = std::function<void(const NodeEvent&)>;

class ONNX_MINI_API Session {
 public:
  static Status load(const std::string& path, const SessionOptions& options, std::unique_ptr<Session>& out);
  static Status load_from_bytes(const void* data, size_t size, const SessionOptions& options,
                                std::unique_ptr<Session>& out);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const ModelInfo& info() const;

  // Runs the model on `inputs` (by name; data read, not kept) and writes every
  // output named in `outputs` into its buffer: each view's `shape` and `type`
  // are set; a buffer too small is kUsage with the size needed, nothing written.
  Status run(const std::vector<TensorView>& inputs, std::vector<TensorView>& outputs,
             const NodeObserver& observer = {}) const;
  // Same, with outputs in buffers the library allocates (no copy): those named
  // in `output_names`, in that order, or every output when it is empty.
  Status run(const std::vector<TensorView>& inputs, const std::vector<std::string>& output_names,
             std::vector<OwnedTensor>& outputs, const NodeObserver& observer = {}) const;

 private:
  struct Impl;
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace onnx_mini::api
