// The library API: load a model into a session, run it with named tensors,
// get named outputs. Used by onnx-run, onnx-init and the tests.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "ops/parallel.h"
#include "runtime/prepared_weights.h"
#include "core/status.h"
#include "core/tensor.h"

namespace onnx_mini {

struct NamedTensor {
  std::string name;
  Tensor tensor;
};

// Called after every node when set (onnx-run --stats and --profile).
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void after_node(const Node& node, const std::vector<const Tensor*>& outputs, double seconds) = 0;
};

struct SessionOptions {
  // Threads this session computes on, the caller's included: its own worker
  // pool (ops/parallel.h); OpenBLAS is held at one thread so its calls stay
  // within the count. 0 = the number of online CPUs.
  int threads = 0;
  int opt_level = 1;                    // 0 = run the graph as loaded
  std::function<void(const std::string&)> explain;  // one line per graph rewrite
  bool verify_passes = false;           // verify the IR after each pass
  int64_t max_memory_bytes = int64_t{16} << 30;  // intermediate buffers, per session
  int64_t max_nodes = 1'000'000;
};

class Session {
 public:
  static Result<std::unique_ptr<Session>> load(const std::string& path, const SessionOptions& options = {});
  static Result<std::unique_ptr<Session>> from_graph(Graph graph, const SessionOptions& options = {});
  ~Session();

  // Inputs the caller feeds (initializer-only values excluded) and outputs, in graph order.
  const std::vector<ValueId>& input_ids() const { return feed_inputs_; }
  const std::vector<ValueId>& output_ids() const { return graph_.outputs(); }
  const Value& value(ValueId id) const { return graph_.value(id); }
  const Graph& graph() const { return graph_; }

  // Whether `t` fits what the model declares for input `name` (run() checks the
  // same). `source` (a file name, may be empty) goes into the message after the
  // input's name; the model's file is the caller's to add.
  Status check_input(const std::string& name, const Tensor& t, const std::string& source = "") const;

  Result<std::vector<NamedTensor>> run(const std::vector<NamedTensor>& inputs);
  // Same, writing outputs (graph order) into a vector reused across calls.
  Status run(const std::vector<NamedTensor>& inputs, std::vector<Tensor>& outputs);

  void set_observer(RunObserver* observer) { observer_ = observer; }
  int64_t planned_bytes() const { return planned_bytes_; }
  int num_threads() const;
  // Weights packed at build and initializers let go of (runtime/prepared_weights.h).
  const PreparedWeightStats& prepared_weights() const { return weights_; }

 private:
  class Executor;
  Session() = default;
  Status build(const SessionOptions& options);
  Status create_kernels();
  Status bind_inputs(const std::vector<NamedTensor>& inputs);

  Graph graph_;
  std::unique_ptr<ThreadPool> pool_;  // before executor_: kernels may hold it
  std::vector<ValueId> feed_inputs_;
  PreparedWeightStats weights_;
  std::unique_ptr<Executor> executor_;
  RunObserver* observer_ = nullptr;
  int64_t planned_bytes_ = 0;
  std::string where_;  // file name for messages
};

}  // namespace onnx_mini
