// FoldBatchNormalization: a constant inference-mode BatchNormalization after a
// Conv or a Gemm disappears into the producer's weight and bias. The folded
// graph is checked against the unfolded producer's output with BatchNorm's
// formula applied in double, and against the whole unfolded graph run with
// passes off; the cases that must not fold (training mode, a fed weight or
// fed statistics, an intermediate that is a graph output or has a second
// reader) keep the node and still compute the same values.
#include <cmath>

#include "tests/testutil/attribute_values.h"
#include "tests/testutil/graph_builder.h"

namespace onnx_mini::testing {
namespace {

constexpr float kEpsilon = 1e-3f;

struct BatchNormParams {
  Tensor scale, shift, mean, var;
};

BatchNormParams params(int64_t channels) {
  BatchNormParams p{random_tensor({channels}, 11), random_tensor({channels}, 12), random_tensor({channels}, 13),
                    random_tensor({channels}, 14)};
  for (int64_t c = 0; c < channels; ++c) p.var.data<float>()[c] = std::abs(p.var.data<float>()[c]) + 0.5f;
  return p;
}

void add_params(GraphBuilder& b, const BatchNormParams& p) {
  b.initializer("scale", p.scale).initializer("shift", p.shift).initializer("mean", p.mean).initializer("var", p.var);
}

// The producer node (writing "y") is already in `b`; adds y -> BN -> "Y".
void add_batch_norm(GraphBuilder& b, const BatchNormParams& p) {
  add_params(b, p);
  b.node("BatchNormalization", {"y", "scale", "shift", "mean", "var"}, {"Y"}, {{"epsilon", float_attr(kEpsilon)}},
         "bn1");
  b.output("Y");
}

// BatchNormalization in double over channel axis 1 of the producer's output.
Tensor reference_batch_norm(const Tensor& y, const BatchNormParams& p) {
  Tensor out = Tensor::allocate(DataType::kDouble, y.shape());
  const int64_t channels = y.dim(1);
  int64_t inner = 1;
  for (int i = 2; i < y.rank(); ++i) inner *= y.dim(i);
  for (int64_t i = 0; i < y.num_elements(); ++i) {
    const int64_t c = (i / inner) % channels;
    const double s = p.scale.data<float>()[c] / std::sqrt(static_cast<double>(p.var.data<float>()[c]) + kEpsilon);
    out.data<double>()[i] = (y.data<float>()[i] - static_cast<double>(p.mean.data<float>()[c])) * s +
                            p.shift.data<float>()[c];
  }
  return out;
}

// The folded graph's output against the producer's own output, batch-normalised
// in double. The fold rounds W * s and the new bias once each, then the
// producer sums K products: a few float ulps of the summed magnitude (|W|, |X|
// <= 1, s <= 1/sqrt(0.5)), bounded by 1e-5 * K with a wide margin.
void check_fold(GraphBuilder producer_only, GraphBuilder with_bn, const std::vector<NamedTensor>& feeds,
                const BatchNormParams& p, const std::string& producer, int64_t k) {
  producer_only.output("y");
  const std::vector<NamedTensor> plain = run_graph(producer_only.build(), feeds, 0);
  Graph g = with_bn.build();
  const Graph original = g;
  const auto lines = run_pass(g, make_fold_batch_normalization());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "folded BatchNormalization 'bn1' into " + producer + " 'p1'");
  EXPECT_EQ(count_ops(g, "BatchNormalization"), 0);
  EXPECT_EQ(count_ops(g, producer), 1);
  const std::vector<NamedTensor> folded = run_graph(g, feeds, 0);
  ASSERT_EQ(folded.size(), 1u);
  EXPECT_EQ(folded[0].name, "Y");
  expect_close(folded[0].tensor, reference_batch_norm(plain[0].tensor, p),
               {.atol = 1e-5 * static_cast<double>(k), .rtol = 1e-5});
  expect_same_with_and_without_passes(original, feeds, {.atol = 1e-5 * static_cast<double>(k), .rtol = 1e-5});
}

GraphBuilder conv_producer(bool bias) {
  GraphBuilder b(15);
  b.input("X", DataType::kFloat, {2, 3, 6, 5}).initializer("W", random_tensor({4, 3, 3, 3}, 1));
  if (bias) b.initializer("B", random_tensor({4}, 2));
  b.node("Conv", {"X", "W", bias ? "B" : ""}, {"y"}, {{"pads", ints_attr({1, 1, 1, 1})}}, "p1");
  return b;
}

std::vector<NamedTensor> conv_feeds() { return {{"X", random_tensor({2, 3, 6, 5}, 3)}}; }

TEST(FoldBatchNormalization, IntoConvWithAndWithoutBias) {
  const BatchNormParams p = params(4);
  for (bool bias : {true, false}) {
    SCOPED_TRACE(bias ? "bias" : "no bias");
    GraphBuilder with_bn = conv_producer(bias);
    add_batch_norm(with_bn, p);
    check_fold(conv_producer(bias), std::move(with_bn), conv_feeds(), p, "Conv", 27);
  }
}

GraphBuilder gemm_producer(bool trans_b) {
  GraphBuilder b(15);
  b.input("X", DataType::kFloat, {3, 8})
      .initializer("W", random_tensor(trans_b ? Shape{5, 8} : Shape{8, 5}, 4))
      .initializer("C", random_tensor({5}, 5));
  b.node("Gemm", {"X", "W", "C"}, {"y"},
         {{"transB", int_attr(trans_b ? 1 : 0)}, {"alpha", float_attr(0.5f)}, {"beta", float_attr(2.0f)}}, "p1");
  return b;
}

TEST(FoldBatchNormalization, IntoGemmWithAlphaBetaAndTransB) {
  const BatchNormParams p = params(5);
  const std::vector<NamedTensor> feeds = {{"X", random_tensor({3, 8}, 6)}};
  for (bool trans_b : {false, true}) {
    SCOPED_TRACE(trans_b ? "transB" : "plain B");
    GraphBuilder with_bn = gemm_producer(trans_b);
    add_batch_norm(with_bn, p);
    check_fold(gemm_producer(trans_b), std::move(with_bn), feeds, p, "Gemm", 8);
  }
}

// The pass leaves the graph alone; with passes on and off it computes the same.
void expect_no_fold(GraphBuilder b, const std::vector<NamedTensor>& feeds, bool runnable = true) {
  // A graph the loader refuses (training mode) is taken as built, without shape inference.
  Graph g = runnable ? b.build() : b.graph();
  const Graph original = g;
  EXPECT_TRUE(run_pass(g, make_fold_batch_normalization()).empty());
  EXPECT_EQ(count_ops(g, "BatchNormalization"), 1);
  EXPECT_EQ(count_ops(g, "Conv"), 1);
  // Conv sums 27 products of values in [-1, 1]; the other passes may fuse the
  // Conv differently, a few ulps of that sum.
  if (runnable) expect_same_with_and_without_passes(original, feeds, {.atol = 27e-5, .rtol = 1e-5});
}

TEST(FoldBatchNormalization, FedWeightDoesNotFold) {
  GraphBuilder b(15);
  b.input("X", DataType::kFloat, {2, 3, 6, 5}).input("W", DataType::kFloat, {4, 3, 3, 3});
  b.node("Conv", {"X", "W"}, {"y"}, {{"pads", ints_attr({1, 1, 1, 1})}}, "p1");
  add_batch_norm(b, params(4));
  std::vector<NamedTensor> feeds = conv_feeds();
  feeds.push_back({"W", random_tensor({4, 3, 3, 3}, 1)});
  expect_no_fold(std::move(b), feeds);
}

TEST(FoldBatchNormalization, FedScaleOrMeanDoesNotFold) {
  const BatchNormParams p = params(4);
  for (const std::string fed : {"scale", "mean"}) {
    SCOPED_TRACE(fed);
    GraphBuilder b = conv_producer(true);
    b.input(fed, DataType::kFloat, {4});
    for (const auto& [name, t] : {std::pair{"scale", &p.scale}, {"shift", &p.shift}, {"mean", &p.mean}, {"var", &p.var}}) {
      if (name != fed) b.initializer(name, *t);
    }
    b.node("BatchNormalization", {"y", "scale", "shift", "mean", "var"}, {"Y"}, {}, "bn1");
    b.output("Y");
    std::vector<NamedTensor> feeds = conv_feeds();
    feeds.push_back({fed, fed == "scale" ? p.scale : p.mean});
    expect_no_fold(std::move(b), feeds);
  }
}

TEST(FoldBatchNormalization, ConvOutputThatIsAGraphOutputDoesNotFold) {
  GraphBuilder b = conv_producer(true);
  add_batch_norm(b, params(4));
  b.output("y");  // the unnormalised value is wanted too
  expect_no_fold(std::move(b), conv_feeds());
}

TEST(FoldBatchNormalization, ConvOutputWithASecondReaderDoesNotFold) {
  GraphBuilder b = conv_producer(true);
  add_batch_norm(b, params(4));
  b.node("Relu", {"y"}, {"R"}, {}, "relu1");
  b.output("R");
  expect_no_fold(std::move(b), conv_feeds());
}

TEST(FoldBatchNormalization, TrainingModeDoesNotFold) {
  GraphBuilder b = conv_producer(true);
  add_params(b, params(4));
  b.node("BatchNormalization", {"y", "scale", "shift", "mean", "var"}, {"Y"}, {{"training_mode", int_attr(1)}},
         "bn1");
  b.output("Y");
  // The loader refuses training mode (unsupported) before any pass runs; the
  // pass must still leave such a node alone if it ever sees one.
  expect_no_fold(std::move(b), conv_feeds(), /*runnable=*/false);
}

TEST(FoldBatchNormalization, OpsetSixIsTestZeroDoesNotFoldButIsTestOneDoes) {
  for (int64_t is_test : {0, 1}) {
    SCOPED_TRACE(is_test);
    GraphBuilder b(6);
    b.input("X", DataType::kFloat, {2, 3, 6, 5}).initializer("W", random_tensor({4, 3, 3, 3}, 1));
    b.node("Conv", {"X", "W"}, {"y"}, {{"pads", ints_attr({1, 1, 1, 1})}}, "p1");
    add_params(b, params(4));
    b.node("BatchNormalization", {"y", "scale", "shift", "mean", "var"}, {"Y"}, {{"is_test", int_attr(is_test)}},
           "bn1");
    b.output("Y");
    Graph g = b.build();
    EXPECT_EQ(run_pass(g, make_fold_batch_normalization()).size(), is_test ? 1u : 0u);
    EXPECT_EQ(count_ops(g, "BatchNormalization"), is_test ? 0 : 1);
  }
}

}  // namespace
}  // namespace onnx_mini::testing
