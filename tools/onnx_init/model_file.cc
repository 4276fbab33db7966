#include "onnx_init/model_file.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <limits>

#include "core/atomic_file.h"
#include "core/regular_file.h"
#include "graph/name_limits.h"
#include "graph/onnx_loader.h"

namespace onnx_mini::init {

Result<onnx::ModelProto> read_model_file(const std::string& path) {
  OM_ASSIGN_OR_RETURN(const std::string data, read_regular_file(path, LoadOptions{}.max_file_bytes));
  if (data.empty()) return invalid_model(path + ": file is empty");
  if (data.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return invalid_model(path + ": larger than protobuf's 2 GiB limit");
  }
  onnx::ModelProto model;
  if (!model.ParseFromString(data)) return invalid_model(path + ": not a valid ONNX ModelProto");
  OM_RETURN_IF_ERROR(check_name_lengths(model).with_context(path + ": "));
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

}  // namespace

Status write_model_file_atomically(const onnx::ModelProto& model, const std::string& path) {
  if (path.empty()) return usage_error("output path is empty");
  OM_ASSIGN_OR_RETURN(const std::string bytes, serialize_deterministically(model));
  return write_file_atomically(path, bytes, {.durable = true});
}

}  // namespace onnx_mini::init
