// The public C++ API (include/onnx_mini/) over the runtime's Session: converts
// views, statuses and metadata at the boundary so no internal type crosses it.
#include "onnx_mini/session.h"

#include <climits>
#include <cstring>

#include "core/dtype.h"
#include "graph/onnx_loader.h"
#include "runtime/session.h"

namespace onnx_mini::api {

namespace {

Status from_internal(const onnx_mini::Status& s) {
  if (s.is_ok()) return {};
  // kCheckMismatch is onnx-run's own; the library never returns it.
  return {static_cast<ErrorCode>(static_cast<int>(s.code())), s.message()};
}

ValueInfo value_info(const Value& v) {
  ValueInfo out;
  out.name = v.name;
  out.type = static_cast<ElementType>(static_cast<int32_t>(v.info.dtype));
  out.has_shape = v.info.has_shape;
  for (const Dim& d : v.info.dims) out.shape.push_back(Dimension{d.value, d.param});
  return out;
}

ModelInfo model_info(const onnx_mini::Session& s, const std::string& producer, int64_t ir_version,
                     const std::map<std::string, int>& opsets) {
  ModelInfo info;
  info.producer = producer;
  info.ir_version = ir_version;
  info.opsets = opsets;
  for (ValueId v : s.input_ids()) info.inputs.push_back(value_info(s.value(v)));
  for (ValueId v : s.output_ids()) info.outputs.push_back(value_info(s.value(v)));
  return info;
}

onnx_mini::SessionOptions internal_options(const SessionOptions& o) {
  onnx_mini::SessionOptions so;
  so.threads = o.threads;
  so.opt_level = o.opt_level;
  so.max_memory_bytes = o.max_memory_bytes;
  so.max_nodes = o.max_nodes;
  so.max_loop_iterations = o.max_loop_iterations;
  return so;
}

TensorView view_of(const std::string& name, const Tensor& t) {
  TensorView v;
  v.name = name;
  v.type = static_cast<ElementType>(static_cast<int32_t>(t.dtype()));
  v.shape.assign(t.shape().begin(), t.shape().end());
  v.data = const_cast<void*>(t.raw_data());
  v.capacity_bytes = t.byte_size();
  return v;
}

// Adapts a NodeObserver to the runtime's per-run observer.
class ObserverAdapter final : public RunObserver {
 public:
  ObserverAdapter(const onnx_mini::Session& session, const NodeObserver& fn) : session_(session), fn_(fn) {}
  void after_node(const Node& node, const std::vector<const Tensor*>& outputs, double seconds) override {
    views_.clear();
    for (size_t i = 0; i < outputs.size(); ++i) {
      if (outputs[i] == nullptr || node.outputs[i] == kNoId) continue;  // an output nobody reads
      views_.push_back(view_of(session_.value(node.outputs[i]).name, *outputs[i]));
    }
    fn_(NodeEvent{node.name, node.op_type, views_, seconds});
  }

 private:
  const onnx_mini::Session& session_;
  const NodeObserver& fn_;
  std::vector<TensorView> views_;
};

}  // namespace

const char* version() { return ONNX_MINI_VERSION; }

const char* element_type_name(ElementType type) {
  switch (type) {
    case ElementType::kFloat: return "float";
    case ElementType::kUInt8: return "uint8";
    case ElementType::kInt8: return "int8";
    case ElementType::kUInt16: return "uint16";
    case ElementType::kInt16: return "int16";
    case ElementType::kInt32: return "int32";
    case ElementType::kInt64: return "int64";
    case ElementType::kBool: return "bool";
    case ElementType::kFloat16: return "float16";
    case ElementType::kDouble: return "double";
    case ElementType::kUInt32: return "uint32";
    case ElementType::kUInt64: return "uint64";
    case ElementType::kBFloat16: return "bfloat16";
    case ElementType::kUndefined: break;
  }
  return "undefined";
}

size_t element_size(ElementType type) { return dtype_size(static_cast<DataType>(static_cast<int32_t>(type))); }

int64_t TensorView::num_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

int64_t OwnedTensor::num_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

struct Session::Impl {
  std::unique_ptr<onnx_mini::Session> session;
  ModelInfo info;
};

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

const ModelInfo& Session::info() const { return impl_->info; }

namespace {

// The options' ranges (onnx-run's flags have the same): a caller's mistake is
// kUsage at load, not a pool of -1 threads or a run that cannot allocate.
Status check_options(const SessionOptions& o) {
  auto bad = [](const std::string& what) { return Status{ErrorCode::kUsage, "SessionOptions: " + what}; };
  if (o.threads < 0 || o.threads > 1024) return bad("threads must be 0..1024, got " + std::to_string(o.threads));
  if (o.opt_level != 0 && o.opt_level != 1) return bad("opt_level must be 0 or 1, got " + std::to_string(o.opt_level));
  if (o.max_memory_bytes < 1) return bad("max_memory_bytes must be >= 1, got " + std::to_string(o.max_memory_bytes));
  if (o.max_nodes < 1) return bad("max_nodes must be >= 1, got " + std::to_string(o.max_nodes));
  if (o.max_loop_iterations < 0) {
    return bad("max_loop_iterations must be >= 0, got " + std::to_string(o.max_loop_iterations));
  }
  return {};
}

// Builds the runtime session and what the API reports about the model.
Status build_session(Graph graph, const SessionOptions& options, std::unique_ptr<onnx_mini::Session>& session,
                     ModelInfo& info) {
  const std::string producer = graph.producer_name;
  const int64_t ir_version = graph.ir_version;
  const std::map<std::string, int> opsets = graph.opset_imports();
  auto built = onnx_mini::Session::from_graph(std::move(graph), internal_options(options));
  if (!built.is_ok()) return from_internal(built.status());
  session = std::move(built).value();
  info = model_info(*session, producer, ir_version, opsets);
  return {};
}

}  // namespace

Status Session::load(const std::string& path, const SessionOptions& options, std::unique_ptr<Session>& out) {
  if (Status st = check_options(options); !st.ok()) return st;
  LoadOptions lo;
  lo.max_nodes = options.max_nodes;
  Result<Graph> graph = load_onnx_file(path, lo);
  if (!graph.is_ok()) return from_internal(graph.status());
  auto impl = std::make_unique<Impl>();
  Status st = build_session(std::move(graph).value(), options, impl->session, impl->info);
  if (st.ok()) out.reset(new Session(std::move(impl)));
  return st;
}

Status Session::load_from_bytes(const void* data, size_t size, const SessionOptions& options,
                                std::unique_ptr<Session>& out) {
  if (Status st = check_options(options); !st.ok()) return st;
  if (data == nullptr || size == 0) return {ErrorCode::kInvalidModel, "model bytes: empty"};
  if (size > INT_MAX) {
    return {ErrorCode::kResourceLimit, "model bytes: " + std::to_string(size) + " bytes, above protobuf's 2 GiB limit"};
  }
  onnx::ModelProto model;
  if (!model.ParseFromArray(data, static_cast<int>(size))) {
    return {ErrorCode::kInvalidModel, "model bytes: not a valid ONNX model (protobuf parse failed)"};
  }
  LoadOptions lo;
  lo.max_nodes = options.max_nodes;
  // No directory: a model in memory cannot name external data files.
  Result<Graph> graph = graph_from_model(model, "", lo);
  if (!graph.is_ok()) return from_internal(graph.status().with_context("model bytes: "));
  auto impl = std::make_unique<Impl>();
  Status st = build_session(std::move(graph).value(), options, impl->session, impl->info);
  if (st.ok()) out.reset(new Session(std::move(impl)));
  return st;
}

namespace {

// The caller's inputs as runtime tensors: views of their memory, no copy.
Status wrap_inputs(const std::vector<TensorView>& inputs, std::vector<NamedTensor>& feeds) {
  feeds.clear();
  for (const TensorView& in : inputs) {
    const DataType dtype = static_cast<DataType>(static_cast<int32_t>(in.type));
    if (!dtype_is_supported(dtype)) {
      return {ErrorCode::kBadInput, "input '" + in.name + "': unsupported element type " + std::to_string(static_cast<int>(in.type))};
    }
    auto count = checked_num_elements(Shape(in.shape));
    if (!count.is_ok()) return {ErrorCode::kBadInput, "input '" + in.name + "': " + count.status().message()};
    if (in.data == nullptr && *count > 0) return {ErrorCode::kUsage, "input '" + in.name + "': data is null"};
    feeds.push_back({in.name, Tensor::wrap(dtype, Shape(in.shape), in.data, nullptr)});
  }
  return {};
}

// Copies output `t` into the caller's view, or says how much room it needs.
Status copy_output(const Tensor& t, TensorView& out) {
  if (out.capacity_bytes < t.byte_size()) {
    return {ErrorCode::kUsage, "output '" + out.name + "': buffer of " + std::to_string(out.capacity_bytes) +
                                   " bytes, needs " + std::to_string(t.byte_size()) + " (" + describe(t) + ")"};
  }
  out.type = static_cast<ElementType>(static_cast<int32_t>(t.dtype()));
  out.shape.assign(t.shape().begin(), t.shape().end());
  if (t.byte_size() > 0) std::memcpy(out.data, t.raw_data(), t.byte_size());
  return {};
}

// The graph-output position of each requested name, checked before running.
Status output_positions(const ModelInfo& info, const std::vector<std::string>& names, std::vector<size_t>& positions) {
  positions.clear();
  for (const std::string& name : names) {
    size_t p = 0;
    while (p < info.outputs.size() && info.outputs[p].name != name) ++p;
    if (p == info.outputs.size()) {
      std::string all;
      for (const ValueInfo& o : info.outputs) all += (all.empty() ? "" : ", ") + o.name;
      return {ErrorCode::kUsage, "unknown output name '" + name + "' (the model's outputs: " + all + ")"};
    }
    positions.push_back(p);
  }
  return {};
}

// Runs the runtime session on the caller's inputs (viewed, not copied).
// onnx_mini::Session::run is safe from many threads at once.
Status run_runtime(onnx_mini::Session& s, const std::vector<TensorView>& inputs, const NodeObserver& observer,
                   std::vector<Tensor>& results) {
  std::vector<NamedTensor> feeds;
  Status st = wrap_inputs(inputs, feeds);
  if (!st.ok()) return st;
  ObserverAdapter adapter(s, observer);
  return from_internal(s.run(feeds, results, observer ? &adapter : nullptr));
}

}  // namespace

Status Session::run(const std::vector<TensorView>& inputs, const std::vector<std::string>& output_names,
                    std::vector<OwnedTensor>& outputs, const NodeObserver& observer) const {
  std::vector<std::string> all;
  if (output_names.empty()) {
    for (const ValueInfo& o : impl_->info.outputs) all.push_back(o.name);
  }
  const std::vector<std::string>& names = output_names.empty() ? all : output_names;
  std::vector<size_t> positions;
  Status st = output_positions(impl_->info, names, positions);
  if (!st.ok()) return st;
  std::vector<Tensor> results;
  st = run_runtime(*impl_->session, inputs, observer, results);
  if (!st.ok()) return st;
  outputs.clear();
  for (size_t i = 0; i < names.size(); ++i) {
    const Tensor& t = results[positions[i]];
    std::shared_ptr<const void> keep = t.owner();
    const void* data = t.raw_data();
    if (!keep && t.byte_size() > 0) {
      // An output that is the caller's own input (a pass-through): the library
      // does not own it, so it hands back a copy that outlives the input.
      std::shared_ptr<char[]> copy(new char[t.byte_size()]);
      std::memcpy(copy.get(), data, t.byte_size());
      data = copy.get();
      keep = std::move(copy);
    }
    outputs.push_back(OwnedTensor{names[i], static_cast<ElementType>(static_cast<int32_t>(t.dtype())),
                                  std::vector<int64_t>(t.shape().begin(), t.shape().end()), data, std::move(keep)});
  }
  return {};
}

Status Session::run(const std::vector<TensorView>& inputs, std::vector<TensorView>& outputs,
                    const NodeObserver& observer) const {
  std::vector<std::string> names;
  for (const TensorView& out : outputs) names.push_back(out.name);
  std::vector<size_t> positions;
  Status st = output_positions(impl_->info, names, positions);
  if (!st.ok()) return st;
  std::vector<Tensor> results;
  st = run_runtime(*impl_->session, inputs, observer, results);
  if (!st.ok()) return st;
  for (size_t i = 0; i < outputs.size(); ++i) {
    st = copy_output(results[positions[i]], outputs[i]);
    if (!st.ok()) return st;
  }
  return {};
}

}  // namespace onnx_mini::api
