#include "graph/onnx_loader.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string_view>

#include "core/regular_file.h"
#include "graph/model_mapping.h"

namespace onnx_mini {
namespace {

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
           std::to_string(kProtobufRecursionLimit) + " nested messages; onnx-mini runs subgraphs nested at most " +
           std::to_string(kMaxSubgraphDepth) + " deep";
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

}  // namespace

// Opens and maps a regular file read-only (directories, FIFOs and devices refused
// without blocking, by the reader every model file goes through).
Result<std::shared_ptr<MappedFile>> map_regular_file(const std::string& path, int64_t max_bytes) {
  OM_ASSIGN_OR_RETURN(OpenRegularFile opened, open_regular_file(path, max_bytes));
  auto file = std::make_shared<MappedFile>();
  file->fd = opened.fd.release();
  if (opened.size == 0) return file;
  void* addr = mmap(nullptr, static_cast<size_t>(opened.size), PROT_READ, MAP_PRIVATE, file->fd, 0);
  if (addr == MAP_FAILED) return usage_error(path + ": cannot map: " + std::strerror(errno));
  file->data = static_cast<const char*>(addr);
  file->size = static_cast<size_t>(opened.size);
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
  file->drop_resident_pages();
  if (!graph.is_ok()) return graph.status().with_context(path + ": ");
  graph->source_path = path;
  return graph;
}

}  // namespace onnx_mini
