// --save-optimized: the optimized graph, written as ONNX (FusedGemm in the
// com.onnx_mini domain, declared in opset_import), loads and runs again with the
// same results, with passes off and on.
#include <cstdio>

#include "graph/onnx_loader.h"
#include "graph/onnx_writer.h"
#include "tests/testutil/graph_builder.h"

namespace onnx_mini::testing {
namespace {

// 8 -> 16 (Gemm+Relu) -> 12 (MatMul+Add+Tanh-free Relu) -> 4 (Gemm) -> Softmax.
Graph small_mlp() {
  GraphBuilder b(13);
  b.input_symbolic("X", {Dim{-1, "batch"}, Dim{8, ""}});
  b.initializer("W1", random_tensor({16, 8}, 1)).initializer("B1", random_tensor({16}, 2));
  b.initializer("W2", random_tensor({16, 12}, 3)).initializer("B2", random_tensor({12}, 4));
  b.initializer("W3", random_tensor({4, 12}, 5)).initializer("B3", random_tensor({4}, 6));
  b.node("Gemm", {"X", "W1", "B1"}, {"h1"}, {{"transB", int_attr(1)}}, "fc1");
  b.node("Relu", {"h1"}, {"a1"}, {}, "fc1/relu");
  b.node("MatMul", {"a1", "W2"}, {"m2"}, {}, "fc2/matmul");
  b.node("Add", {"m2", "B2"}, {"h2"}, {}, "fc2/add");
  b.node("Relu", {"h2"}, {"a2"}, {}, "fc2/relu");
  b.node("Gemm", {"a2", "W3", "B3"}, {"logits"}, {{"transB", int_attr(1)}}, "fc3");
  b.node("Softmax", {"logits"}, {"probs"}, {{"axis", int_attr(1)}}, "softmax");
  b.output("probs");
  return b.build();
}

std::string temp_path(const std::string& name) { return ::testing::TempDir() + "/" + name; }

TEST(SaveOptimized, ReloadsAndMatches) {
  Graph g = small_mlp();
  std::vector<NamedTensor> feeds = {{"X", random_tensor({5, 8}, 42)}};
  auto ref = run_graph(g, feeds, 0);

  SessionOptions opts;
  opts.verify_passes = true;
  auto optimized = Session::from_graph(g, opts);
  ASSERT_TRUE(optimized.is_ok()) << optimized.status().message();
  const Graph& og = optimized.value()->graph();
  // Two hidden layers with their Relu fused, and the output layer lowered to
  // FusedGemm without activation (LowerLinearToFusedGemm).
  EXPECT_EQ(count_ops(og, "FusedGemm"), 3);
  EXPECT_EQ(count_ops(og, "Gemm"), 0);
  EXPECT_EQ(count_ops(og, "Relu"), 0);
  const std::string path = temp_path("save_optimized_mlp.onnx");
  ASSERT_TRUE(save_onnx_file(og, path).is_ok());

  onnx::ModelProto model;
  graph_to_model(og, model);
  bool declares_domain = false;
  for (const auto& op : model.opset_import()) declares_domain |= op.domain() == kOnnxMiniDomain && op.version() == 1;
  EXPECT_TRUE(declares_domain) << "com.onnx_mini must be declared in opset_import";

  for (int level : {0, 1}) {
    SessionOptions lo;
    lo.opt_level = level;
    lo.verify_passes = true;
    auto reloaded = Session::load(path, lo);
    ASSERT_TRUE(reloaded.is_ok()) << reloaded.status().message();
    EXPECT_EQ(count_ops(reloaded.value()->graph(), "FusedGemm"), 3);
    auto out = reloaded.value()->run(feeds);
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    ASSERT_EQ(out.value().size(), 1u);
    // Float32, fused vs unfused rounding: see expect_same_with_and_without_passes.
    expect_close(out.value()[0].tensor, ref[0].tensor, {.atol = 1e-5, .rtol = 1e-4}, "probs");
  }
  std::remove(path.c_str());
}

TEST(SaveOptimized, ReferenceModelRoundTrip) {
  // The PyTorch-exported MLP + cross-entropy head (models/mlp_cross_entropy).
  // ONNX_MINI_SOURCE_DIR is defined for every test binary by onnx_mini_add_gtest.
  const std::string model = std::string(ONNX_MINI_SOURCE_DIR) + "/models/mlp_cross_entropy/model.onnx";
  SessionOptions opts;
  opts.verify_passes = true;
  auto s = Session::load(model, opts);
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  const std::string path = temp_path("save_optimized_mlp_ce.onnx");
  ASSERT_TRUE(save_onnx_file(s.value()->graph(), path).is_ok());
  auto again = Session::load(path, opts);
  ASSERT_TRUE(again.is_ok()) << again.status().message();
  EXPECT_EQ(count_ops(again.value()->graph(), "Relu"), 0);
  EXPECT_EQ(count_ops(again.value()->graph(), "FusedGemm"), 3);  // 2 with Relu, the output layer without

  std::vector<NamedTensor> feeds = {{"X", random_tensor({8, 20}, 5)}, {"labels", make_tensor<int64_t>({8}, {0, 1, 2, 3, 4, 0, 1, 2})}};
  SessionOptions o0;
  o0.opt_level = 0;
  auto plain = Session::load(model, o0);
  ASSERT_TRUE(plain.is_ok()) << plain.status().message();
  auto want = plain.value()->run(feeds);
  auto got = again.value()->run(feeds);
  ASSERT_TRUE(want.is_ok()) << want.status().message();
  ASSERT_TRUE(got.is_ok()) << got.status().message();
  ASSERT_EQ(want.value().size(), got.value().size());
  for (size_t i = 0; i < want.value().size(); ++i) {
    expect_close(got.value()[i].tensor, want.value()[i].tensor, {.atol = 1e-5, .rtol = 1e-4}, want.value()[i].name);
  }
  std::remove(path.c_str());
}

TEST(SaveOptimized, BatchedMatMulAddReluRoundTrip) {
  // [2, 3, 5] x [5, 6] + bias -> LeakyRelu: one N-D FusedGemm with activation_alpha.
  GraphBuilder b(13);
  b.input("X", DataType::kFloat, {2, 3, 5}).initializer("W", random_tensor({5, 6}, 1));
  b.initializer("bias", random_tensor({6}, 2));
  b.node("MatMul", {"X", "W"}, {"m"}, {}, "mm");
  b.node("Add", {"m", "bias"}, {"z"}, {}, "add");
  b.node("LeakyRelu", {"z"}, {"Y"}, {{"alpha", float_attr(0.3f)}}, "act");
  b.output("Y");
  Graph g = b.build();
  std::vector<NamedTensor> feeds = {{"X", random_tensor({2, 3, 5}, 3)}};
  auto ref = run_graph(g, feeds, 0);
  SessionOptions opts;
  opts.verify_passes = true;
  auto optimized = Session::from_graph(g, opts);
  ASSERT_TRUE(optimized.is_ok()) << optimized.status().message();
  ASSERT_EQ(optimized.value()->graph().num_live_nodes(), 1u);
  const std::string path = temp_path("save_optimized_nd.onnx");
  ASSERT_TRUE(save_onnx_file(optimized.value()->graph(), path).is_ok());
  auto reloaded = Session::load(path, opts);
  ASSERT_TRUE(reloaded.is_ok()) << reloaded.status().message();
  auto out = reloaded.value()->run(feeds);
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  expect_close(out.value()[0].tensor, ref[0].tensor, {.atol = 1e-5, .rtol = 1e-4}, "Y");  // fused vs unfused rounding, as above
  std::remove(path.c_str());
}

}  // namespace
}  // namespace onnx_mini::testing
