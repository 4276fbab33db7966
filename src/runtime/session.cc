#include "runtime/session.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>

#include "core/printable.h"
#include "graph/onnx_loader.h"
#include "graph/passes/pass_manager.h"
#include "ops/blas.h"
#include "ops/packed_gemm.h"
#include "ops/parallel.h"
#include "runtime/compile_steps.h"
#include "runtime/prepared_weights.h"

namespace onnx_mini {

Session::~Session() = default;

int Session::num_threads() const { return pool_->num_threads(); }

int Session::num_frames() const {
  std::lock_guard<std::mutex> lock(frames_mutex_);
  return num_frames_;
}

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
  // Before compile_steps, which may let go of initializers the test reads.
  // ONNX_MINI_SPLIT_BATCH: 0 runs every batch whole; 1 splits small images too.
  const std::string split = std::getenv("ONNX_MINI_SPLIT_BATCH") ? std::getenv("ONNX_MINI_SPLIT_BATCH") : "";
  if (split != "0") batch_split_ = plan_batch_split(graph_, split == "1" ? 0 : kMinSplitImageBytes);
  OM_ASSIGN_OR_RETURN(weights_, compile_steps(graph_, program_,
                                              {.pool = pool_.get(), .max_memory_bytes = options.max_memory_bytes,
                                               .max_subgraph_runs = options.max_loop_iterations, .where = where_}));
  if (options.explain) explain_placements(options.explain);
  // Room for a few concurrent runs, so giving a frame back allocates nothing.
  idle_frames_.reserve(16);
  return Status::ok();
}

// --explain's account of the memory plan's Concats (runtime/plan.h).
void Session::explain_placements(const std::function<void(const std::string&)>& log) const {
  std::vector<bool> told(graph_.num_values());
  for (ValueId v = 0; v < static_cast<ValueId>(graph_.num_values()); ++v) {
    const ValueId whole = program_.plan.placement[static_cast<size_t>(v)].whole;
    if (whole == kNoId || told[static_cast<size_t>(whole)]) continue;
    told[static_cast<size_t>(whole)] = true;
    const Node& concat = graph_.node(graph_.value(whole).producer);
    log("Concat '" + concat.name + "' in place: its inputs are written into its output (memory plan, runs of one image)");
  }
}

Status Session::bind_inputs(ExecutionFrame& frame, const std::vector<NamedTensor>& inputs) const {
  // Reset every fed input to its default (initializer) or to nothing.
  for (ValueId v : feed_inputs_) {
    const Value& val = graph_.value(v);
    // reset() rather than `= Tensor()`: keeps the shape's capacity for the next feed.
    if (val.initializer) {
      frame.value(v) = *val.initializer;
    } else {
      frame.value(v).reset();
    }
  }
  for (const NamedTensor& in : inputs) {
    OM_RETURN_IF_ERROR(check_input(in.name, in.tensor).with_context(where_));
    ValueId v = graph_.find_value(in.name);
    const Tensor& t = in.tensor;
    frame.value(v) = t;
  }
  for (ValueId v : feed_inputs_) {
    if (!frame.value(v).defined()) {
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

// A frame from the pool, or a new one when every frame is in use (the first
// run, and each time more runs overlap than ever before).
std::unique_ptr<ExecutionFrame> Session::acquire_frame() {
  {
    std::lock_guard<std::mutex> lock(frames_mutex_);
    if (!idle_frames_.empty()) {
      std::unique_ptr<ExecutionFrame> frame = std::move(idle_frames_.back());
      idle_frames_.pop_back();
      return frame;
    }
    ++num_frames_;
  }
  return std::make_unique<ExecutionFrame>(program_);
}

void Session::release_frame(std::unique_ptr<ExecutionFrame> frame) {
  const int64_t reserved = frame->reserved_bytes();
  int64_t seen = planned_bytes_.load(std::memory_order_relaxed);
  while (reserved > seen && !planned_bytes_.compare_exchange_weak(seen, reserved, std::memory_order_relaxed)) {
  }
  std::lock_guard<std::mutex> lock(frames_mutex_);
  idle_frames_.push_back(std::move(frame));
}

Status Session::run(const std::vector<NamedTensor>& inputs, std::vector<Tensor>& outputs) {
  return run(inputs, outputs, observer_);
}

Status Session::run(const std::vector<NamedTensor>& inputs, std::vector<Tensor>& outputs, RunObserver* observer) {
  // The vector handed back is overwritten: let go of the previous run's outputs
  // first, so their buffers can be reused instead of reallocated. Copies the
  // caller kept elsewhere still hold theirs, and get fresh buffers.
  // Per-node observers watch the batch whole (a profile of the graph as built).
  if (batch_split_.per_image && !observer) {
    bool done = false;
    Status st = run_per_image(inputs, outputs, done);
    if (done) return st;
  }
  for (Tensor& t : outputs) t.reset();
  std::unique_ptr<ExecutionFrame> frame = acquire_frame();
  Status st = run_on(*frame, inputs, outputs, observer);
  // Drop borrowed inputs so the caller's tensors are not kept alive by the session.
  for (ValueId v : feed_inputs_) frame->value(v).reset();
  release_frame(std::move(frame));
  return st;
}

Status Session::run_on(ExecutionFrame& frame, const std::vector<NamedTensor>& inputs, std::vector<Tensor>& outputs,
                       RunObserver* observer) {
  OM_RETURN_IF_ERROR(bind_inputs(frame, inputs));
  OM_RETURN_IF_ERROR(frame.run(observer));
  outputs.resize(graph_.outputs().size());
  for (size_t i = 0; i < graph_.outputs().size(); ++i) outputs[i] = frame.value(graph_.outputs()[i]);
  return Status::ok();
}

namespace {

// Inputs of higher rank, or more of them, run as a batch (a fixed array of
// dims and a search per input keep the per-image path free of allocations).
constexpr size_t kMaxSplitRank = 8;
constexpr size_t kMaxSplitInputs = 16;
// Threads beyond this share the groups (one frame per group).
constexpr int64_t kMaxGroups = 64;

// Image i of `t` (dim 0 dropped to 1), as a view bound to `slot`.
void bind_image(Tensor& slot, const Tensor& t, int64_t i) {
  std::array<int64_t, kMaxSplitRank> dims{};
  for (int64_t d = 0; d < t.rank(); ++d) dims[static_cast<size_t>(d)] = t.dim(d);
  dims[0] = 1;
  const size_t bytes = t.byte_size() / static_cast<size_t>(t.dim(0));
  auto* data = static_cast<uint8_t*>(const_cast<void*>(t.raw_data())) + static_cast<size_t>(i) * bytes;
  slot.rebind(t.dtype(), std::span<const int64_t>(dims.data(), static_cast<size_t>(t.rank())), data, t.owner());
}

}  // namespace

Status Session::run_images(ExecutionFrame& frame, const Tensor* const* fed, int64_t begin, int64_t end,
                           std::vector<Tensor>& outputs) const {
  for (int64_t i = begin; i < end; ++i) {
    for (size_t k = 0; k < feed_inputs_.size(); ++k) bind_image(frame.value(feed_inputs_[k]), *fed[k], i);
    OM_RETURN_IF_ERROR(frame.run(nullptr));
    for (size_t o = 0; o < outputs.size(); ++o) {
      const Tensor& image = frame.value(graph_.outputs()[o]);
      Tensor& whole = outputs[o];
      const size_t bytes = whole.byte_size() / static_cast<size_t>(whole.dim(0));
      bool fits = image.dtype() == whole.dtype() && image.rank() == whole.rank() && image.dim(0) == 1;
      for (int64_t d = 1; fits && d < whole.rank(); ++d) fits = image.dim(d) == whole.dim(d);
      if (!fits) {
        return internal_error(where_ + "output " + quote(graph_.value(graph_.outputs()[o]).name) + " of one image is " +
                              describe(image) + ", not one row of " + describe(whole));
      }
      std::memcpy(static_cast<uint8_t*>(whole.raw_data()) + static_cast<size_t>(i) * bytes, image.raw_data(), bytes);
    }
  }
  return Status::ok();
}

Status Session::run_per_image(const std::vector<NamedTensor>& inputs, std::vector<Tensor>& outputs, bool& done) {
  done = false;
  if (inputs.size() != feed_inputs_.size() || inputs.size() > kMaxSplitInputs) return Status::ok();
  // Each fed input by graph order, checked as bind_inputs would; any doubt
  // (a missing or repeated name, differing batch sizes) runs the batch whole.
  std::array<const Tensor*, kMaxSplitInputs> fed{};
  int64_t n = -1;
  for (size_t k = 0; k < feed_inputs_.size(); ++k) {
    const std::string& name = graph_.value(feed_inputs_[k]).name;
    for (const NamedTensor& in : inputs) {
      if (in.name != name) continue;
      if (fed[k]) return Status::ok();
      fed[k] = &in.tensor;
    }
    if (!fed[k]) return Status::ok();
    done = true;  // from here on, an error is this run's answer
    OM_RETURN_IF_ERROR(check_input(name, *fed[k]).with_context(where_));
    done = false;
    const Tensor& t = *fed[k];
    if (t.rank() < 1 || static_cast<size_t>(t.rank()) > kMaxSplitRank || (n >= 0 && t.dim(0) != n)) return Status::ok();
    n = t.dim(0);
  }
  if (n < 2) return Status::ok();
  done = true;
  // The whole outputs: the caller's tensors of the last run when nobody else
  // holds them (no allocation in a steady state), else fresh ones.
  outputs.resize(graph_.outputs().size());
  for (size_t o = 0; o < outputs.size(); ++o) {
    const TensorInfo& info = graph_.value(graph_.outputs()[o]).info;
    Tensor& t = outputs[o];
    bool reusable = t.defined() && t.dtype() == info.dtype && t.owner().use_count() == 1 &&
                    t.rank() == static_cast<int64_t>(info.dims.size()) && t.dim(0) == n;
    for (size_t d = 1; reusable && d < info.dims.size(); ++d) reusable = t.dim(static_cast<int64_t>(d)) == info.dims[d].value;
    if (reusable) continue;
    Shape shape{n};
    for (size_t d = 1; d < info.dims.size(); ++d) shape.push_back(info.dims[d].value);
    t = Tensor::allocate_for_overwrite(info.dtype, std::move(shape));
  }
  // A frame per group, taken here whichever thread runs the group: every frame
  // runs images in every run, so after the first run none grows any more.
  const int64_t groups = std::min<int64_t>({n, pool_->num_threads(), kMaxGroups});
  std::array<std::unique_ptr<ExecutionFrame>, kMaxGroups> frames;
  std::array<Status, kMaxGroups> status;
  for (int64_t g = 0; g < groups; ++g) {
    frames[static_cast<size_t>(g)] = acquire_frame();
    frames[static_cast<size_t>(g)]->set_single_threaded(groups > 1);
  }
  for_each_task(groups > 1 ? pool_.get() : nullptr, groups, [&](int64_t g) {
    status[static_cast<size_t>(g)] =
        run_images(*frames[static_cast<size_t>(g)], fed.data(), g * n / groups, (g + 1) * n / groups, outputs);
  });
  for (int64_t g = 0; g < groups; ++g) {
    ExecutionFrame& frame = *frames[static_cast<size_t>(g)];
    frame.set_single_threaded(false);
    for (ValueId v : feed_inputs_) frame.value(v).reset();
    release_frame(std::move(frames[static_cast<size_t>(g)]));
  }
  for (int64_t g = 0; g < groups; ++g) OM_RETURN_IF_ERROR(status[static_cast<size_t>(g)]);
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
