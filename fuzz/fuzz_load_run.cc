// libFuzzer target over the whole load-and-run pipeline, twice per input:
//  1. bytes -> ModelProto -> graph_from_model (no external data: empty base_dir);
//  2. the same bytes as a file (a memfd) through load_onnx_file, which maps the
//     file and scans its wire format to cut out large raw_data
//     (graph/model_mapping.*): a hand-written parser of untrusted bytes.
// Each graph then goes through Session -> two runs on generated inputs.
// Any Status error is a fine outcome; a crash, a sanitizer report, a hang or an
// out-of-memory is a bug.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "graph/onnx_loader.h"
#include "runtime/session.h"

namespace {

using namespace onnx_mini;

// Caps that keep one execution fast and small; the limits themselves are part
// of what is being tested (they must fail cleanly, not abort).
constexpr int64_t kMaxNodes = 4096;
constexpr int64_t kMaxMemory = int64_t{64} << 20;
constexpr int64_t kMaxLoopIterations = 4096;
constexpr int64_t kMaxInputElements = int64_t{1} << 16;

// Deterministic input values: small floats, small integers (valid as indices
// for tiny dims more often than random ones), alternating bools.
Tensor make_input(DataType dtype, const Shape& shape) {
  Tensor t = Tensor::allocate(dtype, shape);
  const int64_t n = t.num_elements();
  for (int64_t i = 0; i < n; ++i) {
    double v = static_cast<double>(i % 7) - 3.0;
    switch (dtype) {
      case DataType::kFloat: t.data<float>()[i] = static_cast<float>(v * 0.5); break;
      case DataType::kDouble: t.data<double>()[i] = v * 0.5; break;
      case DataType::kInt64: t.data<int64_t>()[i] = static_cast<int64_t>(v); break;
      case DataType::kInt32: t.data<int32_t>()[i] = static_cast<int32_t>(v); break;
      case DataType::kBool: t.data<bool>()[i] = (i & 1) != 0; break;
      default: break;  // zero-filled
    }
  }
  return t;
}

void run_graph(Result<Graph> graph) {
  if (!graph.is_ok()) return;
  SessionOptions so;
  so.threads = 1;
  so.max_memory_bytes = kMaxMemory;
  so.max_loop_iterations = kMaxLoopIterations;
  so.max_nodes = kMaxNodes;
  auto session = Session::from_graph(std::move(graph).value(), so);
  if (!session.is_ok()) return;
  Session& s = *session.value();

  std::vector<NamedTensor> inputs;
  int64_t total = 0;
  for (ValueId id : s.input_ids()) {
    const Value& v = s.value(id);
    if (v.initializer) continue;
    if (!v.info.has_shape || !dtype_is_supported(v.info.dtype)) return;
    Shape shape;
    for (const Dim& d : v.info.dims) shape.push_back(d.known() ? d.value : 1);
    auto n = checked_num_elements(shape);
    if (!n.is_ok()) return;
    total += n.value();
    if (total > kMaxInputElements) return;
    inputs.push_back({v.name, make_input(v.info.dtype, shape)});
  }
  auto out = s.run(inputs);
  (void)out;
  // A second run exercises buffer reuse across runs.
  auto again = s.run(inputs);
  (void)again;
}

// The file path, as onnx-run loads models. External data resolves inside
// /proc/self/fd, where every entry is a symbolic link: the loader refuses them all.
void load_as_file(const uint8_t* data, size_t size, const LoadOptions& lo) {
  int fd = memfd_create("fuzz_model", MFD_CLOEXEC);
  if (fd < 0) return;
  size_t done = 0;
  while (done < size) {
    ssize_t w = write(fd, data + done, size - done);
    if (w <= 0) break;
    done += static_cast<size_t>(w);
  }
  if (done == size) run_graph(load_onnx_file("/proc/self/fd/" + std::to_string(fd), lo));
  close(fd);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  LoadOptions lo;
  lo.max_nodes = kMaxNodes;
  onnx::ModelProto model;
  if (model.ParseFromArray(data, static_cast<int>(size))) run_graph(graph_from_model(model, "", lo));
  load_as_file(data, size, lo);
  return 0;
}
