// FuseSoftmaxCrossEntropy: LogSoftmax -> NLL and Softmax -> Log -> NLL become one
// SoftmaxCrossEntropyLoss; wrong axis, pre-13 coercion on N-D input, second
// consumers and graph outputs do not fuse; large logits stay finite only fused.
#include <cmath>
#include <limits>
#include <random>

#include "tests/testutil/graph_builder.h"

namespace onnx_mini::testing {
namespace {

enum class Form { kLogSoftmax, kSoftmaxLog };

struct LossGraph {
  Form form = Form::kLogSoftmax;
  int opset = 13;
  std::vector<int64_t> logits_shape = {6, 5};
  int64_t axis = 1;
  std::string reduction = "mean";
  bool weight = false;
  bool ignore_index = false;
};

Graph build_loss(const LossGraph& c) {
  GraphBuilder b(c.opset);
  b.input("logits", DataType::kFloat, c.logits_shape);
  std::vector<int64_t> label_shape = c.logits_shape;
  label_shape.erase(label_shape.begin() + 1);
  b.input("labels", DataType::kInt64, label_shape);
  const std::string log_prob = "log_prob";
  if (c.form == Form::kLogSoftmax) {
    b.node("LogSoftmax", {"logits"}, {log_prob}, {{"axis", int_attr(c.axis)}}, "log_softmax");
  } else {
    b.node("Softmax", {"logits"}, {"probs"}, {{"axis", int_attr(c.axis)}}, "softmax");
    b.node("Log", {"probs"}, {log_prob}, {}, "log");
  }
  std::vector<std::string> nll_inputs = {log_prob, "labels"};
  if (c.weight) {
    b.initializer("weight", random_tensor({c.logits_shape[1]}, 9, 0.1f, 2.0f));
    nll_inputs.push_back("weight");
  }
  std::map<std::string, Attribute> attrs = {{"reduction", string_attr(c.reduction)}};
  if (c.ignore_index) attrs["ignore_index"] = int_attr(2);
  b.node("NegativeLogLikelihoodLoss", nll_inputs, {"loss"}, attrs, "nll");
  b.output("loss");
  return b.build();
}

Tensor labels_for(const std::vector<int64_t>& logits_shape, uint32_t seed) {
  std::vector<int64_t> shape = logits_shape;
  const int64_t classes = shape[1];
  shape.erase(shape.begin() + 1);
  Tensor t = Tensor::allocate(DataType::kInt64, shape);
  std::mt19937 gen(seed);
  for (int64_t i = 0; i < t.num_elements(); ++i) t.data<int64_t>()[i] = static_cast<int64_t>(gen() % classes);
  return t;
}

std::vector<NamedTensor> feeds_for(const LossGraph& c, float scale = 3.0f) {
  return {{"logits", random_tensor(c.logits_shape, 4, -scale, scale)}, {"labels", labels_for(c.logits_shape, 5)}};
}

TEST(FuseSoftmaxCrossEntropy, LogSoftmaxNll) {
  LossGraph c;
  Graph g = build_loss(c);
  auto lines = run_pass(g, make_fuse_softmax_cross_entropy());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0],
            "fused LogSoftmax 'log_softmax' and NegativeLogLikelihoodLoss 'nll' into SoftmaxCrossEntropyLoss 'nll'");
  EXPECT_EQ(g.num_live_nodes(), 1u);
  EXPECT_EQ(count_ops(g, "SoftmaxCrossEntropyLoss"), 1);
  EXPECT_EQ(g.node(g.value(g.find_value("loss")).producer).op_type, "SoftmaxCrossEntropyLoss");
}

TEST(FuseSoftmaxCrossEntropy, SoftmaxLogNll) {
  LossGraph c;
  c.form = Form::kSoftmaxLog;
  Graph g = build_loss(c);
  auto lines = run_pass(g, make_fuse_softmax_cross_entropy());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0],
            "fused Softmax 'softmax', Log 'log' and NegativeLogLikelihoodLoss 'nll' into SoftmaxCrossEntropyLoss "
            "'nll'");
  EXPECT_EQ(g.num_live_nodes(), 1u);
}

TEST(FuseSoftmaxCrossEntropy, SameLossOnAndOffForEveryVariant) {
  for (Form form : {Form::kLogSoftmax, Form::kSoftmaxLog}) {
    for (const char* reduction : {"none", "sum", "mean"}) {
      for (bool weight : {false, true}) {
        for (bool ignore : {false, true}) {
          for (auto shape : {std::vector<int64_t>{6, 5}, std::vector<int64_t>{3, 4, 5}}) {
            LossGraph c;
            c.form = form;
            c.reduction = reduction;
            c.weight = weight;
            c.ignore_index = ignore;
            c.logits_shape = shape;
            SCOPED_TRACE(std::string(reduction) + " weight=" + std::to_string(weight) + " ignore=" +
                         std::to_string(ignore) + " rank=" + std::to_string(shape.size()));
            Graph g = build_loss(c);
            Graph fused = g;
            ASSERT_EQ(run_pass(fused, make_fuse_softmax_cross_entropy()).size(), 1u);
            // Moderate logits: the unfused Softmax -> Log path is accurate here, and
            // both sides sum in double; float32 rounding of log/exp differs by a few ulps.
            expect_same_with_and_without_passes(g, feeds_for(c), {.atol = 1e-5, .rtol = 1e-5});
          }
        }
      }
    }
  }
}

TEST(FuseSoftmaxCrossEntropy, WrongAxisDoesNotFuse) {
  LossGraph c;
  c.logits_shape = {3, 4, 5};
  c.axis = -1;  // softmax over the last dim, not the class axis
  Graph g = build_loss(c);
  EXPECT_TRUE(run_pass(g, make_fuse_softmax_cross_entropy()).empty());
  c.axis = 0;
  Graph g2 = build_loss(c);
  EXPECT_TRUE(run_pass(g2, make_fuse_softmax_cross_entropy()).empty());
}

TEST(FuseSoftmaxCrossEntropy, Opset12CoercionOnlyFusesTwoDimensional) {
  // Before opset 13 LogSoftmax(axis=1) on [N, C, d] normalises over C*d: not the class axis.
  LossGraph c;
  c.opset = 12;
  c.logits_shape = {3, 4, 5};
  Graph g = build_loss(c);
  EXPECT_TRUE(run_pass(g, make_fuse_softmax_cross_entropy()).empty());
  c.logits_shape = {6, 5};
  Graph g2 = build_loss(c);
  EXPECT_EQ(run_pass(g2, make_fuse_softmax_cross_entropy()).size(), 1u);
  expect_same_with_and_without_passes(build_loss(c), feeds_for(c), {.atol = 1e-5, .rtol = 1e-5});  // as above
}

TEST(FuseSoftmaxCrossEntropy, IntermediateGraphOutputDoesNotFuse) {
  LossGraph c;
  c.form = Form::kSoftmaxLog;
  Graph g = build_loss(c);
  g.value(g.find_value("probs")).is_graph_output = true;
  g.outputs().push_back(g.find_value("probs"));
  EXPECT_TRUE(run_pass(g, make_fuse_softmax_cross_entropy()).empty());
  Graph g2 = build_loss(LossGraph{});
  g2.value(g2.find_value("log_prob")).is_graph_output = true;
  g2.outputs().push_back(g2.find_value("log_prob"));
  EXPECT_TRUE(run_pass(g2, make_fuse_softmax_cross_entropy()).empty());
}

TEST(FuseSoftmaxCrossEntropy, SecondConsumerDoesNotFuse) {
  GraphBuilder b(13);
  b.input("logits", DataType::kFloat, {6, 5}).input("labels", DataType::kInt64, {6});
  b.node("LogSoftmax", {"logits"}, {"log_prob"}, {{"axis", int_attr(1)}}, "log_softmax");
  b.node("NegativeLogLikelihoodLoss", {"log_prob", "labels"}, {"loss"}, {}, "nll");
  b.node("Relu", {"log_prob"}, {"other"}, {}, "other");
  b.output("loss").output("other");
  Graph g = b.build();
  EXPECT_TRUE(run_pass(g, make_fuse_softmax_cross_entropy()).empty());
}

TEST(FuseSoftmaxCrossEntropy, LargeLogitsAreFiniteOnlyFused) {
  // Logits of magnitude ~1e4: Softmax underflows to exact 0 for every class but the
  // row's maximum, Log(0) = -inf, and the unfused loss is inf (or NaN when a
  // weight of 0 meets it). The fused kernel works in log space: loss = lse - x[label],
  // exact and finite. This is a feature of the fusion, documented in
  // fuse_softmax_cross_entropy.cc.
  LossGraph c;
  c.form = Form::kSoftmaxLog;
  c.reduction = "mean";
  Graph g = build_loss(c);
  Tensor logits = random_tensor(c.logits_shape, 4, -1e4f, 1e4f);
  Tensor labels = labels_for(c.logits_shape, 5);
  auto unfused = run_graph(g, {{"logits", logits}, {"labels", labels}}, 0);
  auto fused = run_graph(g, {{"logits", logits}, {"labels", labels}}, 1);
  ASSERT_EQ(unfused.size(), 1u);
  ASSERT_EQ(fused.size(), 1u);
  const float bad = unfused[0].tensor.data<float>()[0];
  EXPECT_TRUE(std::isinf(bad) || std::isnan(bad)) << "unfused loss " << bad;
  const float got = fused[0].tensor.data<float>()[0];
  ASSERT_TRUE(std::isfinite(got));
  // Reference in double: mean over rows of logsumexp(x) - x[label].
  double want = 0;
  const int64_t n = c.logits_shape[0], classes = c.logits_shape[1];
  for (int64_t i = 0; i < n; ++i) {
    const float* row = logits.data<float>() + i * classes;
    double mx = row[0];
    for (int64_t j = 1; j < classes; ++j) mx = std::max(mx, double(row[j]));
    double sum = 0;
    for (int64_t j = 0; j < classes; ++j) sum += std::exp(double(row[j]) - mx);
    want += mx + std::log(sum) - row[labels.data<int64_t>()[i]];
  }
  want /= static_cast<double>(n);
  // Losses of order 1e4 in float32: one ulp is ~1e-3; allow a few ulps relative.
  EXPECT_NEAR(got, want, 1e-6 * std::abs(want) + 1e-3);
}

}  // namespace
}  // namespace onnx_mini::testing
