#include "onnx_init/model_file.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

namespace onnx_mini::init {

Result<onnx::ModelProto> read_model_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return usage_error("cannot open model '" + path + "': " + std::strerror(errno));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  const std::string data = bytes.str();
  if (data.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return invalid_model("model '" + path + "' is larger than protobuf's 2 GiB limit");
  }
  onnx::ModelProto model;
  if (!model.ParseFromString(data)) return invalid_model("'" + path + "' is not a valid ONNX ModelProto");
  return model;
}

namespace {

Result<std::string> serialize_deterministically(const onnx::ModelProto& model) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    if (!model.SerializeToCodedStream(&coded)) {
      return internal_error("protobuf failed to serialize the model (larger than 2 GiB?)");
    }
  }  // the CodedOutputStream flushes into `bytes` when destroyed
  return bytes;
}

std::string folder_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

Status write_all(int fd, const std::string& bytes) {
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return usage_error(std::string("write failed: ") + std::strerror(errno));
    written += static_cast<size_t>(n);
  }
  return Status::ok();
}

}  // namespace

Status write_model_file_atomically(const onnx::ModelProto& model, const std::string& path) {
  if (path.empty()) return usage_error("output path is empty");
  OM_ASSIGN_OR_RETURN(const std::string bytes, serialize_deterministically(model));

  const std::string folder = folder_of(path);
  std::string temp = (folder == "/" ? "" : folder) + "/.onnx-init-XXXXXX";
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) {
    return usage_error("cannot write '" + path + "': cannot create a file in '" + folder +
                       "': " + std::strerror(errno));
  }
  // mkstemp creates 0600; give the model the usual permissions.
  const mode_t umask_value = ::umask(0);
  ::umask(umask_value);
  ::fchmod(fd, 0666 & ~umask_value);

  Status status = write_all(fd, bytes);
  if (status.is_ok() && ::fsync(fd) != 0) status = usage_error(std::string("fsync failed: ") + std::strerror(errno));
  if (::close(fd) != 0 && status.is_ok()) status = usage_error(std::string("close failed: ") + std::strerror(errno));
  if (status.is_ok() && std::rename(temp.c_str(), path.c_str()) != 0) {
    status = usage_error(std::string("rename failed: ") + std::strerror(errno));
  }
  if (!status.is_ok()) {
    ::unlink(temp.c_str());  // nothing half-written stays behind
    return status.with_context("cannot write '" + path + "': ");
  }
  return Status::ok();
}

}  // namespace onnx_mini::init
