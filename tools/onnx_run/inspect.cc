#include "onnx_run/inspect.h"

#include <onnx/onnx_pb.h>

#include <cstdio>
#include <map>
#include <sstream>

#include "core/printable.h"
#include "core/regular_file.h"
#include "graph/onnx_loader.h"
#include "graph/passes/pass_manager.h"
#include "onnx_run/inspection.h"

namespace onnx_mini::onnx_run {
namespace {

std::string domain_label(const std::string& d) { return d.empty() ? "ai.onnx" : d; }

IoInfo io_info(const onnx::ValueInfoProto& v) {
  IoInfo info{v.name(), "?", {}, false};
  if (!v.type().has_tensor_type()) return info;
  const auto& tt = v.type().tensor_type();
  info.dtype = dtype_name(dtype_from_onnx(tt.elem_type()));
  info.has_shape = tt.has_shape();
  for (const auto& d : tt.shape().dim()) {
    info.dims.push_back(d.has_dim_value() ? std::to_string(d.dim_value()) : d.has_dim_param() ? d.dim_param() : "?");
  }
  return info;
}

// Facts read from the ModelProto: they need no support for the model's ops.
void inspect_proto(const onnx::ModelProto& m, Inspection& r) {
  r.producer = m.producer_name();
  r.producer_version = m.producer_version();
  r.ir_version = m.ir_version();
  r.graph_name = m.graph().name();
  for (const auto& op : m.opset_import()) r.opsets[domain_label(op.domain())] = op.version();
  std::map<std::string, bool> is_initializer;
  for (const auto& t : m.graph().initializer()) {
    is_initializer[t.name()] = true;
    int64_t n = 1;
    for (int64_t d : t.dims()) n = d >= 0 && n <= (int64_t{1} << 50) / std::max<int64_t>(d, 1) ? n * d : -1;
    if (n < 0) continue;
    ++r.initializers;
    r.parameters += n;
    r.initializer_bytes += n * static_cast<int64_t>(dtype_size(dtype_from_onnx(t.data_type())));
  }
  for (const auto& v : m.graph().input()) {
    if (!is_initializer.count(v.name())) r.inputs.push_back(io_info(v));
  }
  for (const auto& v : m.graph().output()) r.outputs.push_back(io_info(v));
  for (const auto& n : m.graph().node()) {
    ++r.op_histogram[n.domain().empty() || n.domain() == "ai.onnx" ? n.op_type() : n.domain() + "." + n.op_type()];
    ++r.nodes;
  }
}

int64_t elements(const TensorInfo& info) {
  if (!info.has_shape) return -1;
  int64_t n = 1;
  for (const Dim& d : info.dims) {
    if (!d.known()) return -1;
    n *= d.value;
  }
  return n;
}

// Matrix products and convolutions: 2 per multiply-add; every other op: one per
// output element (an estimate of the work, not of the time).
double node_flops(const Graph& g, const Node& n) {
  if (n.outputs.empty() || n.outputs[0] == kNoId) return 0;
  const int64_t out = elements(g.value(n.outputs[0]).info);
  if (out < 0) return -1;
  const bool product = n.op_type == "MatMul" || n.op_type == "Gemm" || n.op_type == "FusedGemm";
  // FusedConv (a model saved with --save-optimized) takes Conv's X, W, B first.
  const bool conv = n.op_type == "Conv" || n.op_type == "FusedConv";
  if ((product || conv) && n.inputs.size() >= 2 && n.inputs[1] != kNoId) {
    const TensorInfo& w = g.value(n.inputs[1]).info;
    if (!w.has_shape || w.dims.empty()) return -1;
    int64_t k = 1;
    if (conv) {
      for (size_t i = 1; i < w.dims.size(); ++i) k *= w.dims[i].known() ? w.dims[i].value : 0;
    } else {
      const Attribute* t = n.attrs.find("transB");
      const bool trans_b = t && t->i != 0;
      const Dim& inner = trans_b ? w.dims.back() : w.dims[w.dims.size() >= 2 ? w.dims.size() - 2 : 0];
      k = inner.known() ? inner.value : 0;
    }
    return 2.0 * static_cast<double>(out) * static_cast<double>(k);
  }
  return static_cast<double>(out);
}

// Binds every symbolic input dim (--dim, default 1) and re-infers shapes.
Status bind_dims(Graph& g, const Options& o, Inspection& r) {
  for (ValueId id : g.inputs()) {
    for (Dim& d : g.value(id).info.dims) {
      if (d.known()) continue;
      auto it = o.dims.find(d.param);
      d.value = it == o.dims.end() ? 1 : it->second;
      if (!d.param.empty()) r.dims_used[d.param] = d.value;
      d.param.clear();
    }
  }
  return infer_shapes(g);
}

void estimate_flops(Graph g, const Options& o, Inspection& r) {
  Status bound = bind_dims(g, o, r);
  if (!bound.is_ok()) {
    r.flops_note = "shapes could not be inferred at these dims: " + bound.message();
    return;
  }
  int64_t unknown = 0;
  for (size_t i = 0; i < g.num_node_slots(); ++i) {
    const Node& n = g.node(static_cast<NodeId>(i));
    if (n.removed) continue;
    const double f = node_flops(g, n);
    if (f < 0) {
      ++unknown;
      continue;
    }
    FlopsRow& row = r.flops_by_op[n.op_type];
    ++row.nodes;
    row.flops += f;
    r.flops += f;
  }
  if (unknown) r.flops_note = std::to_string(unknown) + " node(s) with shapes unknown before running are not counted";
}

void list_rewrites(Graph g, Inspection& r) {
  PassContext pc;
  pc.log = [&r](const std::string& line) { r.rewrites.push_back(line); };
  Status s = optimize_graph(g, pc);
  if (!s.is_ok()) r.rewrites.push_back("(the passes stopped: " + s.message() + ")");
  r.optimized_nodes = static_cast<int64_t>(g.num_live_nodes());
}

// Every --dim names a symbolic dim of an input, as for a run.
Status check_dims(const Inspection& r, const Options& o) {
  std::map<std::string, bool> symbolic;
  for (const IoInfo& io : r.inputs) {
    for (const std::string& d : io.dims) {
      if (d != "?" && d.find_first_not_of("0123456789") != std::string::npos) symbolic[d] = true;
    }
  }
  for (const auto& [name, v] : o.dims) {
    if (symbolic.count(name)) continue;
    std::string known;
    for (const auto& [s, unused] : symbolic) known += (known.empty() ? "" : ", ") + quote(s);
    return usage_error("--dim " + quote(name) + ": " + o.model + " has no symbolic dim of that name (" +
                       (known.empty() ? std::string("its inputs have none") : "its inputs have " + known) + ")");
  }
  return Status::ok();
}

Result<onnx::ModelProto> read_model_proto(const std::string& path) {
  OM_ASSIGN_OR_RETURN(std::string bytes, read_regular_file(path, int64_t{2} << 30));
  onnx::ModelProto m;
  if (!m.ParseFromString(bytes)) return invalid_model(path + ": not a valid ONNX model (protobuf parse failed)");
  return m;
}

}  // namespace

Result<std::string> inspect_model(const Options& o) {
  OM_ASSIGN_OR_RETURN(onnx::ModelProto proto, read_model_proto(o.model));
  Inspection r;
  inspect_proto(proto, r);
  OM_RETURN_IF_ERROR(check_dims(r, o));
  auto loaded = load_onnx_file(o.model);
  if (loaded.is_ok()) {
    estimate_flops(loaded.value(), o, r);
    list_rewrites(std::move(loaded).value(), r);
  } else if (loaded.status().code() == ErrorCode::kUnsupported) {
    r.unsupported = loaded.status().message();
    r.flops_note = "not estimated: onnx-mini cannot load the graph";
  } else {
    return loaded.status();  // an invalid model is an error, not an inspection
  }
  return o.json ? inspection_json(r, o.model) : inspection_text(r);
}

}  // namespace onnx_mini::onnx_run
