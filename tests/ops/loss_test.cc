// SoftmaxCrossEntropyLoss and NegativeLogLikelihoodLoss against a naive double
// reference written here: every reduction, class weights, ignore_index
// (including negative), K-dim inputs, int32 labels, all-ignored mean = NaN,
// out-of-range labels, huge logits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <random>

#include "ops/loss.h"
#include "tests/testutil/kernel_runner.h"

namespace onnx_mini::testing {
namespace {

struct LossCase {
  int64_t n = 3, c = 4;
  Shape extra;  // d1..dk
  std::string reduction = "mean";
  bool weighted = false;
  std::optional<int64_t> ignore;
};

// Naive reference: explicit log(sum exp) per position, no shifting needed
// for the moderate logits used here. Returns per-position losses or the scalar.
std::vector<double> reference(const LossCase& lc, const std::vector<double>& x, const std::vector<int64_t>& labels,
                              const std::vector<double>& w, bool softmax) {
  int64_t inner = 1;
  for (int64_t d : lc.extra) inner *= d;
  std::vector<double> per(static_cast<size_t>(lc.n * inner));
  double total = 0, wsum = 0;
  for (int64_t n = 0; n < lc.n; ++n) {
    for (int64_t j = 0; j < inner; ++j) {
      int64_t l = labels[n * inner + j];
      if (lc.ignore && l == *lc.ignore) {
        per[n * inner + j] = 0;
        continue;
      }
      double lse = 0;
      for (int64_t c = 0; c < lc.c; ++c) lse += std::exp(x[(n * lc.c + c) * inner + j]);
      double v = x[(n * lc.c + l) * inner + j];
      double lp = softmax ? v - std::log(lse) : v;
      double wi = lc.weighted ? w[l] : 1.0;
      per[n * inner + j] = -lp * wi;
      total += -lp * wi;
      wsum += wi;
    }
  }
  if (lc.reduction == "none") return per;
  if (lc.reduction == "sum") return {total};
  return {total / wsum};
}

Attributes loss_attrs(const LossCase& lc) {
  Attributes a;
  a.set("reduction", string_attr(lc.reduction));
  if (lc.ignore) a.set("ignore_index", int_attr(*lc.ignore));
  return a;
}

template <typename T, typename L>
void check_case(const LossCase& lc, const std::string& op) {
  SCOPED_TRACE(op + " reduction=" + lc.reduction + " weighted=" + std::to_string(lc.weighted) +
               " ignore=" + (lc.ignore ? std::to_string(*lc.ignore) : "none") + " k=" + std::to_string(lc.extra.size()));
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> logit(-5, 5), weight(0.1, 2.0);
  int64_t inner = 1;
  for (int64_t d : lc.extra) inner *= d;
  Shape xs{lc.n, lc.c}, ls{lc.n};
  xs.insert(xs.end(), lc.extra.begin(), lc.extra.end());
  ls.insert(ls.end(), lc.extra.begin(), lc.extra.end());
  std::vector<T> x(static_cast<size_t>(lc.n * lc.c * inner));
  for (T& v : x) v = static_cast<T>(logit(rng));
  std::vector<L> labels(static_cast<size_t>(lc.n * inner));
  std::uniform_int_distribution<int> cls(0, static_cast<int>(lc.c) - 1);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<L>(cls(rng));
  if (lc.ignore) labels[1] = static_cast<L>(*lc.ignore);  // at least one ignored position
  std::vector<T> w(static_cast<size_t>(lc.c));
  for (T& v : w) v = static_cast<T>(weight(rng));

  Tensor tx = make_tensor<T>(xs, x), tl = make_tensor<L>(ls, labels), tw = make_tensor<T>({lc.c}, w);
  auto out = run_kernel(op, 13, loss_attrs(lc), {&tx, &tl, lc.weighted ? &tw : nullptr});
  ASSERT_TRUE(out.is_ok()) << out.status().message();

  std::vector<double> xd(x.begin(), x.end()), wd(w.begin(), w.end());
  std::vector<int64_t> ld(labels.begin(), labels.end());
  std::vector<double> ref = reference(lc, xd, ld, wd, op == "SoftmaxCrossEntropyLoss");
  const Tensor& loss = (*out)[0];
  ASSERT_EQ(loss.num_elements(), static_cast<int64_t>(ref.size()));
  Shape expected_shape = lc.reduction == "none" ? ls : Shape{};
  EXPECT_EQ(loss.shape(), expected_shape);
  for (size_t i = 0; i < ref.size(); ++i) {
    // Float: the kernel accumulates in double and rounds once; 4 float ULP
    // of relative error covers the reference's own unshifted exp/log.
    double tol = std::is_same_v<T, float> ? 4 * 1.2e-7 : 1e-13;
    EXPECT_NEAR(static_cast<double>(loss.data<T>()[i]), ref[i], tol * std::max(1.0, std::fabs(ref[i]))) << "at " << i;
  }
}

const std::string kOps[] = {"SoftmaxCrossEntropyLoss", "NegativeLogLikelihoodLoss"};

TEST(Loss, EveryReductionWeightAndIgnoreIndexMatchReference) {
  for (const std::string& op : kOps) {
    for (const char* red : {"none", "sum", "mean"}) {
      for (bool weighted : {false, true}) {
        for (std::optional<int64_t> ignore : {std::optional<int64_t>{}, std::optional<int64_t>{2},
                                              std::optional<int64_t>{-1}, std::optional<int64_t>{100}}) {
          LossCase lc;
          lc.reduction = red;
          lc.weighted = weighted;
          lc.ignore = ignore;
          check_case<float, int64_t>(lc, op);
          lc.extra = {2, 3};  // [N, C, d1, d2]
          check_case<double, int32_t>(lc, op);
        }
      }
    }
  }
}

Tensor scalar_loss(const std::string& op, const Tensor& x, const Tensor& labels, const Attributes& a,
                   const Tensor* w = nullptr) {
  auto out = run_kernel(op, 13, a, {&x, &labels, w});
  EXPECT_TRUE(out.is_ok()) << out.status().message();
  return out.is_ok() ? (*out)[0] : Tensor{};
}

TEST(Loss, AllIgnoredMeanIsNaNAndSumIsZero) {
  Tensor x = make_tensor<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor labels = make_tensor<int64_t>({2}, {-1, -1});
  for (const std::string& op : kOps) {
    Attributes a;
    a.set("ignore_index", int_attr(-1));
    EXPECT_TRUE(std::isnan(scalar_loss(op, x, labels, a).data<float>()[0])) << op;
    a.set("reduction", string_attr("sum"));
    EXPECT_EQ(scalar_loss(op, x, labels, a).data<float>()[0], 0.0f) << op;
  }
}

TEST(Loss, LabelOutOfRangeNamesPositionAndValue) {
  Tensor x = Tensor::allocate(DataType::kFloat, {2, 3, 2});
  Tensor labels = make_tensor<int64_t>({2, 2}, {0, 1, 2, 7});
  for (const std::string& op : kOps) {
    auto out = run_kernel(op, 13, Attributes{}, {&x, &labels});
    ASSERT_FALSE(out.is_ok()) << op;
    EXPECT_EQ(out.status().code(), ErrorCode::kBadInput);
    EXPECT_NE(out.status().message().find("label 7 at position [1, 1]"), std::string::npos) << out.status().message();
  }
  // A negative label that is not ignore_index is rejected too.
  Tensor neg = make_tensor<int32_t>({2, 2}, {0, -1, 2, 1});
  Attributes a;
  a.set("ignore_index", int_attr(5));
  auto out = run_kernel("SoftmaxCrossEntropyLoss", 13, a, {&x, &neg});
  ASSERT_FALSE(out.is_ok());
  EXPECT_NE(out.status().message().find("label -1 at position [0, 1]"), std::string::npos) << out.status().message();
}

TEST(Loss, HugeLogitsGiveExactFiniteLoss) {
  Attributes a;
  a.set("reduction", string_attr("none"));
  Tensor x = make_tensor<float>({2, 2}, {1e4f, 0.0f, 0.0f, -1e4f});
  Tensor labels = make_tensor<int64_t>({2}, {1, 0});
  auto out = run_kernel("SoftmaxCrossEntropyLoss", 13, a, {&x, &labels}, {true, true});
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  // loss = logsumexp - x[label]: 1e4 exactly, and log1p(e^-1e4) = 0 in float.
  EXPECT_EQ((*out)[0].data<float>()[0], 1e4f);
  EXPECT_EQ((*out)[0].data<float>()[1], 0.0f);
  // log_prob is the log-softmax, finite everywhere.
  EXPECT_EQ(values_of<float>((*out)[1]), (std::vector<float>{0.0f, -1e4f, 0.0f, -1e4f}));
  // FLT_MAX logits do not overflow the shift either.
  Tensor big = make_tensor<float>({1, 2}, {FLT_MAX, -FLT_MAX});
  Tensor l1 = make_tensor<int64_t>({1}, {0});
  EXPECT_EQ(scalar_loss("SoftmaxCrossEntropyLoss", big, l1, Attributes{}).data<float>()[0], 0.0f);
}

// The 2-D fast path sums exp(x - max) with its own vectorized float exp in blocks
// of 16; C = 10 (tail only), 1000 and 32000 (blocks + tail), logit spreads that
// reach the exp's flush to 0 below e^-87, against a max-shifted double reference.
TEST(Loss, ManyClassesMatchShiftedDoubleReference) {
  for (int64_t classes : {10, 1000, 32000}) {
    for (float spread : {5.0f, 30.0f, 200.0f}) {
      SCOPED_TRACE("classes=" + std::to_string(classes) + " spread=" + std::to_string(spread));
      const int64_t n = 3;
      std::mt19937 rng(static_cast<uint32_t>(classes));
      std::uniform_real_distribution<float> logit(-spread, spread);
      std::vector<float> x(static_cast<size_t>(n * classes));
      for (float& v : x) v = logit(rng);
      std::vector<int64_t> labels = {0, classes / 2, classes - 1};
      Tensor tx = make_tensor<float>({n, classes}, x), tl = make_tensor<int64_t>({n}, labels);
      Attributes a;
      a.set("reduction", string_attr("none"));
      auto out = run_kernel("SoftmaxCrossEntropyLoss", 13, a, {&tx, &tl});
      ASSERT_TRUE(out.is_ok()) << out.status().message();
      for (int64_t r = 0; r < n; ++r) {
        const float* row = x.data() + r * classes;
        const double mx = *std::max_element(row, row + classes);
        double sum = 0;
        for (int64_t c = 0; c < classes; ++c) sum += std::exp(static_cast<double>(row[c]) - mx);
        const double want = mx + std::log(sum) - row[labels[r]];
        // Each term's float exp and float x - max are within ~2 ULP and the sum is
        // double, so the loss keeps the 4 float ULP the other float cases allow.
        EXPECT_NEAR((*out)[0].data<float>()[r], want, 4 * 1.2e-7 * std::max(1.0, std::fabs(want))) << "row " << r;
      }
    }
  }
}

TEST(Loss, ConfidentPredictionKeepsTinyLossAndNaNPropagates) {
  // 999 classes at -20 below the label's: loss = log1p(999 e^-20) ~ 2.06e-6 with
  // full relative precision (the maximum's term is left out of the float sum).
  std::vector<float> x(1000, -20.0f);
  x[0] = 0.0f;
  Tensor tx = make_tensor<float>({1, 1000}, x), tl = make_tensor<int64_t>({1}, {0});
  const double want = std::log1p(999 * std::exp(-20.0));
  const float got = scalar_loss("SoftmaxCrossEntropyLoss", tx, tl, Attributes{}).data<float>()[0];
  EXPECT_NEAR(got, want, 4 * 1.2e-7 * want);  // a few float ULP, relative
  // The other classes spread over [-16, -8] below the label: the loss ~ 0.04 is
  // then nearly the sum of their exps itself, so it checks the float exp of each
  // term to a few ULP (not hidden behind a large max - x[label]).
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> low(-16.0f, -8.0f);
  double sum = 0;
  for (size_t c = 1; c < x.size(); ++c) {
    x[c] = low(rng);
    sum += std::exp(static_cast<double>(x[c]));
  }
  Tensor ts = make_tensor<float>({1, 1000}, x);
  const float spread = scalar_loss("SoftmaxCrossEntropyLoss", ts, tl, Attributes{}).data<float>()[0];
  EXPECT_NEAR(spread, std::log1p(sum), 4 * 1.2e-7 * std::log1p(sum));  // a few float ULP, relative
  x[700] = std::numeric_limits<float>::quiet_NaN();  // inside a block of the vector sum
  Tensor tn = make_tensor<float>({1, 1000}, x);
  EXPECT_TRUE(std::isnan(scalar_loss("SoftmaxCrossEntropyLoss", tn, tl, Attributes{}).data<float>()[0]));
}

TEST(Loss, LogProbOutputIsLogSoftmaxOverClassAxis) {
  Tensor x = make_tensor<double>({1, 3, 2}, {1, 4, 2, 5, 3, 6});
  Tensor labels = make_tensor<int64_t>({1, 2}, {0, 2});
  auto out = run_kernel("SoftmaxCrossEntropyLoss", 13, Attributes{}, {&x, &labels}, {true, true});
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  const double lse = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));  // column 0; column 1 is +3
  std::vector<double> lp = values_of<double>((*out)[1]);
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(lp[c * 2], (c + 1) - lse, 1e-14);
    EXPECT_NEAR(lp[c * 2 + 1], (c + 4) - (lse + 3), 1e-14);
  }
  EXPECT_NEAR((*out)[0].data<double>()[0], ((lse - 1) + (lse + 3 - 6)) / 2, 1e-14);
}

TEST(Loss, RejectsBadShapesAndAttributes) {
  Tensor x = Tensor::allocate(DataType::kFloat, {2, 3});
  Tensor wrong_labels = make_tensor<int64_t>({3}, {0, 0, 0});
  auto out = run_kernel("NegativeLogLikelihoodLoss", 13, Attributes{}, {&x, &wrong_labels});
  ASSERT_FALSE(out.is_ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kBadInput);
  Tensor labels = make_tensor<int64_t>({2}, {0, 0});
  Tensor bad_weight = Tensor::allocate(DataType::kFloat, {2});
  EXPECT_FALSE(run_kernel("NegativeLogLikelihoodLoss", 13, Attributes{}, {&x, &labels, &bad_weight}).is_ok());
  Attributes bad;
  bad.set("reduction", string_attr("avg"));
  out = run_kernel("SoftmaxCrossEntropyLoss", 13, bad, {&x, &labels});
  ASSERT_FALSE(out.is_ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kInvalidModel);
}

TEST(Loss, ReusableForwardMatchesKernel) {
  // The graph compiler calls softmax_cross_entropy_forward directly.
  Tensor x = make_tensor<float>({2, 3}, {0.5f, 1.5f, -1.0f, 2.0f, 0.0f, 1.0f});
  Tensor labels = make_tensor<int64_t>({2}, {1, 0});
  LossOptions o;
  o.reduction = LossReduction::kSum;
  auto shape = loss_output_shape(x, labels, nullptr, o.reduction);
  ASSERT_TRUE(shape.is_ok());
  Tensor loss = Tensor::allocate(DataType::kFloat, *shape);
  ASSERT_TRUE(softmax_cross_entropy_forward(x, labels, nullptr, o, loss, nullptr).is_ok());
  Attributes a;
  a.set("reduction", string_attr("sum"));
  EXPECT_EQ(loss.data<float>()[0], scalar_loss("SoftmaxCrossEntropyLoss", x, labels, a).data<float>()[0]);
}

}  // namespace
}  // namespace onnx_mini::testing
