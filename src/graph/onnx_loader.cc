#include "graph/onnx_loader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <set>
#include <string_view>

#include "graph/model_mapping.h"
#include "graph/tensor_proto.h"

namespace onnx_mini {
namespace {

std::string normalize_domain(const std::string& d) { return d == "ai.onnx" ? "" : d; }

std::string domain_label(const std::string& d) { return d.empty() ? "ai.onnx" : d; }

// "1", "2 to 3"
std::string count_range(int lo, int hi) {
  return lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi);
}

// A helpful word for files that are clearly not ONNX models.
std::string sniff_format(std::string_view bytes) {
  auto starts = [&](const char* magic, size_t n) { return bytes.size() >= n && std::memcmp(bytes.data(), magic, n) == 0; };
  if (starts("PK\x03\x04", 4)) {
    return "; it is a ZIP archive (a PyTorch checkpoint .pt/.pth?): export the model with torch.onnx.export";
  }
  if (starts("\x89PNG", 4)) return "; it is a PNG image";
  if (starts("\x80\x02", 2) || starts("\x80\x04", 2)) return "; it looks like a Python pickle: export the model with torch.onnx.export";
  if (starts("{", 1)) return "; it looks like JSON text";
  // A tensor file (input_0.pb) given where a model belongs: it parses as a
  // TensorProto with a valid data type.
  onnx::TensorProto tensor;
  if (bytes.size() <= INT32_MAX && tensor.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) && tensor.data_type() > 0 && tensor.data_type() <= 16 &&
      (tensor.dims_size() || tensor.has_raw_data())) {
    return "; it is a TensorProto (a tensor .pb file, such as test data), not a model";
  }
  return "";
}

// libprotobuf's default limit on nested messages (CodedInputStream's recursion limit).
constexpr int kProtobufRecursionLimit = 100;

// Why protobuf refused the file, as far as we can tell (libprotobuf does not
// say): another format, too deep nesting, or where the bytes stop being protobuf.
std::string parse_failure_hint(const MappedFile& file) {
  std::string_view bytes(file.data, file.size);
  std::string format = sniff_format(bytes);
  if (!format.empty()) return format;
  NestingDepth depth = subgraph_nesting_depth(file.data, file.size);
  if (depth.messages > kProtobufRecursionLimit) {
    return ": its graphs nest " + std::to_string(depth.graphs) + " deep through subgraph attributes (If/Loop/Scan bodies), " +
           std::to_string(depth.messages) + " protobuf messages on one path, past libprotobuf's limit of " +
           std::to_string(kProtobufRecursionLimit) + " nested messages; onnx-mini does not run subgraph ops anyway: " +
           "export the model without control flow";
  }
  MalformedField bad = first_malformed_field(file.data, file.size);
  if (bad.offset >= 0 && bad.runs_past_end) {
    return ": the file ends inside the field that starts at byte " + std::to_string(bad.offset) + " (the file has " +
           std::to_string(file.size) + " bytes): it is truncated";
  }
  if (bad.offset >= 0) {
    return ": the field at byte " + std::to_string(bad.offset) + " of " + std::to_string(file.size) +
           " is not well-formed protobuf (a corrupted file?)";
  }
  return ": its top-level fields are well-formed, so a nested message is corrupted or nested too deep, or a string is not valid UTF-8";
}

Result<Attribute> convert_attribute(onnx::AttributeProto& a, const std::string& base_dir, const std::string& where) {
  Attribute out;
  using AP = onnx::AttributeProto;
  AP::AttributeType type = a.type();
  if (type == AP::UNDEFINED) {  // very old models: infer from the field that is set
    if (a.has_f()) type = AP::FLOAT;
    else if (a.has_i()) type = AP::INT;
    else if (a.has_s()) type = AP::STRING;
    else if (a.has_t()) type = AP::TENSOR;
    else if (a.floats_size()) type = AP::FLOATS;
    else if (a.ints_size()) type = AP::INTS;
    else if (a.strings_size()) type = AP::STRINGS;
  }
  switch (type) {
    case AP::FLOAT: out.kind = Attribute::Kind::kFloat; out.f = a.f(); break;
    case AP::INT: out.kind = Attribute::Kind::kInt; out.i = a.i(); break;
    case AP::STRING: out.kind = Attribute::Kind::kString; out.s = a.s(); break;
    case AP::FLOATS: out.kind = Attribute::Kind::kFloats; out.floats.assign(a.floats().begin(), a.floats().end()); break;
    case AP::INTS: out.kind = Attribute::Kind::kInts; out.ints.assign(a.ints().begin(), a.ints().end()); break;
    case AP::STRINGS: out.kind = Attribute::Kind::kStrings; out.strings.assign(a.strings().begin(), a.strings().end()); break;
    case AP::TENSOR: {
      out.kind = Attribute::Kind::kTensor;
      OM_ASSIGN_OR_RETURN(out.t, tensor_from_proto(*a.mutable_t(), TensorSource{base_dir, where + " attribute '" + a.name() + "'"}));
      break;
    }
    case AP::GRAPH: case AP::GRAPHS: out.kind = Attribute::Kind::kGraph; break;
    default: out.kind = Attribute::Kind::kOther; break;
  }
  return out;
}

Result<TensorInfo> convert_type(const onnx::TypeProto& type, const std::string& what) {
  TensorInfo info;
  if (!type.has_tensor_type()) {
    if (type.value_case() == onnx::TypeProto::VALUE_NOT_SET) return info;  // unknown
    return unsupported(what + ": only tensor types are supported (not sequences, maps or optionals)");
  }
  const auto& tt = type.tensor_type();
  info.dtype = dtype_from_onnx(tt.elem_type());
  if (tt.elem_type() != 0 && !dtype_is_supported(info.dtype)) {
    return unsupported(what + ": dtype " + dtype_name(dtype_from_onnx(tt.elem_type())) + " is not supported");
  }
  if (tt.has_shape()) {
    info.has_shape = true;
    for (const auto& d : tt.shape().dim()) {
      Dim dim;
      if (d.has_dim_value()) {
        if (d.dim_value() < 0) return invalid_model(what + ": negative dimension " + std::to_string(d.dim_value()));
        dim.value = d.dim_value();
      } else if (d.has_dim_param()) {
        dim.param = d.dim_param();
      }
      info.dims.push_back(dim);
    }
    OM_RETURN_IF_ERROR(check_known_dims(info).with_context(what + ": "));
  }
  return info;
}

}  // namespace

namespace {

// The checks every file we read goes through: a regular file (directories, FIFOs
// and devices are refused, and were opened with O_NONBLOCK so nothing blocked)
// no larger than the limit.
Status check_regular_file(int fd, const std::string& path, int64_t max_bytes, struct stat& st) {
  if (fstat(fd, &st) != 0) return usage_error(path + ": cannot stat: " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) {
    const char* kind = S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISSOCK(st.st_mode) ? "a socket"
                       : (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) ? "a device" : "a special file";
    return usage_error(path + ": is " + kind + ", not a regular file");
  }
  if (st.st_size > max_bytes) {
    return resource_limit(path + ": file is " + std::to_string(st.st_size) + " bytes, above the limit of " + std::to_string(max_bytes));
  }
  return Status::ok();
}

}  // namespace

Result<std::string> read_regular_file(const std::string& path, int64_t max_bytes) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer.
  int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return usage_error(path + ": cannot open: " + std::strerror(errno));
  struct stat st;
  Status checked = check_regular_file(fd, path, max_bytes, st);
  if (!checked.is_ok()) {
    close(fd);
    return checked;
  }
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t r = read(fd, bytes.data() + done, bytes.size() - done);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    done += static_cast<size_t>(r);
  }
  close(fd);
  bytes.resize(done);
  return bytes;
}

// Opens and maps a regular file read-only (directories, FIFOs and devices refused
// without blocking).
Result<std::shared_ptr<MappedFile>> map_regular_file(const std::string& path, int64_t max_bytes) {
  auto file = std::make_shared<MappedFile>();
  // O_NONBLOCK: opening a FIFO must not wait for a writer.
  file->fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (file->fd < 0) return usage_error(path + ": cannot open: " + std::strerror(errno));
  struct stat st;
  OM_RETURN_IF_ERROR(check_regular_file(file->fd, path, max_bytes, st));
  if (st.st_size == 0) return file;
  void* addr = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, file->fd, 0);
  if (addr == MAP_FAILED) return usage_error(path + ": cannot map: " + std::strerror(errno));
  file->data = static_cast<const char*>(addr);
  file->size = static_cast<size_t>(st.st_size);
  return file;
}

// Payloads below this stay in the parsed message: cutting them out saves little.
constexpr size_t kMinMappedRawBytes = 4096;

Result<Graph> load_onnx_file(const std::string& path, const LoadOptions& options) {
  OM_ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> file, map_regular_file(path, options.max_file_bytes));
  if (file->size == 0) return invalid_model(path + ": file is empty");
  // Parse a copy without the large weights (they are used from the mapping),
  // or, when the scanner declines, the whole mapped file.
  std::optional<StrippedModel> stripped = strip_large_raw_data(file, kMinMappedRawBytes);
  onnx::ModelProto model;
  bool parsed = stripped ? model.ParseFromString(stripped->bytes)
                         : model.ParseFromArray(file->data, static_cast<int>(std::min<size_t>(file->size, INT32_MAX)));
  if (!parsed) return invalid_model(path + ": not a valid ONNX model (protobuf parse failed)" + parse_failure_hint(*file));
  if (stripped) {
    stripped->bytes.clear();
    stripped->bytes.shrink_to_fit();
  }
  std::string base_dir = ".";
  size_t slash = path.rfind('/');
  if (slash != std::string::npos) base_dir = slash == 0 ? "/" : path.substr(0, slash);
  auto graph = graph_from_model(model, base_dir, options, stripped ? &stripped->initializer_raw : nullptr);
  file->close_fd();
  if (!graph.is_ok()) return graph.status().with_context(path + ": ");
  graph->source_path = path;
  return graph;
}

Result<Graph> graph_from_model(onnx::ModelProto& model, const std::string& base_dir, const LoadOptions& options,
                               const std::vector<std::optional<MappedRawData>>* initializer_raw) {
  const OpRegistry& registry = options.registry ? *options.registry : default_registry();
  if (!model.has_graph()) return invalid_model("the file has no graph: not an ONNX model (a TensorProto or other message?)");
  if (model.ir_version() <= 0) return invalid_model("missing ir_version");
  if (model.opset_import_size() == 0) return invalid_model("no opset_import: the model does not say which opset it uses");

  Graph g;
  g.ir_version = model.ir_version();
  g.producer_name = model.producer_name();
  onnx::GraphProto& gp = *model.mutable_graph();
  g.name = gp.name();
  for (const auto& op : model.opset_import()) {
    std::string domain = normalize_domain(op.domain());
    if (g.opset_imports().count(domain)) return invalid_model("opset_import lists domain '" + domain_label(domain) + "' twice");
    // The field is int64; a value past int would wrap to a plausible opset (2^32 + 13 -> 13).
    if (op.version() < 0 || op.version() > 1'000'000) {
      return unsupported("opset_import: domain '" + domain_label(domain) + "' version " + std::to_string(op.version()) + " is not supported");
    }
    g.opset_imports()[domain] = static_cast<int>(op.version());
  }
  if (gp.node_size() > options.max_nodes) {
    return resource_limit("the graph has " + std::to_string(gp.node_size()) + " nodes, above the limit of " + std::to_string(options.max_nodes));
  }

  // Initializers.
  for (int i = 0; i < gp.initializer_size(); ++i) {
    onnx::TensorProto& init = *gp.mutable_initializer(i);
    if (init.name().empty()) return invalid_model("an initializer has no name");
    if (g.find_value(init.name()) != kNoId) return invalid_model("initializer '" + init.name() + "' is defined twice");
    ValueId v = g.add_value(init.name());
    const MappedRawData* mapped = nullptr;
    if (initializer_raw && static_cast<size_t>(i) < initializer_raw->size() && (*initializer_raw)[static_cast<size_t>(i)]) {
      mapped = &*(*initializer_raw)[static_cast<size_t>(i)];
    }
    OM_ASSIGN_OR_RETURN(Tensor t, tensor_from_proto(init, TensorSource{base_dir, "initializer '" + init.name() + "'", mapped}));
    g.value(v).info = TensorInfo::of(t.dtype(), t.shape());
    g.value(v).initializer = std::move(t);
  }
  if (gp.sparse_initializer_size()) return unsupported("sparse initializers are not supported");

  // Graph inputs (an input that is also an initializer is an overridable default).
  std::set<std::string> input_names;
  for (const auto& in : gp.input()) {
    if (in.name().empty()) return invalid_model("a graph input has no name");
    if (!input_names.insert(in.name()).second) return invalid_model("graph input '" + in.name() + "' is listed twice");
    OM_ASSIGN_OR_RETURN(TensorInfo info, convert_type(in.type(), "graph input '" + in.name() + "'"));
    ValueId v = g.find_value(in.name());
    if (v == kNoId) {
      v = g.add_value(in.name());
      g.value(v).info = info;
    } else if (info.dtype != DataType::kUndefined && info.dtype != g.value(v).info.dtype) {
      return invalid_model("graph input '" + in.name() + "' is declared " + dtype_name(info.dtype) + " but its initializer is " + dtype_name(g.value(v).info.dtype));
    }
    g.value(v).is_graph_input = true;
    g.inputs().push_back(v);
  }

  // Node outputs first, so inputs can refer to any node (cycles are found by the sort).
  std::vector<Node> nodes(static_cast<size_t>(gp.node_size()));
  for (int i = 0; i < gp.node_size(); ++i) {
    const auto& np = gp.node(i);
    Node& n = nodes[static_cast<size_t>(i)];
    n.name = np.name();
    n.op_type = np.op_type();
    n.domain = normalize_domain(np.domain());
    for (const auto& out : np.output()) {
      if (out.empty()) {
        n.outputs.push_back(kNoId);
        continue;
      }
      ValueId existing = g.find_value(out);
      if (existing != kNoId) {
        const Value& e = g.value(existing);
        std::string other = e.producer != kNoId ? "another node" : e.initializer ? "an initializer" : "a graph input";
        return invalid_model(n.describe() + ": output '" + out + "' is already produced by " + other);
      }
      ValueId v = g.add_value(out);
      g.value(v).producer = static_cast<NodeId>(i);  // provisional; add_node rewires
      n.outputs.push_back(v);
    }
  }
  for (const auto& vi : gp.value_info()) {
    ValueId v = g.find_value(vi.name());
    if (v == kNoId || g.value(v).producer == kNoId) continue;  // info about nothing we compute: ignore
    OM_ASSIGN_OR_RETURN(g.value(v).info, convert_type(vi.type(), "value_info '" + vi.name() + "'"));
  }

  // Inputs, attributes and the support check (every unsupported node listed at once).
  std::string unsupported_list;
  int unsupported_count = 0;
  for (int i = 0; i < gp.node_size(); ++i) {
    auto& np = *gp.mutable_node(i);
    Node& n = nodes[static_cast<size_t>(i)];
    for (const auto& in : np.input()) {
      if (in.empty()) {
        n.inputs.push_back(kNoId);
        continue;
      }
      ValueId v = g.find_value(in);
      if (v == kNoId) return invalid_model(n.describe() + ": input '" + in + "' is not defined by any node, initializer or graph input");
      n.inputs.push_back(v);
    }
    for (auto& a : *np.mutable_attribute()) {
      if (n.attrs.has(a.name())) return invalid_model(n.describe() + ": attribute '" + a.name() + "' is given twice");
      OM_ASSIGN_OR_RETURN(Attribute attr, convert_attribute(a, base_dir, n.describe()));
      n.attrs.set(a.name(), std::move(attr));
    }
    auto imported = g.opset_imports().find(n.domain);
    std::string why;
    if (imported == g.opset_imports().end()) {
      why = "domain '" + domain_label(n.domain) + "' is not in opset_import";
    } else {
      n.opset = imported->second;
      if (n.domain.empty() && (n.opset < kMinOnnxOpset || n.opset > kMaxOnnxOpset)) {
        why = "ai.onnx opset " + std::to_string(n.opset) + " is not supported (onnx-mini runs opsets " +
              std::to_string(kMinOnnxOpset) + " to " + std::to_string(kMaxOnnxOpset) + ")";
      } else if (!n.domain.empty() && n.domain != kOnnxMiniDomain) {
        why = "domain '" + n.domain + "' is not supported";
      } else if (!registry.knows(n.op_type, n.domain)) {
        why = "unknown op";
      } else {
        n.def = registry.find(n.op_type, n.domain, n.opset);
        if (!n.def) why = "not defined at opset " + std::to_string(n.opset) + " (onnx-mini implements a later version)";
      }
    }
    if (!why.empty()) {
      ++unsupported_count;
      unsupported_list += "\n  " + n.op_type + " (domain " + domain_label(n.domain) + ", opset " + std::to_string(n.opset) + ") in " + n.describe() + ": " + why;
    }
  }
  if (unsupported_count) {
    return unsupported(std::to_string(unsupported_count) + " node(s) cannot run:" + unsupported_list);
  }

  // Arity and attribute names against the definition.
  for (Node& n : nodes) {
    const OpDef& d = *n.def;
    int nin = static_cast<int>(n.inputs.size()), nout = static_cast<int>(n.outputs.size());
    while (nin > 0 && n.inputs[static_cast<size_t>(nin - 1)] == kNoId) --nin;  // trailing absent optionals
    if (nin < d.min_inputs || static_cast<int>(n.inputs.size()) > d.max_inputs) {
      return invalid_model(n.describe() + ": has " + std::to_string(n.inputs.size()) + " inputs, expected " + count_range(d.min_inputs, d.max_inputs));
    }
    for (int i = 0; i < d.min_inputs; ++i) {
      if (n.inputs[static_cast<size_t>(i)] == kNoId) return invalid_model(n.describe() + ": required input " + std::to_string(i) + " is empty");
    }
    if (nout < d.min_outputs || nout > d.max_outputs) {
      return invalid_model(n.describe() + ": has " + std::to_string(nout) + " outputs, expected " + count_range(d.min_outputs, d.max_outputs));
    }
    for (const auto& [name, a] : n.attrs.all()) {
      bool known = false;
      for (const std::string& allowed : d.attributes) known = known || allowed == name;
      if (!known) return invalid_model(n.describe() + ": unknown attribute '" + name + "'");
      if (a.kind == Attribute::Kind::kGraph) return unsupported(n.describe() + ": subgraph attributes are not supported");
    }
  }
  for (Node& n : nodes) g.add_node(std::move(n));

  // Graph outputs.
  std::set<std::string> output_names;
  for (const auto& out : gp.output()) {
    ValueId v = g.find_value(out.name());
    if (v == kNoId) return invalid_model("graph output '" + out.name() + "' is never produced");
    if (!output_names.insert(out.name()).second) return invalid_model("graph output '" + out.name() + "' is listed twice");
    OM_ASSIGN_OR_RETURN(TensorInfo declared, convert_type(out.type(), "graph output '" + out.name() + "'"));
    Value& val = g.value(v);
    if (val.producer != kNoId && val.info.dtype == DataType::kUndefined) val.info = declared;
    val.is_graph_output = true;
    g.outputs().push_back(v);
  }
  if (g.outputs().empty()) return invalid_model("the graph has no outputs");

  OM_RETURN_IF_ERROR(g.topological_order().status());
  OM_RETURN_IF_ERROR(infer_shapes(g));
  return g;
}

}  // namespace onnx_mini
