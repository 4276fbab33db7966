// libFuzzer target over the whole load-and-run pipeline: bytes -> ModelProto ->
// graph_from_model (no external data: empty base_dir) -> Session -> run on
// generated inputs. Any Status error is a fine outcome; a crash, a sanitizer
// report, a hang or an out-of-memory is a bug.
#include <cstddef>
#include <cstdint>
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  onnx::ModelProto model;
  if (!model.ParseFromArray(data, static_cast<int>(size))) return 0;
  LoadOptions lo;
  lo.max_nodes = kMaxNodes;
  auto graph = graph_from_model(model, "", lo);
  if (!graph.is_ok()) return 0;
  SessionOptions so;
  so.threads = 1;
  so.max_memory_bytes = kMaxMemory;
  so.max_nodes = kMaxNodes;
  auto session = Session::from_graph(std::move(graph).value(), so);
  if (!session.is_ok()) return 0;
  Session& s = *session.value();

  std::vector<NamedTensor> inputs;
  int64_t total = 0;
  for (ValueId id : s.input_ids()) {
    const Value& v = s.value(id);
    if (v.initializer) continue;
    if (!v.info.has_shape || !dtype_is_supported(v.info.dtype)) return 0;
    Shape shape;
    for (const Dim& d : v.info.dims) shape.push_back(d.known() ? d.value : 1);
    auto n = checked_num_elements(shape);
    if (!n.is_ok()) return 0;
    total += n.value();
    if (total > kMaxInputElements) return 0;
    inputs.push_back({v.name, make_input(v.info.dtype, shape)});
  }
  auto out = s.run(inputs);
  (void)out;
  // A second run exercises buffer reuse across runs.
  auto again = s.run(inputs);
  (void)again;
  return 0;
}
