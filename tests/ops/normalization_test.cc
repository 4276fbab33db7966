// BatchNormalization (inference, every version), InstanceNormalization and LRN
// against naive double-precision references.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/testutil/expect_close.h"
#include "tests/testutil/node_model.h"

namespace onnx_mini::testing {
namespace {

std::vector<double> as_doubles(const Tensor& t) {
  std::vector<double> v;
  for (float f : values_of<float>(t)) v.push_back(f);
  return v;
}

// y = scale * (x - mean) / sqrt(var + eps) + B, parameter index = element index
// within [C, inner] divided by `per_param` (inner for spatial = 1, 1 for spatial = 0).
std::vector<double> batch_norm_reference(const Tensor& x, const Tensor& s, const Tensor& b, const Tensor& m,
                                         const Tensor& v, double eps, int64_t per_param) {
  const auto xs = as_doubles(x), ss = as_doubles(s), bs = as_doubles(b), ms = as_doubles(m), vs = as_doubles(v);
  const int64_t per_image = x.num_elements() / x.dim(0);
  std::vector<double> y;
  for (int64_t i = 0; i < x.num_elements(); ++i) {
    const size_t c = static_cast<size_t>((i % per_image) / per_param);
    y.push_back(ss[c] * (xs[static_cast<size_t>(i)] - ms[c]) / std::sqrt(vs[c] + eps) + bs[c]);
  }
  return y;
}

TEST(Normalization, BatchNormEveryVersionAgainstReference) {
  const Tensor x = random_tensor({2, 3, 4, 5}, 1, -5.f, 5.f);
  const Tensor s = random_tensor({3}, 2, 0.5f, 2.f), b = random_tensor({3}, 3), m = random_tensor({3}, 4);
  const Tensor v = random_tensor({3}, 5, 0.1f, 3.f);
  const auto want = make_tensor<double>(x.shape(), batch_norm_reference(x, s, b, m, v, 1e-3, 20));
  for (int opset : {6, 7, 9, 14, 15}) {
    for (bool constant : {false, true}) {
      NodeModel model("BatchNormalization", opset);
      model.feed(x).attr_float("epsilon", 1e-3f);
      for (const Tensor* p : {&s, &b, &m, &v}) constant ? model.init(*p) : model.feed(*p);
      auto out = model.run();
      ASSERT_TRUE(out.is_ok()) << opset << ": " << out.status().message();
      // One float multiply-add per element from coefficients formed in double:
      // ~2 ulp of max(|x * a|, |b|) <= ~40.
      expect_close(out.value()[0], want, {1e-5, 1e-6}, "opset " + std::to_string(opset));
    }
  }
}

TEST(Normalization, BatchNormSpatialZeroBeforeOpset9) {
  const Tensor x = random_tensor({2, 3, 4}, 6, -2.f, 2.f);
  const Tensor s = random_tensor({3, 4}, 7), b = random_tensor({3, 4}, 8), m = random_tensor({3, 4}, 9);
  const Tensor v = random_tensor({3, 4}, 10, 0.5f, 1.f);
  auto out = NodeModel("BatchNormalization", 7).feed(x).feed(s).feed(b).feed(m).feed(v).attr_int("spatial", 0).run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  expect_close(out.value()[0], make_tensor<double>(x.shape(), batch_norm_reference(x, s, b, m, v, 1e-5, 1)), {1e-5, 1e-6});
  // spatial is gone at 9; a [C, D] parameter then disagrees with [C].
  EXPECT_FALSE(NodeModel("BatchNormalization", 9).feed(x).feed(s).feed(b).feed(m).feed(v).attr_int("spatial", 0).run().is_ok());
  auto wrong = NodeModel("BatchNormalization", 9).feed(x).init(s).init(b).init(m).init(v).run();
  ASSERT_FALSE(wrong.is_ok());
  EXPECT_EQ(wrong.status().code(), ErrorCode::kInvalidModel);
  EXPECT_NE(wrong.status().message().find("expected [3]"), std::string::npos) << wrong.status().message();
}

TEST(Normalization, BatchNormTrainingModeIsAClearUnsupportedError) {
  const Tensor x = random_tensor({2, 3, 2}, 1);
  const Tensor c = random_tensor({3}, 2, 0.5f, 1.f);
  auto v15 = NodeModel("BatchNormalization", 15).feed(x).feed(c).feed(c).feed(c).feed(c).attr_int("training_mode", 1).run();
  ASSERT_FALSE(v15.is_ok());
  EXPECT_EQ(v15.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(v15.status().message().find("training mode"), std::string::npos) << v15.status().message();
  auto v9 = NodeModel("BatchNormalization", 9).feed(x).feed(c).feed(c).feed(c).feed(c).outputs(5).run();
  EXPECT_EQ(v9.status().code(), ErrorCode::kUnsupported);
  auto extra = NodeModel("BatchNormalization", 15).feed(x).feed(c).feed(c).feed(c).feed(c).outputs(3).run();
  EXPECT_EQ(extra.status().code(), ErrorCode::kInvalidModel);  // running stats without training_mode
}

TEST(Normalization, InstanceNormAgainstReference) {
  for (const Shape& shape : {Shape{2, 3, 5}, Shape{1, 4, 6, 7}, Shape{2, 2, 1}}) {
    Tensor x = random_tensor(shape, 11, -3.f, 3.f);
    for (int64_t i = 0; i < x.num_elements(); ++i) x.data<float>()[i] += 1000.f;  // a large mean: no cancellation
    const Tensor s = random_tensor({shape[1]}, 12), b = random_tensor({shape[1]}, 13);
    const auto xs = as_doubles(x), ss = as_doubles(s), bs = as_doubles(b);
    const int64_t planes = shape[0] * shape[1], n = x.num_elements() / planes;
    std::vector<double> y;
    for (int64_t p = 0; p < planes; ++p) {
      double mean = 0, var = 0;
      for (int64_t i = 0; i < n; ++i) mean += xs[static_cast<size_t>(p * n + i)] / static_cast<double>(n);
      for (int64_t i = 0; i < n; ++i) var += std::pow(xs[static_cast<size_t>(p * n + i)] - mean, 2) / static_cast<double>(n);
      const size_t c = static_cast<size_t>(p % shape[1]);
      for (int64_t i = 0; i < n; ++i) y.push_back(ss[c] * (xs[static_cast<size_t>(p * n + i)] - mean) / std::sqrt(var + 1e-2) + bs[c]);
    }
    auto out = NodeModel("InstanceNormalization", 6).feed(x).feed(s).feed(b).attr_float("epsilon", 1e-2f).run();
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    // x near 1000 is held to 2^-14 absolute in float: a normalised value
    // (unit-ish scale, std ~ 1.7) inherits ~1e-4 of it, plus the final rounding.
    expect_close(out.value()[0], make_tensor<double>(shape, y), {2e-4, 1e-5});
  }
  const Tensor x = random_tensor({1, 3, 4}, 1);
  auto bad = NodeModel("InstanceNormalization", 6).feed(x).init(random_tensor({2}, 2)).init(random_tensor({3}, 3)).run();
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidModel);
}

TEST(Normalization, LrnAgainstReference) {
  for (int64_t size : {1, 2, 3, 5, 8}) {
    const Tensor x = random_tensor({2, 6, 3, 4}, 21, -4.f, 4.f);
    const auto xs = as_doubles(x);
    const double alpha = 2e-2, beta = 0.6, bias = 1.5;
    std::vector<double> y(xs.size());
    const Shape& sh = x.shape();
    for (int64_t i = 0; i < x.num_elements(); ++i) {
      auto idx = unravel(i, sh);
      const int64_t c = idx[1];
      double sum = 0;
      for (int64_t k = c - (size - 1) / 2; k <= c + static_cast<int64_t>(std::ceil((size - 1) / 2.0)); ++k) {
        if (k < 0 || k >= sh[1]) continue;
        idx[1] = k;
        sum += std::pow(xs[static_cast<size_t>(ravel(idx, sh))], 2);
      }
      y[static_cast<size_t>(i)] = xs[static_cast<size_t>(i)] / std::pow(bias + alpha / static_cast<double>(size) * sum, beta);
    }
    auto out = NodeModel("LRN", 13).feed(x).attr_int("size", size).attr_float("alpha", 2e-2f).attr_float("beta", 0.6f)
                   .attr_float("bias", 1.5f).run();
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    // A float sum of <= 8 squares and one powf: a few ulp relative.
    expect_close(out.value()[0], make_tensor<double>(sh, y), {1e-6, 1e-5}, "size " + std::to_string(size));
  }
  const Tensor x = random_tensor({1, 3, 2}, 1);
  EXPECT_FALSE(NodeModel("LRN", 13).feed(x).run().is_ok());                       // size is required
  EXPECT_FALSE(NodeModel("LRN", 13).feed(x).attr_int("size", 0).run().is_ok());  // and positive
}

}  // namespace
}  // namespace onnx_mini::testing
