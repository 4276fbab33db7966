#include "runtime/execution_frame.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "core/printable.h"
#include "core/shape.h"

namespace onnx_mini {

// The KernelContext of one frame: the node being run and its step.
class ExecutionFrame::Context final : public KernelContext {
 public:
  Context(ExecutionFrame& frame, const Node& node, size_t step) : frame_(frame), node_(node), step_(step) {}
  int num_inputs() const override { return static_cast<int>(node_.inputs.size()); }
  const Tensor* input(int i) const override {
    if (i < 0 || i >= num_inputs()) return nullptr;
    ValueId v = node_.inputs[static_cast<size_t>(i)];
    if (v == kNoId) return nullptr;
    const Tensor& t = frame_.values_[static_cast<size_t>(v)];
    return t.defined() ? &t : nullptr;
  }
  int num_outputs() const override { return static_cast<int>(node_.outputs.size()); }
  bool output_wanted(int i) const override {
    return i >= 0 && i < num_outputs() && node_.outputs[static_cast<size_t>(i)] != kNoId;
  }
  using KernelContext::output;
  Result<Tensor*> output(int i, const Shape& shape, DataType dtype) override {
    return frame_.allocate_output(node_, step_, i, shape, dtype);
  }
  Result<Tensor*> output_dims(int i, std::span<const int64_t> dims, DataType dtype) override {
    return frame_.allocate_output(node_, step_, i, dims, dtype);
  }
  const std::string& node_name() const override { return node_.name; }
  ThreadPool* thread_pool() const override { return frame_.single_threaded_ ? nullptr : frame_.program_.pool; }
  Result<Tensor*> scratch(int i, std::span<const int64_t> dims, DataType dtype) override {
    if (i < 0) return internal_error("node " + quote(node_.name) + ": scratch index " + std::to_string(i) + " is negative");
    return frame_.bind_scratch(frame_.scratch_[step_], static_cast<size_t>(i), dims, dtype,
                               [&] { return "scratch " + std::to_string(i); });
  }
  Result<Tensor*> subgraph_input(int graph, int i) override {
    OM_RETURN_IF_ERROR(check_subgraph(graph));
    const Graph& sub = subgraph(graph);
    if (i < 0 || static_cast<size_t>(i) >= sub.inputs().size()) return internal_error(where(graph) + "no input " + std::to_string(i));
    return &frame_.child(step_, graph).value(sub.inputs()[static_cast<size_t>(i)]);
  }
  Status run_subgraph(int graph) override {
    OM_RETURN_IF_ERROR(check_subgraph(graph));
    return frame_.run_child(step_, graph);
  }
  Result<const Tensor*> subgraph_output(int graph, int i) override {
    OM_RETURN_IF_ERROR(check_subgraph(graph));
    const Graph& sub = subgraph(graph);
    if (i < 0 || static_cast<size_t>(i) >= sub.outputs().size()) return internal_error(where(graph) + "no output " + std::to_string(i));
    const Tensor& t = frame_.child(step_, graph).value(sub.outputs()[static_cast<size_t>(i)]);
    if (!t.defined()) return internal_error(where(graph) + "output " + std::to_string(i) + " was not computed");
    return &t;
  }

 private:
  Status check_subgraph(int graph) const {
    if (graph < 0 || static_cast<size_t>(graph) >= node_.subgraphs.size()) {
      return internal_error("node " + quote(node_.name) + " has no subgraph " + std::to_string(graph));
    }
    return Status::ok();
  }
  const Graph& subgraph(int graph) const { return *node_.subgraphs[static_cast<size_t>(graph)].graph; }
  std::string where(int graph) const {
    return "node " + quote(node_.name) + " subgraph " + quote(node_.subgraphs[static_cast<size_t>(graph)].attribute) + ": ";
  }

  ExecutionFrame& frame_;
  const Node& node_;
  size_t step_;
};

namespace {

// The element count of `shape`, or an error naming `what` (built on the error
// path only): exit 5 or 6 as core/shape.h decides.
Result<int64_t> element_count(std::span<const int64_t> shape, const std::string& what) {
  std::optional<int64_t> checked = checked_num_elements(shape);
  if (checked) return *checked;
  Status why = check_runtime_shape(shape);
  if (why.is_ok()) return internal_error(what + ": shape " + shape_to_string(Shape(shape.begin(), shape.end())) + " has no element count");
  return why.with_context(what + ": ");
}

std::string output_name(const Graph& g, const Node& n, int i) {
  ValueId v = n.outputs[static_cast<size_t>(i)];
  return "output " + (v == kNoId ? std::to_string(i) : quote(g.value(v).name));
}

}  // namespace

ExecutionFrame::ExecutionFrame(const ExecutionSteps& program) : program_(program) {
  values_.resize(program.graph->num_values());
  placed_in_run_.resize(program.graph->num_values());
  unplaced_.resize(program.graph->num_values());
  slots_.resize(static_cast<size_t>(program.plan.num_slots));
  for (auto& s : slots_) s = std::make_shared<Buffer>();
  output_slot_.resize(slots_.size());
  for (ValueId v : program.graph->outputs()) {
    const int slot = program.plan.value_slot[static_cast<size_t>(v)];
    if (slot >= 0) output_slot_[static_cast<size_t>(slot)] = true;
  }
  block_ = std::make_shared<Buffer>();
  block_offset_.assign(program.graph->num_values(), -1);
  unread_outputs_.resize(program.steps.size());
  scratch_.resize(program.steps.size());
  children_.resize(program.steps.size());
  for (size_t s = 0; s < program.steps.size(); ++s) children_[s].resize(program.steps[s].subgraphs.size());
  bind_initializers();
}

int64_t ExecutionFrame::reserved_bytes() const {
  int64_t total = reserved_bytes_;
  for (const auto& per_step : children_) {
    for (const auto& c : per_step) total += c ? c->reserved_bytes() : 0;
  }
  return total;
}

ExecutionFrame& ExecutionFrame::child(size_t step, int graph) {
  std::unique_ptr<ExecutionFrame>& c = children_[step][static_cast<size_t>(graph)];
  if (!c) c = std::make_unique<ExecutionFrame>(*program_.steps[step].subgraphs[static_cast<size_t>(graph)]);
  return *c;
}

// Binds the values the subgraph captured (views of this frame's tensors, in
// the order of the node's implicit inputs), then runs it.
Status ExecutionFrame::run_child(size_t step, int graph) {
  const Node& n = program_.graph->node(program_.steps[step].node);
  if (++subgraph_runs_ > program_.max_subgraph_runs) {
    return resource_limit("more than " + std::to_string(program_.max_subgraph_runs) +
                          " subgraph runs (If branches and Loop iterations) in one run, the session's "
                          "max_loop_iterations (onnx-run --max-loop-iterations)");
  }
  const Graph& sub = *n.subgraphs[static_cast<size_t>(graph)].graph;
  ExecutionFrame& c = child(step, graph);
  const size_t offset = implicit_input_offset(n, static_cast<size_t>(graph));
  for (size_t j = 0; j < sub.captured().size(); ++j) {
    c.value(sub.captured()[j]) = values_[static_cast<size_t>(n.implicit_inputs[offset + j])];
  }
  return c.run(observer_);
}

void ExecutionFrame::unbind_children(size_t step) {
  const Node& n = program_.graph->node(program_.steps[step].node);
  for (size_t k = 0; k < children_[step].size(); ++k) {
    if (!children_[step][k]) continue;
    const Graph& sub = *n.subgraphs[k].graph;
    for (ValueId v : sub.captured()) children_[step][k]->value(v).reset();
    for (ValueId v : sub.inputs()) children_[step][k]->value(v).reset();
  }
}

void ExecutionFrame::bind_initializers() {
  const Graph& g = *program_.graph;
  for (size_t v = 0; v < g.num_values(); ++v) {
    const Value& val = g.value(static_cast<ValueId>(v));
    if (val.initializer) values_[v] = *val.initializer;  // a view: shared, never copied
  }
}

int64_t ExecutionFrame::grow_within_limit(Buffer& buf, size_t bytes) {
  if (buf.capacity() >= bytes) return 0;
  int64_t grown = reserved_bytes_ + static_cast<int64_t>(bytes) - static_cast<int64_t>(buf.capacity());
  if (grown > program_.max_memory_bytes) return grown;
  reserved_bytes_ = grown;
  buf.reserve(bytes);
  return 0;
}

Status ExecutionFrame::over_limit(const std::string& what, std::span<const int64_t> shape, DataType dtype, size_t bytes,
                                  int64_t needed) const {
  return resource_limit(what + " (" + dtype_name(dtype) + shape_to_string(Shape(shape.begin(), shape.end())) + ", " +
                        std::to_string(bytes) + " bytes): the buffers of one run would need " + std::to_string(needed) +
                        " bytes, above --max-memory " + std::to_string(program_.max_memory_bytes));
}

// Called once per node output per run: allocates nothing unless a buffer must
// grow (first run, larger shapes) or the caller still holds a graph output.
Result<Tensor*> ExecutionFrame::allocate_output(const Node& n, size_t step, int i, std::span<const int64_t> shape,
                                                DataType dtype) {
  if (i < 0 || i >= static_cast<int>(n.outputs.size())) {
    return internal_error("kernel asked for output " + std::to_string(i) + " of " + std::to_string(n.outputs.size()));
  }
  const Graph& g = *program_.graph;
  ValueId v = n.outputs[static_cast<size_t>(i)];
  if (v == kNoId) {
    return bind_scratch(unread_outputs_[step], static_cast<size_t>(i), shape, dtype, [&] { return output_name(g, n, i); });
  }
  std::optional<int64_t> count = checked_num_elements(shape);
  if (!count) return element_count(shape, output_name(g, n, i)).status();
  const size_t bytes = static_cast<size_t>(*count) * dtype_size(dtype);
  if (program_.plan.placement[static_cast<size_t>(v)].whole != kNoId) {
    if (Tensor* placed = place_in_concat(v, shape, dtype)) return placed;
    // Not this run: a buffer of its own, kept for later runs like a slot.
    std::shared_ptr<Buffer>& own = unplaced_[static_cast<size_t>(v)];
    if (!own) own = std::make_shared<Buffer>();
    if (int64_t needed = grow_within_limit(*own, bytes)) return over_limit(output_name(g, n, i), shape, dtype, bytes, needed);
    values_[static_cast<size_t>(v)].rebind(dtype, shape, own->data(), own);
    return &values_[static_cast<size_t>(v)];
  }
  Tensor& target = values_[static_cast<size_t>(v)];
  if (!g.value(v).is_graph_output) {
    Result<uint8_t*> at = place_in_block(v, bytes);
    if (!at.is_ok()) return at.status().with_context(output_name(g, n, i) + ": ");
    if (*at) {
      target.rebind(dtype, shape, *at, block_);
      return &target;
    }
  }
  std::shared_ptr<Buffer>& slot = slots_[static_cast<size_t>(program_.plan.value_slot[static_cast<size_t>(v)])];
  if (placed_in_run_[static_cast<size_t>(v)] == run_number_ && slot->capacity() < bytes) {
    // Growing would move the inputs placed in it: cannot happen when the
    // Concat's inputs have the sizes it checked.
    return internal_error(output_name(g, n, i) + ": larger than the inputs placed in it");
  }
  if (g.value(v).is_graph_output) {
    // Our own view from the last run does not count as a holder.
    if (target.owner() == slot) target.reset();
    // A graph output still held by the caller from an earlier run: give it up.
    if (slot.use_count() > 1) slot = std::make_shared<Buffer>();
  }
  if (int64_t needed = grow_within_limit(*slot, bytes)) return over_limit(output_name(g, n, i), shape, dtype, bytes, needed);
  target.rebind(dtype, shape, slot->data(), slot);
  return &target;
}

// The conditions on this run's shapes: one image (every dimension before the
// axis 1), the input's planned extent along the axis (so the places of its
// siblings, worked out from theirs, do not overlap it), and a start a whole
// number of cache lines into the buffer (the alignment kernels get for any
// output). The output's buffer grows to its full size with the first input
// placed, and never while one is in it.
Tensor* ExecutionFrame::place_in_concat(ValueId v, std::span<const int64_t> shape, DataType dtype) {
  const ConcatPlacement& p = program_.plan.placement[static_cast<size_t>(v)];
  if (static_cast<int64_t>(shape.size()) != p.rank) return nullptr;
  const auto axis = static_cast<size_t>(p.axis);
  if (shape[axis] != p.axis_size) return nullptr;
  int64_t inner = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (d < axis && shape[d] != 1) return nullptr;
    if (shape[d] == 0) return nullptr;
    if (d > axis) inner *= shape[d];  // below the element count the caller checked
  }
  const auto element = static_cast<int64_t>(dtype_size(dtype));
  std::optional<int64_t> line = checked_mul(inner, element);
  std::optional<int64_t> total = line ? checked_mul(*line, p.axis_total) : std::nullopt;
  if (!total) return nullptr;
  const int64_t offset = p.axis_begin * *line;  // <= total
  if (offset % 64 != 0) return nullptr;
  uint64_t& placed = placed_in_run_[static_cast<size_t>(p.whole)];
  Tensor& target = values_[static_cast<size_t>(v)];
  // In the block when the whole's place there (taken by its first input) is
  // inside it; otherwise in its slot, as when the block has no size yet.
  int64_t& whole_at = block_offset_[static_cast<size_t>(p.whole)];
  if (whole_at < 0) whole_at = block_offsets_.place(*total);
  if (whole_at >= 0) {
    const int64_t size = block_offsets_.size_at(whole_at);
    if (size < *total) return nullptr;
    if (whole_at + size <= block_bytes()) {
      placed = run_number_;
      target.rebind(dtype, shape, static_cast<uint8_t*>(block_->data()) + whole_at + offset, block_);
      return &target;
    }
  }
  std::shared_ptr<Buffer>& slot = slots_[static_cast<size_t>(program_.plan.value_slot[static_cast<size_t>(p.whole)])];
  if (slot->capacity() < static_cast<size_t>(*total)) {
    if (placed == run_number_ || grow_within_limit(*slot, static_cast<size_t>(*total)) != 0) return nullptr;
  }
  placed = run_number_;
  target.rebind(dtype, shape, static_cast<uint8_t*>(slot->data()) + offset, slot);
  return &target;
}

Result<uint8_t*> ExecutionFrame::place_in_block(ValueId v, size_t bytes) {
  int64_t& at = block_offset_[static_cast<size_t>(v)];
  const auto need = static_cast<int64_t>(std::min(bytes, static_cast<size_t>(BlockOffsets::kMaxBytes) + 1));
  if (at >= 0 && block_offsets_.size_at(at) < need) {
    // Asked again in this run, larger: a new place, unless inputs of its
    // Concat are already in the old one (cannot happen when they have the
    // sizes it checked).
    if (placed_in_run_[static_cast<size_t>(v)] == run_number_) {
      return internal_error("larger than the inputs placed in it");
    }
    block_offsets_.release(at);
    at = -1;
  }
  if (at < 0) at = block_offsets_.place(need);
  if (at < 0 || at + block_offsets_.size_at(at) > block_bytes()) return nullptr;
  return static_cast<uint8_t*>(block_->data()) + at;
}

void ExecutionFrame::unbind_intermediates() {
  const Graph& g = *program_.graph;
  for (size_t v = 0; v < g.num_values(); ++v) {
    const Value& val = g.value(static_cast<ValueId>(v));
    if (val.producer != kNoId && !val.is_graph_output) values_[v].reset();
  }
}

// The block replaces the slots of the values that are no graph output: in a
// run whose shapes were all seen before, every such value fits in it.
void ExecutionFrame::grow_block() {
  const int64_t need = block_offsets_.high_water();
  block_offsets_.reset_high_water();
  if (need <= block_bytes()) return;
  int64_t freed = block_bytes();
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (!output_slot_[i]) freed += static_cast<int64_t>(slots_[i]->capacity());
  }
  const int64_t total = reserved_bytes_ - freed + need;
  if (total > program_.max_memory_bytes) return;  // the slots go on holding them
  unbind_intermediates();
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (!output_slot_[i]) slots_[i]->release();
  }
  block_->release();
  block_->reserve(static_cast<size_t>(need));
  reserved_bytes_ = total;
}

void ExecutionFrame::drop_block() {
  block_offsets_.reset_high_water();
  if (block_bytes() == 0) return;
  unbind_intermediates();
  reserved_bytes_ -= block_bytes();
  block_->release();
}

// An optional output nobody reads, or a kernel's scratch: private to the step.
template <typename What>
Result<Tensor*> ExecutionFrame::bind_scratch(ScratchList& list, size_t index, std::span<const int64_t> shape,
                                             DataType dtype, const What& what) {
  std::optional<int64_t> count = checked_num_elements(shape);
  if (!count) return element_count(shape, what()).status();
  const size_t bytes = static_cast<size_t>(*count) * dtype_size(dtype);
  if (list.size() <= index) list.resize(index + 1);
  Scratch& entry = list[index];
  if (!entry.buffer) entry.buffer = std::make_shared<Buffer>();
  if (int64_t needed = grow_within_limit(*entry.buffer, bytes)) return over_limit(what(), shape, dtype, bytes, needed);
  entry.tensor.rebind(dtype, shape, entry.buffer->data(), entry.buffer);
  return &entry.tensor;
}

Status ExecutionFrame::run(RunObserver* observer) {
  observer_ = observer;
  subgraph_runs_ = 0;
  ++run_number_;
  block_offsets_.clear();
  std::fill(block_offset_.begin(), block_offset_.end(), -1);
  const Graph& g = *program_.graph;
  for (size_t s = 0; s < program_.steps.size(); ++s) {
    const ExecutionSteps::Step& step = program_.steps[s];
    const Node& n = g.node(step.node);
    Context context(*this, n, s);
    auto start = observer ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    Status st = step.kernel->run(context);
    if (!step.subgraphs.empty()) unbind_children(s);
    if (!st.is_ok()) {
      if (st.code() == ErrorCode::kResourceLimit) drop_block();
      return st.with_context(program_.where + n.describe() + ": ");
    }
    if (observer) {
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      out_ptrs_.clear();
      for (ValueId out : n.outputs) out_ptrs_.push_back(out == kNoId ? nullptr : &values_[static_cast<size_t>(out)]);
      observer->after_node(n, out_ptrs_, secs);
    }
    for (ValueId v : program_.plan.release_after[s]) {
      int64_t& at = block_offset_[static_cast<size_t>(v)];
      if (at >= 0) block_offsets_.release(at);
      at = -1;
    }
  }
  grow_block();
  return Status::ok();
}

}  // namespace onnx_mini
