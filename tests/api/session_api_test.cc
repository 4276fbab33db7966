// The public C++ API as an embedding program uses it: load from a file and from
// bytes, the model's metadata, runs into caller buffers, the observer, errors.
// The runtime's own Session is the reference: the API must give its outputs bit
// for bit (it runs the same kernels and copies the results out).
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <regex>

#include <gtest/gtest.h>

#include "onnx_mini/onnx_mini.h"
#include "runtime/io/tensor_file.h"
#include "runtime/session.h"

namespace {

namespace api = onnx_mini::api;

const std::string kModel = std::string(ONNX_MINI_SOURCE_DIR) + "/models/mlp_classifier/model.onnx";
const std::string kInput = std::string(ONNX_MINI_SOURCE_DIR) + "/models/mlp_classifier/test_data_set_0/input_0.pb";

std::string file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

api::SessionOptions with_threads(int threads, int opt_level = 1) {
  api::SessionOptions o;
  o.threads = threads;
  o.opt_level = opt_level;
  return o;
}

std::unique_ptr<api::Session> load(const api::SessionOptions& options = {}) {
  std::unique_ptr<api::Session> s;
  api::Status st = api::Session::load(kModel, options, s);
  EXPECT_TRUE(st.ok()) << st.message();
  return s;
}

TEST(ApiSession, VersionIsMajorMinorPatch) {
  EXPECT_TRUE(std::regex_match(api::version(), std::regex(R"(\d+\.\d+\.\d+)"))) << api::version();
}

TEST(ApiSession, ReportsTheModelsMetadataWithSymbolicDims) {
  auto s = load();
  ASSERT_TRUE(s);
  const api::ModelInfo& info = s->info();
  EXPECT_EQ(info.producer, "pytorch");
  EXPECT_EQ(info.ir_version, 7);
  EXPECT_EQ(info.opsets.at(""), 13);
  ASSERT_EQ(info.inputs.size(), 1u);
  EXPECT_EQ(info.inputs[0].name, "input");
  EXPECT_EQ(info.inputs[0].type, api::ElementType::kFloat);
  ASSERT_TRUE(info.inputs[0].has_shape);
  ASSERT_EQ(info.inputs[0].shape.size(), 2u);
  EXPECT_EQ(info.inputs[0].shape[0].value, -1);
  EXPECT_EQ(info.inputs[0].shape[0].symbol, "batch");
  EXPECT_EQ(info.inputs[0].shape[1].value, 784);
  ASSERT_EQ(info.outputs.size(), 1u);
  EXPECT_EQ(info.outputs[0].name, "probs");
  EXPECT_EQ(info.outputs[0].shape[1].value, 10);
}

TEST(ApiSession, RunsIntoTheCallersBufferWithTheRuntimesResults) {
  auto input = onnx_mini::read_tensor_file(kInput);
  ASSERT_TRUE(input.is_ok()) << input.status().message();
  onnx_mini::Tensor& x = input->tensor;
  auto reference_session = onnx_mini::Session::load(kModel);
  ASSERT_TRUE(reference_session.is_ok());
  auto reference = (*reference_session)->run({{"input", x}});
  ASSERT_TRUE(reference.is_ok());
  const onnx_mini::Tensor& want = reference.value()[0].tensor;

  for (bool from_bytes : {false, true}) {
    std::unique_ptr<api::Session> s;
    if (from_bytes) {
      std::string bytes = file_bytes(kModel);
      ASSERT_TRUE(api::Session::load_from_bytes(bytes.data(), bytes.size(), {}, s).ok());
    } else {
      s = load();
    }
    ASSERT_TRUE(s);
    std::vector<float> probs(static_cast<size_t>(want.num_elements()) + 5, -7.f);
    std::vector<api::TensorView> in{{"input", api::ElementType::kFloat, x.shape(), x.raw_data(), x.byte_size()}};
    std::vector<api::TensorView> out{{"probs", api::ElementType::kUndefined, {}, probs.data(), probs.size() * 4}};
    api::Status st = s->run(in, out);
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(out[0].type, api::ElementType::kFloat);
    EXPECT_EQ(out[0].shape, want.shape());
    EXPECT_EQ(std::memcmp(probs.data(), want.raw_data(), want.byte_size()), 0) << "from bytes: " << from_bytes;
    EXPECT_EQ(probs.back(), -7.f) << "nothing written past the output";
  }
}

TEST(ApiSession, LibraryOwnedOutputsOutliveLaterRuns) {
  auto s = load(with_threads(1));
  ASSERT_TRUE(s);
  std::vector<float> a(784, 0.5f), b(784, -0.5f);
  std::vector<api::OwnedTensor> first, second;
  ASSERT_TRUE(s->run({{"input", api::ElementType::kFloat, {1, 784}, a.data(), a.size() * 4}}, {}, first).ok());
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].name, "probs");
  EXPECT_EQ(first[0].shape, (std::vector<int64_t>{1, 10}));
  std::vector<float> kept(static_cast<const float*>(first[0].data), static_cast<const float*>(first[0].data) + 10);
  ASSERT_TRUE(s->run({{"input", api::ElementType::kFloat, {1, 784}, b.data(), b.size() * 4}}, {"probs"}, second).ok());
  EXPECT_EQ(std::memcmp(first[0].data, kept.data(), 40), 0) << "the first run's output was overwritten";
  EXPECT_NE(std::memcmp(second[0].data, kept.data(), 40), 0);
  std::vector<api::OwnedTensor> none;
  EXPECT_EQ(s->run({{"input", api::ElementType::kFloat, {1, 784}, a.data(), a.size() * 4}}, {"nope"}, none).code(),
            api::ErrorCode::kUsage);
}

TEST(ApiSession, CallsTheObserverAfterEveryNodeOfThatRun) {
  auto s = load(with_threads(1, 0));
  ASSERT_TRUE(s);
  std::vector<float> x(2 * 784, 0.25f), y(2 * 10);
  std::vector<api::TensorView> in{{"input", api::ElementType::kFloat, {2, 784}, x.data(), x.size() * 4}};
  std::vector<api::TensorView> out{{"probs", api::ElementType::kFloat, {}, y.data(), y.size() * 4}};
  std::vector<std::string> ops;
  std::vector<int64_t> last_shape;
  api::Status st = s->run(in, out, [&](const api::NodeEvent& e) {
    ops.push_back(e.op_type);
    ASSERT_EQ(e.outputs.size(), 1u);
    last_shape = e.outputs[0].shape;
    EXPECT_GE(e.seconds, 0.0);
  });
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(ops, (std::vector<std::string>{"Gemm", "Relu", "Gemm", "Relu", "Gemm", "Softmax"}));
  EXPECT_EQ(last_shape, (std::vector<int64_t>{2, 10}));
}

TEST(ApiSession, ErrorsCarryTheirCategoryAndSayWhat) {
  auto s = load();
  ASSERT_TRUE(s);
  std::vector<float> x(784, 0.f), y(10);
  std::vector<api::TensorView> in{{"input", api::ElementType::kFloat, {1, 784}, x.data(), x.size() * 4}};

  std::vector<api::TensorView> small{{"probs", api::ElementType::kFloat, {}, y.data(), 9 * 4}};
  api::Status st = s->run(in, small);
  EXPECT_EQ(st.code(), api::ErrorCode::kUsage);
  EXPECT_NE(st.message().find("needs 40"), std::string::npos) << st.message();

  std::vector<api::TensorView> unknown{{"logits", api::ElementType::kFloat, {}, y.data(), y.size() * 4}};
  st = s->run(in, unknown);
  EXPECT_EQ(st.code(), api::ErrorCode::kUsage);
  EXPECT_NE(st.message().find("'logits'"), std::string::npos) << st.message();

  std::vector<api::TensorView> out{{"probs", api::ElementType::kFloat, {}, y.data(), y.size() * 4}};
  std::vector<api::TensorView> wrong{{"input", api::ElementType::kFloat, {1, 783}, x.data(), 783 * 4}};
  st = s->run(wrong, out);
  EXPECT_EQ(st.code(), api::ErrorCode::kBadInput);
  EXPECT_NE(st.message().find("784"), std::string::npos) << st.message();

  std::unique_ptr<api::Session> none;
  const char junk[] = "not a model";
  st = api::Session::load_from_bytes(junk, sizeof junk, {}, none);
  EXPECT_EQ(st.code(), api::ErrorCode::kInvalidModel);
  EXPECT_FALSE(none);
  st = api::Session::load("/nonexistent/model.onnx", {}, none);
  EXPECT_NE(st.code(), api::ErrorCode::kOk);
  EXPECT_NE(st.message().find("/nonexistent/model.onnx"), std::string::npos) << st.message();
}

// scripted_control_flow halves x until its absolute sum is below 4, at most
// `steps` times: x = inf never gets there, so `steps` alone ends its Loop.
TEST(ApiSession, MaxLoopIterationsStopsALoopWhoseTripCountIsData) {
  const std::string model = std::string(ONNX_MINI_SOURCE_DIR) + "/models/scripted_control_flow/model.onnx";
  std::vector<float> x(3, std::numeric_limits<float>::infinity()), y(3);
  int64_t steps = 1000;
  std::vector<api::TensorView> in{{"x", api::ElementType::kFloat, {1, 3}, x.data(), x.size() * 4},
                                  {"steps", api::ElementType::kInt64, {}, &steps, sizeof steps}};
  std::vector<api::TensorView> out{{"y", api::ElementType::kFloat, {}, y.data(), y.size() * 4}};
  api::SessionOptions o;
  o.threads = 1;
  o.max_loop_iterations = 10;
  std::unique_ptr<api::Session> s;
  ASSERT_TRUE(api::Session::load(model, o, s).ok());
  api::Status st = s->run(in, out);
  EXPECT_EQ(st.code(), api::ErrorCode::kResourceLimit);
  EXPECT_NE(st.message().find("more than 10 subgraph runs"), std::string::npos) << st.message();
  o.max_loop_iterations = 2000;  // 1000 iterations with an If in each
  ASSERT_TRUE(api::Session::load(model, o, s).ok());
  st = s->run(in, out);
  EXPECT_TRUE(st.ok()) << st.message();
}

TEST(ApiSession, OptionsOutOfRangeAreUsageErrorsAtLoad) {
  const std::string model = std::string(ONNX_MINI_SOURCE_DIR) + "/models/mlp_classifier/model.onnx";
  const auto load_with = [&](const std::function<void(api::SessionOptions&)>& set) {
    api::SessionOptions o;
    set(o);
    std::unique_ptr<api::Session> s;
    api::Status st = api::Session::load(model, o, s);
    EXPECT_FALSE(s);
    return st;
  };
  const std::vector<std::pair<std::string, std::function<void(api::SessionOptions&)>>> cases = {
      {"threads", [](api::SessionOptions& o) { o.threads = -1; }},
      {"opt_level", [](api::SessionOptions& o) { o.opt_level = 3; }},
      {"max_memory_bytes", [](api::SessionOptions& o) { o.max_memory_bytes = 0; }},
      {"max_nodes", [](api::SessionOptions& o) { o.max_nodes = -5; }},
      {"max_loop_iterations", [](api::SessionOptions& o) { o.max_loop_iterations = -1; }},
  };
  for (const auto& [name, set] : cases) {
    api::Status st = load_with(set);
    EXPECT_EQ(st.code(), api::ErrorCode::kUsage) << name;
    EXPECT_NE(st.message().find(name), std::string::npos) << st.message();
  }
}

}  // namespace
