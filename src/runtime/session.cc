#include "runtime/session.h"

#include <chrono>
#include <optional>
#include <span>

#include "core/printable.h"
#include "graph/node_info.h"
#include "graph/onnx_loader.h"
#include "graph/passes/pass_manager.h"
#include "ops/blas.h"
#include "ops/packed_gemm.h"
#include "ops/parallel.h"
#include "runtime/plan.h"
#include "runtime/prepared_weights.h"

namespace onnx_mini {

// Runs the planned steps; owns kernels and the reusable buffers.
class Session::Executor {
 public:
  struct Step {
    NodeId node;
    std::unique_ptr<Kernel> kernel;
    std::vector<const Tensor*> out_ptrs;  // scratch for the observer
  };

  class Context final : public KernelContext {
   public:
    explicit Context(Executor& ex) : ex_(ex) {}
    void bind(const Node& n, size_t step) {
      node_ = &n;
      step_ = step;
    }
    int num_inputs() const override { return static_cast<int>(node_->inputs.size()); }
    const Tensor* input(int i) const override {
      if (i < 0 || i >= num_inputs()) return nullptr;
      ValueId v = node_->inputs[static_cast<size_t>(i)];
      if (v == kNoId) return nullptr;
      const Tensor& t = ex_.values_[static_cast<size_t>(v)];
      return t.defined() ? &t : nullptr;
    }
    int num_outputs() const override { return static_cast<int>(node_->outputs.size()); }
    bool output_wanted(int i) const override {
      return i >= 0 && i < num_outputs() && node_->outputs[static_cast<size_t>(i)] != kNoId;
    }
    using KernelContext::output;
    Result<Tensor*> output(int i, const Shape& shape, DataType dtype) override {
      return ex_.allocate_output(*node_, step_, i, shape, dtype);
    }
    Result<Tensor*> output_dims(int i, std::span<const int64_t> dims, DataType dtype) override {
      return ex_.allocate_output(*node_, step_, i, dims, dtype);
    }
    const std::string& node_name() const override { return node_->name; }
    ThreadPool* thread_pool() const override { return ex_.pool_; }

   private:
    Executor& ex_;
    const Node* node_ = nullptr;
    size_t step_ = 0;
  };

  Executor(const Graph& g, ExecutionPlan plan, int64_t max_memory, ThreadPool* pool)
      : g_(g), plan_(std::move(plan)), max_memory_(max_memory), pool_(pool), context_(*this) {
    values_.resize(g.num_values());
    slots_.resize(static_cast<size_t>(plan_.num_slots));
    for (auto& s : slots_) s = std::make_shared<Buffer>();
    scratch_.resize(plan_.order.size());
  }

  // Once the weights are prepared: the initializers kernels read during runs
  // (those only packed kernels read are gone from the graph by then).
  void bind_initializers() {
    for (size_t v = 0; v < g_.num_values(); ++v) {
      const Value& val = g_.value(static_cast<ValueId>(v));
      if (val.initializer) values_[v] = *val.initializer;  // a view: shared, never copied
    }
  }

  // Called once per node output per run: allocates nothing unless a buffer must
  // grow (first run, larger shapes) or the caller still holds a graph output.
  Result<Tensor*> allocate_output(const Node& n, size_t step, int i, std::span<const int64_t> shape, DataType dtype) {
    if (i < 0 || i >= static_cast<int>(n.outputs.size())) {
      return internal_error("kernel asked for output " + std::to_string(i) + " of " + std::to_string(n.outputs.size()));
    }
    std::optional<int64_t> checked = checked_num_elements(shape);
    if (!checked) {  // the message is built on the error path only: exit 5 or 6 (core/shape.h)
      ValueId out = n.outputs[static_cast<size_t>(i)];
      return check_runtime_shape(shape).with_context("output " + (out == kNoId ? std::to_string(i) : quote(g_.value(out).name)) + ": ");
    }
    const int64_t count = *checked;
    size_t bytes = static_cast<size_t>(count) * dtype_size(dtype);
    ValueId v = n.outputs[static_cast<size_t>(i)];
    std::shared_ptr<Buffer>* slot;
    Tensor* target;
    if (v == kNoId) {  // an optional output nobody reads: private scratch
      auto& scratch = scratch_[step];
      if (scratch.size() <= static_cast<size_t>(i)) scratch.resize(static_cast<size_t>(i) + 1);
      auto& entry = scratch[static_cast<size_t>(i)];
      if (!entry.first) entry.first = std::make_shared<Buffer>();
      slot = &entry.first;
      target = &entry.second;
    } else {
      slot = &slots_[static_cast<size_t>(plan_.value_slot[static_cast<size_t>(v)])];
      target = &values_[static_cast<size_t>(v)];
      if (g_.value(v).is_graph_output) {
        // Our own view from the last run does not count as a holder.
        if (target->owner() == *slot) target->reset();
        // A graph output still held by the caller from an earlier run: give it up.
        if (slot->use_count() > 1) *slot = std::make_shared<Buffer>();
      }
    }
    Buffer& buf = **slot;
    if (buf.capacity() < bytes) {
      int64_t grown = reserved_bytes_ + static_cast<int64_t>(bytes) - static_cast<int64_t>(buf.capacity());
      if (grown > max_memory_) {
        return resource_limit("output " + (v == kNoId ? std::to_string(i) : quote(g_.value(v).name)) + " (" +
                              dtype_name(dtype) + shape_to_string(Shape(shape.begin(), shape.end())) + ", " +
                              std::to_string(bytes) + " bytes): intermediate buffers would need " + std::to_string(grown) +
                              " bytes, above --max-memory " + std::to_string(max_memory_));
      }
      reserved_bytes_ = grown;
      buf.reserve(bytes);
    }
    target->rebind(dtype, shape, buf.data(), *slot);
    return target;
  }

  Status run(RunObserver* observer, const std::string& where) {
    for (size_t s = 0; s < steps_.size(); ++s) {
      Step& step = steps_[s];
      const Node& n = g_.node(step.node);
      context_.bind(n, s);
      auto start = observer ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
      Status st = step.kernel->run(context_);
      if (!st.is_ok()) return st.with_context(where + n.describe() + ": ");
      if (observer) {
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        step.out_ptrs.clear();
        for (ValueId out : n.outputs) step.out_ptrs.push_back(out == kNoId ? nullptr : &values_[static_cast<size_t>(out)]);
        observer->after_node(n, step.out_ptrs, secs);
      }
    }
    return Status::ok();
  }

  const Graph& g_;
  ExecutionPlan plan_;
  int64_t max_memory_;
  ThreadPool* pool_;
  int64_t reserved_bytes_ = 0;
  std::vector<Tensor> values_;
  std::vector<std::shared_ptr<Buffer>> slots_;
  std::vector<std::vector<std::pair<std::shared_ptr<Buffer>, Tensor>>> scratch_;
  std::vector<Step> steps_;
  Context context_;
};

Session::~Session() = default;

int Session::num_threads() const { return pool_->num_threads(); }

Result<std::unique_ptr<Session>> Session::load(const std::string& path, const SessionOptions& options) {
  LoadOptions lo;
  lo.max_nodes = options.max_nodes;
  OM_ASSIGN_OR_RETURN(Graph g, load_onnx_file(path, lo));
  return from_graph(std::move(g), options);
}

Result<std::unique_ptr<Session>> Session::from_graph(Graph graph, const SessionOptions& options) {
  std::unique_ptr<Session> s(new Session());
  s->graph_ = std::move(graph);
  // A graph taken from another session: constants it let go of come back.
  restore_released_initializers(s->graph_);
  s->where_ = s->graph_.source_path.empty() ? "" : s->graph_.source_path + ": ";
  Status st = s->build(options);
  if (!st.is_ok()) return st;
  return s;
}

Status Session::build(const SessionOptions& options) {
  // This session's threads: its own pool, OpenBLAS at one thread (ops/parallel.h).
  blas::hold_single_threaded();
  pool_ = std::make_unique<ThreadPool>(options.threads);
  PassContext pc;
  pc.opt_level = options.opt_level;
  pc.log = options.explain;
  pc.verify_each = options.verify_passes;
  OM_RETURN_IF_ERROR(optimize_graph(graph_, pc).with_context(where_));

  for (ValueId v : graph_.inputs()) feed_inputs_.push_back(v);
  OM_ASSIGN_OR_RETURN(std::vector<NodeId> order, graph_.topological_order());
  ExecutionPlan plan = make_plan(graph_, std::move(order));
  executor_ = std::make_unique<Executor>(graph_, std::move(plan), options.max_memory_bytes, pool_.get());
  OM_RETURN_IF_ERROR(create_kernels());
  executor_->bind_initializers();
  return Status::ok();
}

// Every node's kernel, then the weights they asked to have packed.
Status Session::create_kernels() {
  NodeInfoBuilder builder;
  PackedWeightRequests requests;
  std::vector<std::pair<NodeId, const Kernel*>> kernels;
  for (NodeId id : executor_->plan_.order) {
    const Node& n = graph_.node(id);
    NodeInfo info = builder.build(graph_, id);
    info.packed_weights = &requests;
    auto kernel = n.def->create(info);
    if (!kernel.is_ok()) return kernel.status().with_context(where_ + n.describe() + ": ");
    kernels.emplace_back(id, kernel.value().get());
    executor_->steps_.push_back(Executor::Step{id, std::move(kernel).value(), {}});
  }
  weights_ = prepare_weights(graph_, kernels, requests);
  return Status::ok();
}

Status Session::bind_inputs(const std::vector<NamedTensor>& inputs) {
  auto& values = executor_->values_;
  // Reset every fed input to its default (initializer) or to nothing.
  for (ValueId v : feed_inputs_) {
    const Value& val = graph_.value(v);
    // reset() rather than `= Tensor()`: keeps the shape's capacity for the next feed.
    if (val.initializer) {
      values[static_cast<size_t>(v)] = *val.initializer;
    } else {
      values[static_cast<size_t>(v)].reset();
    }
  }
  for (const NamedTensor& in : inputs) {
    OM_RETURN_IF_ERROR(check_input(in.name, in.tensor).with_context(where_));
    ValueId v = graph_.find_value(in.name);
    const Tensor& t = in.tensor;
    values[static_cast<size_t>(v)] = t;
  }
  for (ValueId v : feed_inputs_) {
    if (!values[static_cast<size_t>(v)].defined()) {
      return bad_input(where_ + "missing input " + quote(graph_.value(v).name) + " (" + graph_.value(v).info.to_string() + ")");
    }
  }
  return Status::ok();
}

Status Session::check_input(const std::string& name, const Tensor& t, const std::string& source) const {
  ValueId v = graph_.find_value(name);
  if (v == kNoId || !graph_.value(v).is_graph_input) {
    std::string names;
    for (ValueId f : feed_inputs_) names += (names.empty() ? "" : ", ") + printable(graph_.value(f).name);
    return bad_input("unknown input name " + quote(name) + (source.empty() ? "" : " (" + source + ")") +
                     " (the model's inputs: " + names + ")");
  }
  const TensorInfo& info = graph_.value(v).info;
  // Built on the error paths only: run() calls this per input per run.
  auto what = [&] { return "input " + quote(name) + (source.empty() ? "" : " (" + source + ")"); };
  if (info.dtype != DataType::kUndefined && t.dtype() != info.dtype) {
    return bad_input(what() + ": expected " + dtype_name(info.dtype) + ", got " + dtype_name(t.dtype()));
  }
  if (info.has_shape) {
    if (t.rank() != static_cast<int64_t>(info.dims.size())) {
      return bad_input(what() + ": expected rank " + std::to_string(info.dims.size()) + " (declared " + info.to_string() + "), got " + describe(t));
    }
    for (size_t d = 0; d < info.dims.size(); ++d) {
      if (info.dims[d].known() && info.dims[d].value != t.dim(static_cast<int64_t>(d))) {
        return bad_input(what() + ": dimension " + std::to_string(d) + " must be " + std::to_string(info.dims[d].value) + " (declared " + info.to_string() + "), got " + describe(t));
      }
    }
  }
  return Status::ok();
}

Status Session::run(const std::vector<NamedTensor>& inputs, std::vector<Tensor>& outputs) {
  // The vector handed back is overwritten: let go of the previous run's outputs
  // first, so their buffers can be reused instead of reallocated. Copies the
  // caller kept elsewhere still hold theirs, and get fresh buffers.
  for (Tensor& t : outputs) t.reset();
  OM_RETURN_IF_ERROR(bind_inputs(inputs));
  OM_RETURN_IF_ERROR(executor_->run(observer_, where_));
  outputs.resize(graph_.outputs().size());
  for (size_t i = 0; i < graph_.outputs().size(); ++i) {
    outputs[i] = executor_->values_[static_cast<size_t>(graph_.outputs()[i])];
  }
  // Drop borrowed inputs so the caller's tensors are not kept alive by the session.
  for (ValueId v : feed_inputs_) executor_->values_[static_cast<size_t>(v)].reset();
  return Status::ok();
}

Result<std::vector<NamedTensor>> Session::run(const std::vector<NamedTensor>& inputs) {
  std::vector<Tensor> outs;
  OM_RETURN_IF_ERROR(run(inputs, outs));
  std::vector<NamedTensor> named;
  for (size_t i = 0; i < outs.size(); ++i) named.push_back({graph_.value(graph_.outputs()[i]).name, std::move(outs[i])});
  return named;
}

}  // namespace onnx_mini
