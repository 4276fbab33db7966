#include "onnx_run/tensor_dumps.h"

#include <filesystem>
#include <unordered_map>

#include "core/atomic_file.h"
#include "core/printable.h"
#include "runtime/io/output_file_names.h"
#include "runtime/io/tensor_file.h"

namespace onnx_mini::onnx_run {
namespace fs = std::filesystem;

Status make_folder(const std::string& dir, const std::string& flag) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!ec && !fs::is_directory(dir, ec)) ec = std::make_error_code(std::errc::file_exists);
  if (!ec) return Status::ok();
  return Status(write_error_code(ec.value()), flag + " '" + dir + "': cannot create the folder: " + ec.message());
}

Result<std::vector<std::string>> write_tensor_folder(const std::string& dir, const std::string& flag,
                                                     const std::vector<std::string>& names,
                                                     const std::vector<const Tensor*>& tensors, const std::string& what) {
  OM_RETURN_IF_ERROR(make_folder(dir, flag));
  std::vector<std::string> paths;
  for (const std::string& file : unique_file_names(names, ".npy")) paths.push_back(dir + "/" + file);
  for (size_t i = 0; i < tensors.size(); ++i) {
    OM_RETURN_IF_ERROR(write_npy(paths[i], *tensors[i]).with_context(what + " " + quote(names[i]) + ": "));
  }
  return paths;
}

DumpObserver::DumpObserver(const Graph& g, std::string dir) : graph_(g), dir_(std::move(dir)) {
  std::vector<std::string> names;
  for (size_t i = 0; i < g.num_node_slots(); ++i) {
    const Node& n = g.node(static_cast<NodeId>(i));
    if (n.removed) continue;
    for (ValueId v : n.outputs) {
      if (v != kNoId) names.push_back(g.value(v).name);
    }
  }
  const std::vector<std::string> files = unique_file_names(names, ".npy");
  for (size_t i = 0; i < names.size(); ++i) file_of_[names[i]] = dir_ + "/" + files[i];
}

void DumpObserver::after_node(const Node& node, const std::vector<const Tensor*>& outputs, double) {
  if (!status_.is_ok()) return;
  for (size_t k = 0; k < outputs.size() && k < node.outputs.size(); ++k) {
    if (!outputs[k] || node.outputs[k] == kNoId) continue;
    const std::string& value = graph_.value(node.outputs[k]).name;
    const std::string& file = file_of_.at(value);
    status_ = write_npy(file, *outputs[k]).with_context("--dump-all: " + node.describe() + " output " + quote(value) + ": ");
    if (!status_.is_ok()) return;
    dumped_.push_back({value, node.name, node.op_type, file});
  }
}

}  // namespace onnx_mini::onnx_run
