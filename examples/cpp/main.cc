// onnx-mini from C++: load the model named on the command line, print what it
// declares, run it on generated inputs, print the outputs.
//   onnx_mini_cpp_example MODEL.onnx [BATCH]
// Symbolic and unknown dimensions take BATCH (default 1). Float inputs hold
// (i % 17 - 8) / 8 at flat index i (exact in float, so another program can
// feed the very same values); integer inputs hold i % 3.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "onnx_mini/onnx_mini.h"

namespace api = onnx_mini::api;

namespace {

std::string shape_text(const api::ValueInfo& value) {
  if (!value.has_shape) return "[?]";
  std::string text = "[";
  for (size_t d = 0; d < value.shape.size(); ++d) {
    const api::Dimension& dim = value.shape[d];
    if (d > 0) text += ", ";
    text += dim.value >= 0 ? std::to_string(dim.value) : (dim.symbol.empty() ? "?" : dim.symbol);
  }
  return text + "]";
}

void print_model(const api::Session& session) {
  const api::ModelInfo& info = session.info();
  std::printf("onnx-mini %s\nproducer: %s\n", api::version(), info.producer.c_str());
  for (const api::ValueInfo& v : info.inputs)
    std::printf("input:  %s %s%s\n", v.name.c_str(), api::element_type_name(v.type), shape_text(v).c_str());
  for (const api::ValueInfo& v : info.outputs)
    std::printf("output: %s %s%s\n", v.name.c_str(), api::element_type_name(v.type), shape_text(v).c_str());
}

// One generated input: its bytes and the view run() reads.
struct Input {
  std::vector<unsigned char> bytes;
  api::TensorView view;
};

template <typename T>
void fill(std::vector<unsigned char>& bytes, int64_t count, T (*value)(int64_t)) {
  bytes.resize(static_cast<size_t>(count) * sizeof(T));
  for (int64_t i = 0; i < count; ++i) {
    T v = value(i);
    std::memcpy(bytes.data() + i * sizeof(T), &v, sizeof(T));
  }
}

float float_value(int64_t i) { return static_cast<float>(i % 17 - 8) / 8.0f; }
int64_t int64_value(int64_t i) { return i % 3; }
int32_t int32_value(int64_t i) { return static_cast<int32_t>(i % 3); }

bool make_input(const api::ValueInfo& info, int64_t batch, Input& input) {
  input.view.name = info.name;
  input.view.type = info.type;
  int64_t count = 1;
  for (const api::Dimension& dim : info.shape) {
    input.view.shape.push_back(dim.value >= 0 ? dim.value : batch);
    count *= input.view.shape.back();
  }
  switch (info.type) {
    case api::ElementType::kFloat: fill(input.bytes, count, float_value); break;
    case api::ElementType::kInt64: fill(input.bytes, count, int64_value); break;
    case api::ElementType::kInt32: fill(input.bytes, count, int32_value); break;
    default:
      std::fprintf(stderr, "input '%s': this example generates float, int64 and int32 inputs only, not %s\n",
                   info.name.c_str(), api::element_type_name(info.type));
      return false;
  }
  input.view.data = input.bytes.data();
  input.view.capacity_bytes = input.bytes.size();
  return true;
}

void print_output(const api::OwnedTensor& out) {
  std::string shape;
  for (int64_t d : out.shape) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
  std::printf("%s %s[%s]:", out.name.c_str(), api::element_type_name(out.type), shape.c_str());
  const int64_t shown = out.num_elements() < 32 ? out.num_elements() : 32;
  for (int64_t i = 0; i < shown; ++i) {
    if (out.type == api::ElementType::kFloat)
      std::printf(" %.9g", static_cast<const float*>(out.data)[i]);
    else if (out.type == api::ElementType::kInt64)
      std::printf(" %lld", static_cast<long long>(static_cast<const int64_t*>(out.data)[i]));
    else
      break;
  }
  if (shown < out.num_elements()) std::printf(" ... (%lld values)", static_cast<long long>(out.num_elements()));
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: %s MODEL.onnx [BATCH]\n", argv[0]);
    return 2;
  }
  const int64_t batch = argc == 3 ? std::atoll(argv[2]) : 1;
  if (batch < 1) {
    std::fprintf(stderr, "BATCH must be a positive integer, got '%s'\n", argv[2]);
    return 2;
  }
  api::SessionOptions options;
  options.threads = 1;  // the caller's thread only
  std::unique_ptr<api::Session> session;
  api::Status status = api::Session::load(argv[1], options, session);
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.message().c_str());
    return static_cast<int>(status.code());
  }
  print_model(*session);

  std::vector<Input> inputs(session->info().inputs.size());
  std::vector<api::TensorView> views;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!make_input(session->info().inputs[i], batch, inputs[i])) return 4;
    views.push_back(inputs[i].view);
  }
  std::vector<api::OwnedTensor> outputs;  // every output, in the library's buffers
  status = session->run(views, {}, outputs);
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.message().c_str());
    return static_cast<int>(status.code());
  }
  for (const api::OwnedTensor& out : outputs) print_output(out);
  return 0;
}
