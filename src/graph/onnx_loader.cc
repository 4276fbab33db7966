#include "graph/onnx_loader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string_view>

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
  file->drop_resident_pages();
  if (!graph.is_ok()) return graph.status().with_context(path + ": ");
  graph->source_path = path;
  return graph;
}

}  // namespace onnx_mini
