// One run's mutable state. A session's compiled graph (the graph, the kernels,
// their packed weights, the memory plan) is read-only once built; everything a
// run writes lives in an ExecutionFrame: the tensor bound to each value (fed
// inputs, initializer views, intermediates), the buffers of the memory plan
// (its slots, and the block that replaces them after the first run),
// each node's private scratch (KernelContext::scratch and the outputs nobody
// reads). Concurrent runs of one session each hold a frame of their own, taken
// from the session's pool of frames and given back after the run, so a
// steady-state run reuses a frame and its buffers and allocates nothing.
//
// Nested graphs (If's branches, Loop's body) fit the same split: a control-flow
// node's subgraph compiles, once, into a read-only ExecutionSteps of its own
// (Step::subgraphs), and the enclosing frame keeps a child frame per (step,
// subgraph), created on the first run that needs it and reused afterwards. The
// kernel reaches it through KernelContext::subgraph_input / run_subgraph /
// subgraph_output, so a nested run never shares buffers with a concurrent run
// of the same session. Values the subgraph reads from enclosing graphs are
// bound by reference from this frame before each of its runs.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "graph/ir.h"
#include "ops/kernel.h"
#include "runtime/block_offsets.h"
#include "runtime/plan.h"

namespace onnx_mini {

class ThreadPool;

// Called after every node when set (onnx-run --stats and --profile). Concurrent
// runs call it from each running thread at once.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void after_node(const Node& node, const std::vector<const Tensor*>& outputs, double seconds) = 0;
};

// What every run of a compiled graph reads and none writes.
struct ExecutionSteps {
  struct Step {
    NodeId node = kNoId;
    std::unique_ptr<Kernel> kernel;
    // The node's subgraphs, compiled (Node::subgraphs order).
    std::vector<std::unique_ptr<ExecutionSteps>> subgraphs;
  };
  const Graph* graph = nullptr;
  ExecutionPlan plan;
  std::vector<Step> steps;  // in plan.order
  ThreadPool* pool = nullptr;
  int64_t max_memory_bytes = 0;  // the buffers of one run
  // Subgraph runs (If branches, Loop iterations) one run of a frame may make:
  // a Loop's trip count and condition are data, so this bounds its time.
  int64_t max_subgraph_runs = 0;
  std::string where;             // message prefix, e.g. "model.onnx: "
};

class ExecutionFrame {
 public:
  explicit ExecutionFrame(const ExecutionSteps& program);
  ExecutionFrame(const ExecutionFrame&) = delete;
  ExecutionFrame& operator=(const ExecutionFrame&) = delete;

  // The tensor bound to value v in this run (fed inputs are bound through it).
  Tensor& value(ValueId v) { return values_[static_cast<size_t>(v)]; }
  // Rebinds every initializer's view (a fed input with a default included).
  void bind_initializers();
  // Kernels of this frame's runs see no thread pool (so they run on the calling
  // thread alone): for runs that are themselves tasks of the session's pool.
  void set_single_threaded(bool single) { single_threaded_ = single; }
  // Values that are no graph output sit at offsets of one block (block_offsets.h);
  // the first run, before the block has a size, puts them in the memory plan's
  // slots, and so does a run whose values reach past the block's end (those
  // values alone). After such a run the block grows to what the run reached,
  // if that fits in max_memory_bytes with the slots the block replaces given
  // up; after a run that failed on the limit, the frame gives the block up, so
  // the next run needs no more than the slots alone.
  Status run(RunObserver* observer);
  // The child frame of subgraph `graph` of step `step`, created on first use.
  ExecutionFrame& child(size_t step, int graph);
  // Bytes this frame's buffers hold: the block and the memory plan's slots at
  // their largest so far plus the nodes' scratch, plus those of its subgraphs'
  // child frames (max_memory_bytes applies to each frame on its own).
  int64_t reserved_bytes() const;
  // The block's size: 0 until a run has shown what it needs (see run()).
  int64_t block_bytes() const { return static_cast<int64_t>(block_->capacity()); }

 private:
  class Context;
  struct Scratch {
    std::shared_ptr<Buffer> buffer;
    Tensor tensor;
  };
  // A deque: growing it for index i keeps the Tensor* handed out for lower
  // indices valid, so a kernel may hold output 1 while it asks for output 2
  // (or scratch 0 while it asks for scratch 1) in the same run.
  using ScratchList = std::deque<Scratch>;
  Result<Tensor*> allocate_output(const Node& n, size_t step, int i, std::span<const int64_t> shape, DataType dtype);
  // Value v (one the plan places: ExecutionPlan::placement) bound in its place
  // in its Concat's output, or null when this run's shapes rule that out.
  Tensor* place_in_concat(ValueId v, std::span<const int64_t> shape, DataType dtype);
  // Value v's place in the block in this run (placed on the first call), or
  // null when that place lies past the block's end (then v takes its slot).
  Result<uint8_t*> place_in_block(ValueId v, size_t bytes);
  // After a run: the block grown to the run's high-water mark (see run()).
  void grow_block();
  void drop_block();
  // Unbinds every value a node makes that is no graph output: their buffers
  // are about to go.
  void unbind_intermediates();
  // Storage `index` of `list` (one step's scratch or unread outputs), grown to
  // fit; `what()` names it in an error (called on the error path only).
  template <typename What>
  Result<Tensor*> bind_scratch(ScratchList& list, size_t index, std::span<const int64_t> shape,
                               DataType dtype, const What& what);
  // Grows `buf` to `bytes` unless that takes the frame past its limit; returns
  // the frame's total it would have needed then (0 when it fit).
  int64_t grow_within_limit(Buffer& buf, size_t bytes);
  Status over_limit(const std::string& what, std::span<const int64_t> shape, DataType dtype, size_t bytes,
                    int64_t needed) const;
  Status run_child(size_t step, int graph);
  // Drops a child frame's references to this frame's values (its bound
  // inputs and captured values), so buffers here have no extra holders.
  void unbind_children(size_t step);

  const ExecutionSteps& program_;
  int64_t reserved_bytes_ = 0;
  std::vector<Tensor> values_;
  std::vector<std::shared_ptr<Buffer>> slots_;
  std::vector<bool> output_slot_;  // per slot: holds a graph output (never in the block)
  std::shared_ptr<Buffer> block_;
  BlockOffsets block_offsets_;
  std::vector<int64_t> block_offset_;  // per value: where it is in the block this run, or -1
  std::vector<ScratchList> unread_outputs_;  // per step, by output index
  std::vector<ScratchList> scratch_;         // per step, by KernelContext::scratch index
  std::vector<const Tensor*> out_ptrs_;               // for the observer
  std::vector<std::vector<std::unique_ptr<ExecutionFrame>>> children_;  // per step, per subgraph
  int64_t subgraph_runs_ = 0;                          // in the run in progress
  uint64_t run_number_ = 0;                            // counts this frame's runs
  // Per Concat output: the run in which an input was last placed in it (its
  // buffer must not move until the Concat has read them).
  std::vector<uint64_t> placed_in_run_;
  // Per value the plan would place in a Concat's output: its buffer in runs
  // whose shapes do not allow that (see place_in_concat).
  std::vector<std::shared_ptr<Buffer>> unplaced_;
  RunObserver* observer_ = nullptr;                   // of the run in progress (nested runs report too)
  bool single_threaded_ = false;
};

}  // namespace onnx_mini
