// The library API: load a model into a session, run it with named tensors,
// get named outputs. Used by onnx-run, onnx-init and the tests.
//
// Thread safety: run() may be called from any number of threads at once on one
// session. What a session builds (graph, kernels, packed weights, memory plan)
// is read-only after load; each run works on an execution frame of its own
// (runtime/execution_frame.h), taken from the session's pool and given back, so
// concurrent runs never share a buffer and a steady-state run allocates
// nothing. The concurrent runs share the session's thread pool: a session of N
// threads still computes on at most N threads beyond the callers' own.
// set_observer() is not synchronised with runs: set it while none is running.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "ops/parallel.h"
#include "runtime/batch_split.h"
#include "runtime/execution_frame.h"
#include "runtime/prepared_weights.h"
#include "core/status.h"
#include "core/tensor.h"

namespace onnx_mini {

struct NamedTensor {
  std::string name;
  Tensor tensor;
};

struct SessionOptions {
  // Threads this session computes on, the caller's included: its own worker
  // pool (ops/parallel.h); OpenBLAS is held at one thread so its calls stay
  // within the count. 0 = the number of online CPUs.
  int threads = 0;
  int opt_level = 1;                    // 0 = run the graph as loaded
  // One line per graph rewrite, and per Concat the memory plan has its inputs
  // written into (runtime/plan.h).
  std::function<void(const std::string&)> explain;
  bool verify_passes = false;           // verify the IR after each pass
  int64_t max_memory_bytes = int64_t{16} << 30;  // intermediate and output buffers, per run
  int64_t max_nodes = 1'000'000;
  // If-branch and Loop-body runs in one run of a graph (each subgraph's own
  // runs counted again inside it): a Loop's trip count is data, and this is
  // what keeps a hostile one from running for hours. Exceeding it is exit 6.
  int64_t max_loop_iterations = int64_t{1} << 24;
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
  // Same, calling `observer` (may be null) after every node of this run only,
  // instead of the session's observer: for concurrent runs that each watch their own.
  Status run(const std::vector<NamedTensor>& inputs, std::vector<Tensor>& outputs, RunObserver* observer);

  void set_observer(RunObserver* observer) { observer_ = observer; }
  // Whether runs of N >= 2 images go image by image (runtime/batch_split.h;
  // ONNX_MINI_SPLIT_BATCH=0 at load turns it off, =1 splits small images too),
  // and if not, why.
  const BatchSplit& batch_split() const { return batch_split_; }
  // The bytes the memory plan's buffers (and the nodes' scratch) hold in one
  // run's frame: the largest any frame has reserved so far, 0 before the first
  // run (buffers grow to the shapes the runs bring).
  int64_t planned_bytes() const { return planned_bytes_.load(std::memory_order_relaxed); }
  // Execution frames this session has created: at most the number of runs it
  // has had at once.
  int num_frames() const;
  int num_threads() const;
  // Weights packed at build and initializers let go of (runtime/prepared_weights.h).
  const PreparedWeightStats& prepared_weights() const { return weights_; }

 private:
  Session() = default;
  Status build(const SessionOptions& options);
  void explain_placements(const std::function<void(const std::string&)>& log) const;
  Status bind_inputs(ExecutionFrame& frame, const std::vector<NamedTensor>& inputs) const;
  Status run_on(ExecutionFrame& frame, const std::vector<NamedTensor>& inputs, std::vector<Tensor>& outputs,
                RunObserver* observer);
  // A run on N >= 2 images as runs on one image each (runtime/batch_split.h),
  // over the pool's threads; `done` false when this run does not qualify (the
  // caller then runs the batch whole).
  Status run_per_image(const std::vector<NamedTensor>& inputs, std::vector<Tensor>& outputs, bool& done);
  Status run_images(ExecutionFrame& frame, const Tensor* const* fed, int64_t begin, int64_t end,
                    std::vector<Tensor>& outputs) const;
  std::unique_ptr<ExecutionFrame> acquire_frame();
  void release_frame(std::unique_ptr<ExecutionFrame> frame);

  Graph graph_;
  std::unique_ptr<ThreadPool> pool_;  // before program_: kernels may hold it
  std::vector<ValueId> feed_inputs_;
  BatchSplit batch_split_;  // whether runs may go image by image
  PreparedWeightStats weights_;
  ExecutionSteps program_;  // read-only once built
  mutable std::mutex frames_mutex_;
  std::vector<std::unique_ptr<ExecutionFrame>> idle_frames_;
  int num_frames_ = 0;
  RunObserver* observer_ = nullptr;
  std::atomic<int64_t> planned_bytes_{0};
  std::string where_;  // file name for messages
};

}  // namespace onnx_mini
