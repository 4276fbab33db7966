// com.onnx_mini.FusedAttention (ops/attention.cc) against a double-precision
// reference of softmax(scale(Q Kt) + Mask) V: every batch broadcast (Q, Kt, V
// and the Mask each with their own batch dims), masks of one row or one column,
// -inf masked positions, both scale forms, no mask, bool masks selecting a
// fill value either way round (the Where form), zero-size dims, on the
// calling thread and a pool; and the errors for shapes and mask types that do
// not fit.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tests/testutil/graph_builder.h"

namespace onnx_mini::testing {
namespace {

struct Case {
  Shape q, kt, v, mask;  // mask empty: none
  float scale = 1.0f;
  int64_t divides = -1;  // -1: no scale attributes
  int64_t keeps = -1;    // -1: a float Mask, added; 0 or 1: a bool Mask, mask_keeps
  float fill = 0.0f;     // mask_fill
};

Shape batch_of(const Shape& s) { return Shape(s.begin(), s.end() - std::min<size_t>(2, s.size())); }

// Naive in double: indices of the broadcast output mapped to each operand.
std::vector<double> reference(const Case& c, const Tensor& q, const Tensor& kt, const Tensor& v, const Tensor* mask,
                              const Shape& y_shape) {
  // Rows and columns of the masked scores (Q's and Kt's, or the Mask's where
  // it grows them: `at` reads a dim of 1 at index 0).
  const int64_t m = y_shape[y_shape.size() - 2], k = c.q.back(), n = c.v[c.v.size() - 2], dv = c.v.back();
  const Shape batch = batch_of(y_shape);
  const int64_t count = num_elements(batch);
  std::vector<double> y(static_cast<size_t>(count * m * dv));
  auto at = [&](const Tensor& t, const std::vector<int64_t>& bidx, int64_t r, int64_t col) {
    std::vector<int64_t> idx = bidx;
    idx.push_back(r);
    idx.push_back(col);
    // Right-aligned broadcast: dims of size 1 read index 0.
    const Shape& s = t.shape();
    int64_t offset = 0;
    for (size_t d = 0; d < s.size(); ++d) {
      const int64_t i = idx[idx.size() - s.size() + d];
      offset = offset * s[d] + (s[d] == 1 ? 0 : i);
    }
    return t.dtype() == DataType::kBool ? (t.data<bool>()[offset] ? 1.0 : 0.0)
                                        : static_cast<double>(t.data<float>()[offset]);
  };
  for (int64_t b = 0; b < count; ++b) {
    const std::vector<int64_t> bidx = unravel(b, batch);
    for (int64_t i = 0; i < m; ++i) {
      std::vector<double> s(static_cast<size_t>(n));
      double max = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t p = 0; p < k; ++p) acc += at(q, bidx, i, p) * at(kt, bidx, p, j);
        if (c.divides == 1) acc /= c.scale;
        if (c.divides == 0) acc *= c.scale;
        if (mask && c.keeps < 0) acc += at(*mask, bidx, i, j);
        if (mask && c.keeps >= 0 && (at(*mask, bidx, i, j) != 0) != (c.keeps == 1)) acc = c.fill;
        s[static_cast<size_t>(j)] = acc;
        max = std::max(max, acc);
      }
      double sum = 0;
      for (double& e : s) sum += (e = std::exp(e - max));
      for (int64_t d = 0; d < dv; ++d) {
        double acc = 0;
        for (int64_t j = 0; j < n; ++j) acc += s[static_cast<size_t>(j)] / sum * at(v, bidx, j, d);
        y[static_cast<size_t>((b * m + i) * dv + d)] = acc;
      }
    }
  }
  return y;
}

// `symbolic`: the inputs' dims are declared by name only (each its own), so
// that shapes that do not fit reach the kernel instead of failing inference.
Result<std::vector<NamedTensor>> run_attention(const Case& c, const std::vector<NamedTensor>& feeds, int threads,
                                               bool symbolic = false) {
  GraphBuilder gb(13);
  auto input = [&](const std::string& name, const Shape& shape, DataType dtype = DataType::kFloat) {
    if (!symbolic) return gb.input(name, dtype, shape);
    std::vector<Dim> dims;
    for (size_t d = 0; d < shape.size(); ++d) dims.push_back(Dim{-1, name + std::to_string(d)});
    return gb.input_symbolic(name, dims);
  };
  input("q", c.q), input("kt", c.kt), input("v", c.v);
  std::vector<std::string> ins = {"q", "kt", "v"};
  if (!c.mask.empty()) {
    input("mask", c.mask, c.keeps >= 0 ? DataType::kBool : DataType::kFloat);
    ins.push_back("mask");
  }
  std::map<std::string, Attribute> attrs;
  if (c.divides >= 0) attrs = {{"scale", float_attr(c.scale)}, {"scale_divides", int_attr(c.divides)}};
  if (c.keeps >= 0) {
    attrs["mask_keeps"] = int_attr(c.keeps);
    attrs["mask_fill"] = float_attr(c.fill);
  }
  gb.node("FusedAttention", ins, {"y"}, attrs, "att", kOnnxMiniDomain);
  gb.output("y");
  SessionOptions opts;
  opts.opt_level = 0;
  opts.threads = threads;
  OM_ASSIGN_OR_RETURN(auto session, Session::from_graph(gb.build(), opts));
  return session->run(feeds);
}

// A bool Mask: with a finite fill, every third element (any row may be all
// filled); with -inf, only column 1 (a whole row of -inf would be NaN, as
// Softmax's).
Tensor bool_mask(const Case& c) {
  Tensor mask = Tensor::allocate(DataType::kBool, c.mask);
  const int64_t cols = c.mask.back();
  const bool fills = c.keeps == 0;  // the element value that selects the fill
  for (int64_t i = 0; i < mask.num_elements(); ++i) {
    const bool filled = std::isinf(c.fill) ? i % cols == 1 : i % 3 == 0;
    mask.data<bool>()[i] = filled ? fills : !fills;
  }
  return mask;
}

void check(const Case& c, int threads) {
  Tensor q = random_tensor(c.q, 1, -2.f, 2.f), kt = random_tensor(c.kt, 2, -2.f, 2.f), v = random_tensor(c.v, 3);
  Tensor mask = c.mask.empty() || c.keeps >= 0 ? Tensor{} : random_tensor(c.mask, 4, -3.f, 1.f);
  // A masked-out position (not a whole row: that row would be NaN, as Softmax's).
  if (!c.mask.empty() && c.keeps < 0 && c.mask.back() > 1) {
    mask.data<float>()[1] = -std::numeric_limits<float>::infinity();
  }
  if (!c.mask.empty() && c.keeps >= 0) mask = bool_mask(c);
  std::vector<NamedTensor> feeds = {{"q", q}, {"kt", kt}, {"v", v}};
  if (!c.mask.empty()) feeds.push_back({"mask", mask});
  auto out = run_attention(c, feeds, threads);
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  const Tensor& y = out.value()[0].tensor;
  const std::vector<double> want = reference(c, q, kt, v, c.mask.empty() ? nullptr : &mask, y.shape());
  ASSERT_EQ(static_cast<size_t>(y.num_elements()), want.size());
  const int64_t k = c.q.back(), n = c.v[c.v.size() - 2];
  for (size_t i = 0; i < want.size(); ++i) {
    // Float products of length k (inputs within 2, so scores within 4k) then a
    // softmax and a product of length n with weights summing to 1: each step's
    // rounding is a few 2^-24 of its terms; 1e-6 * (k * 4 + n) covers them.
    ASSERT_NEAR(y.data<float>()[i], want[i], 1e-6 * static_cast<double>(4 * k + n) + 1e-6) << "at " << i;
  }
}

class FusedAttentionKernel : public ::testing::TestWithParam<int> {};

TEST_P(FusedAttentionKernel, MatchesTheDoubleReference) {
  const std::vector<Case> cases = {
      {{2, 3, 5, 4}, {2, 3, 4, 7}, {2, 3, 7, 6}, {5, 7}, 2.0f, 1},          // GPT: [b, h], mask [M, N]
      {{2, 3, 5, 4}, {2, 3, 4, 7}, {2, 1, 7, 6}, {2, 1, 1, 7}, 0.5f, 0},    // V over heads, key-padding mask
      {{6, 5, 4}, {6, 4, 7}, {6, 7, 4}, {}, 3.0f, 1},                       // encoder: [b*h], no mask
      {{1, 5, 4}, {3, 4, 40}, {40, 3}, {5, 1}, 1.0f, -1},                   // Q over batch, V 2-D, column mask
      {{2, 1, 33, 8}, {1, 4, 8, 33}, {2, 4, 33, 16}, {33, 33}, 3.0f, 1},    // both batch dims broadcast
      {{4, 3}, {3, 70}, {70, 2}, {1}, 1.0f, -1},                            // 2-D, one-element mask
      {{2, 1, 4}, {2, 4, 1}, {2, 9, 3}, {6, 9}, 3.0f, 0},                   // one score, the mask grows it
      // bool Masks (Where): masked_fill's form and the keep form, finite and -inf fills
      {{2, 3, 5, 4}, {2, 3, 4, 7}, {2, 3, 7, 6}, {5, 7}, 2.0f, 1, 0, -std::numeric_limits<float>::infinity()},
      {{2, 3, 5, 4}, {2, 3, 4, 7}, {2, 1, 7, 6}, {2, 1, 1, 7}, 0.5f, 0, 1, -1e4f},
      {{1, 5, 4}, {3, 4, 40}, {40, 3}, {5, 1}, 1.0f, -1, 0, -2.5f},          // column mask
      {{2, 1, 4}, {2, 4, 1}, {2, 9, 3}, {6, 9}, 3.0f, 0, 1, 0.75f},          // the mask grows the scores
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    check(cases[i], GetParam());
  }
}

TEST_P(FusedAttentionKernel, ZeroSizeDims) {
  check({{2, 0, 4}, {2, 4, 7}, {2, 7, 3}, {}, 1.0f, -1}, GetParam());  // no query rows
  check({{2, 3, 0}, {2, 0, 7}, {2, 7, 3}, {}, 1.0f, -1}, GetParam());  // empty reduction: uniform weights
}

INSTANTIATE_TEST_SUITE_P(Threads, FusedAttentionKernel, ::testing::Values(1, 2));

TEST(FusedAttentionErrors, ShapesThatDoNotFit) {
  const Case inner{{2, 5, 4}, {2, 3, 7}, {2, 7, 6}, {}, 1.0f, -1};
  const Case mask_rows{{2, 5, 4}, {2, 4, 7}, {2, 7, 6}, {3, 7}, 1.0f, -1};  // 3 rows against 5
  const Case batch{{2, 5, 4}, {3, 4, 7}, {3, 7, 6}, {}, 1.0f, -1};
  for (const Case& c : {inner, mask_rows, batch}) {
    std::vector<NamedTensor> feeds = {{"q", random_tensor(c.q, 1)}, {"kt", random_tensor(c.kt, 2)},
                                      {"v", random_tensor(c.v, 3)}};
    if (!c.mask.empty()) feeds.push_back({"mask", random_tensor(c.mask, 4)});
    auto out = run_attention(c, feeds, 1, true);
    ASSERT_FALSE(out.is_ok());
    EXPECT_EQ(out.status().code(), ErrorCode::kBadInput) << out.status().message();
  }
}

TEST(FusedAttentionErrors, MaskTypeMustMatchTheForm) {
  // A float Mask with mask_keeps, a bool Mask without it, mask_keeps without
  // mask_fill: each refused when the model is loaded.
  struct Bad {
    DataType mask;
    std::map<std::string, Attribute> attrs;
    const char* message;
  };
  const std::vector<Bad> cases = {
      {DataType::kFloat, {{"mask_keeps", int_attr(1)}, {"mask_fill", float_attr(0)}}, "Mask must be bool"},
      {DataType::kBool, {}, "Mask must be float"},
      {DataType::kBool, {{"mask_keeps", int_attr(1)}}, "go together"},
      {DataType::kBool, {{"mask_keeps", int_attr(2)}, {"mask_fill", float_attr(0)}}, "must be 0 or 1"},
  };
  for (const Bad& c : cases) {
    GraphBuilder gb(13);
    gb.input("q", DataType::kFloat, {2, 5, 4}), gb.input("kt", DataType::kFloat, {2, 4, 7});
    gb.input("v", DataType::kFloat, {2, 7, 6}), gb.input("mask", c.mask, {5, 7});
    gb.node("FusedAttention", {"q", "kt", "v", "mask"}, {"y"}, c.attrs, "att", kOnnxMiniDomain);
    gb.output("y");
    // As the loader does: shape inference (which checks the Mask's type), then the kernels.
    Status status = infer_shapes(gb.graph());
    if (status.is_ok()) status = Session::from_graph(gb.graph(), SessionOptions{}).status();
    ASSERT_FALSE(status.is_ok()) << c.message;
    EXPECT_EQ(status.code(), ErrorCode::kInvalidModel) << status.message();
    EXPECT_NE(status.message().find(c.message), std::string::npos) << status.message();
  }
}

}  // namespace
}  // namespace onnx_mini::testing
