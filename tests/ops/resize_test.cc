// Resize and Upsample against a naive double-precision reference written from
// the specification (one output element at a time, axis by axis: the n
// nearest input positions of x_original on an edge-padded axis, weighted by
// the mode's kernel), plus hand-worked values for what onnx 1.12 cannot
// generate (opset 18 antialias, axes, keep_aspect_ratio_policy; opset 19
// half_pixel_symmetric), the legacy forms and the load-time errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "tests/testutil/expect_close.h"
#include "tests/testutil/node_model.h"

namespace onnx_mini::testing {
namespace {

struct Spec {
  std::string mode = "nearest", coordinates = "half_pixel", nearest = "round_prefer_floor";
  double a = -0.75;
  bool exclude_outside = false, antialias = false;
  double extrapolation = 0;
};

double cubic(double t, double a) {
  t = std::abs(t);
  if (t <= 1) return (a + 2) * t * t * t - (a + 3) * t * t + 1;
  if (t < 2) return a * t * t * t - 5 * a * t * t + 8 * a * t - 4 * a;
  return 0;
}

// Coefficients for ratio r in (0, 1] (the n taps nearest x, lowest first).
std::vector<double> coefficients(const Spec& s, double r, double scale) {
  if (s.mode == "nearest") {
    if (r == 1) return {0, 1};
    if (s.nearest == "round_prefer_floor") return {r <= 0.5 ? 1.0 : 0.0, r > 0.5 ? 1.0 : 0.0};
    if (s.nearest == "round_prefer_ceil") return {r < 0.5 ? 1.0 : 0.0, r >= 0.5 ? 1.0 : 0.0};
    return s.nearest == "floor" ? std::vector<double>{1, 0} : std::vector<double>{0, 1};
  }
  const double f = s.antialias ? std::min(scale, 1.0) : 1.0;
  const double support = s.mode == "cubic" ? 2 : 1;
  const int start = static_cast<int>(std::floor(-support / f)) + 1;
  std::vector<double> c;
  double sum = 0;
  for (int i = start; i < 2 - start; ++i) {
    const double t = f * (i - r);
    c.push_back(s.mode == "cubic" ? cubic(t, s.a) : std::max(0.0, 1 - std::abs(t)));
    sum += c.back();
  }
  if (s.antialias) for (double& v : c) v /= sum;
  return c;
}

double interpolate_1d(const Spec& s, const std::vector<double>& data, double scale, int64_t out, int64_t o,
                      double roi0, double roi1) {
  const double in = static_cast<double>(data.size()), x = static_cast<double>(o);
  double xo = 0;
  if (s.coordinates == "half_pixel") xo = (x + 0.5) / scale - 0.5;
  if (s.coordinates == "half_pixel_symmetric") xo = in / 2 * (1 - out / (scale * in)) + (x + 0.5) / scale - 0.5;
  if (s.coordinates == "pytorch_half_pixel") xo = out > 1 ? (x + 0.5) / scale - 0.5 : 0;
  if (s.coordinates == "align_corners") xo = out > 1 ? x * (in - 1) / static_cast<double>(out - 1) : 0;
  if (s.coordinates == "asymmetric") xo = x / scale;
  if (s.coordinates == "tf_crop_and_resize") {
    xo = out > 1 ? roi0 * (in - 1) + x * (roi1 - roi0) * (in - 1) / static_cast<double>(out - 1)
                 : 0.5 * (roi0 + roi1) * (in - 1);
    if (xo < 0 || xo > in - 1) return s.extrapolation;
  }
  const double r = xo == std::floor(xo) ? 1.0 : xo - std::floor(xo);
  std::vector<double> c = coefficients(s, r, scale);
  const int64_t n = static_cast<int64_t>(c.size());
  // The n nearest positions to xo (ties to the lower one), on the edge-padded axis.
  std::vector<int64_t> idx;
  for (int64_t i = -n - 2; i < static_cast<int64_t>(data.size()) + n + 2; ++i) idx.push_back(i);
  std::stable_sort(idx.begin(), idx.end(), [&](int64_t p, int64_t q) { return std::abs(xo - p) < std::abs(xo - q); });
  idx.resize(static_cast<size_t>(n));
  std::sort(idx.begin(), idx.end());
  double sum = 0, v = 0;
  for (size_t k = 0; k < c.size(); ++k) {
    if (s.exclude_outside && (idx[k] < 0 || idx[k] >= static_cast<int64_t>(data.size()))) c[k] = 0;
    sum += c[k];
  }
  for (size_t k = 0; k < c.size(); ++k) {
    const int64_t i = std::clamp<int64_t>(idx[k], 0, static_cast<int64_t>(data.size()) - 1);
    v += (s.exclude_outside ? c[k] / sum : c[k]) * data[static_cast<size_t>(i)];
  }
  return v;
}

// Axes d.. of the sub-tensor at `offset`, at output coordinate o.
double interpolate_nd(const Spec& s, const Tensor& x, const std::vector<double>& scales, const Shape& out,
                      const std::vector<int64_t>& o, size_t d, int64_t offset, const std::vector<double>& roi) {
  const Shape& in = x.shape();
  int64_t stride = 1;
  for (size_t e = d + 1; e < in.size(); ++e) stride *= in[e];
  std::vector<double> line;
  for (int64_t i = 0; i < in[d]; ++i) {
    line.push_back(d + 1 == in.size() ? x.data<float>()[offset + i]
                                      : interpolate_nd(s, x, scales, out, o, d + 1, offset + i * stride, roi));
  }
  return interpolate_1d(s, line, scales[d], out[d], o[d], roi[d], roi[d + in.size()]);
}

Tensor reference(const Spec& s, const Tensor& x, const std::vector<double>& scales, const Shape& out,
                 std::vector<double> roi = {}) {
  if (roi.empty()) {
    roi.assign(x.shape().size(), 0.0);
    roi.resize(2 * x.shape().size(), 1.0);
  }
  Tensor y = Tensor::allocate(DataType::kDouble, out);
  for (int64_t i = 0; i < y.num_elements(); ++i) y.data<double>()[i] = interpolate_nd(s, x, scales, out, unravel(i, out), 0, 0, roi);
  return y;
}

NodeModel resize_node(const Spec& s, int opset, const Tensor& x) {
  NodeModel m("Resize", opset);
  m.feed(x).attr_string("mode", s.mode).attr_string("coordinate_transformation_mode", s.coordinates)
      .attr_string("nearest_mode", s.nearest).attr_float("cubic_coeff_a", static_cast<float>(s.a))
      .attr_int("exclude_outside", s.exclude_outside ? 1 : 0)
      .attr_float("extrapolation_value", static_cast<float>(s.extrapolation));
  if (s.antialias) m.attr_int("antialias", 1);
  return m;
}

// Float32 weights and sums of at most 4 x 4 (or 8 x 8 antialiased) taps of
// values in [-1, 1]: a few float ulps of the total weight magnitude.
constexpr Tolerance kTol = {.atol = 2e-6, .rtol = 1e-5};

TEST(Resize, EveryModeAndCoordinateModeAgainstReference) {
  const Tensor x = random_tensor({2, 3, 5, 4}, 1);
  const std::vector<std::vector<float>> scale_sets = {{1, 1, 2, 1.5f}, {1, 1, 0.6f, 0.8f}, {1, 1, 1.7f, 0.5f}};
  for (const std::string mode : {"nearest", "linear", "cubic"}) {
    for (const std::string coords : {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"}) {
      for (const auto& sc : scale_sets) {
        for (const std::string nearest : {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"}) {
          if (mode != "nearest" && nearest != "round_prefer_floor") continue;
          for (bool exclude : {false, true}) {
            if (mode != "cubic" && exclude) continue;
            Spec s{.mode = mode, .coordinates = coords, .nearest = nearest, .a = -0.5, .exclude_outside = exclude};
            SCOPED_TRACE(mode + " " + coords + " " + nearest + " " + std::to_string(sc[2]) + (exclude ? " exclude" : ""));
            Shape out = {2, 3};
            for (size_t d = 2; d < 4; ++d) out.push_back(static_cast<int64_t>(std::floor(x.shape()[d] * static_cast<double>(sc[d]))));
            std::vector<double> scales(sc.begin(), sc.end());
            for (int opset : {11, 13}) {
              NodeModel m = resize_node(s, opset, x);
              if (opset == 11) m.init(Tensor::allocate(DataType::kFloat, {0})); else m.none();  // roi: required at 11
              auto y = m.init(make_tensor({4}, sc)).run();
              ASSERT_TRUE(y.is_ok()) << y.status().message();
              expect_close(y.value()[0], reference(s, x, scales, out), kTol);
            }
          }
        }
      }
    }
  }
}

TEST(Resize, SizesFedScalesAndTfCropAndResize) {
  const Tensor x = random_tensor({1, 2, 4, 6}, 2);
  Spec s{.mode = "linear"};
  auto y = resize_node(s, 13, x).none().none().init(ints({1, 2, 7, 3})).run();
  ASSERT_TRUE(y.is_ok()) << y.status().message();
  expect_close(y.value()[0], reference(s, x, {1, 1, 7.0 / 4, 3.0 / 6}, {1, 2, 7, 3}), kTol);
  auto fed = resize_node(s, 13, x).none().feed(make_tensor({4}, {1, 1, 2, 0.5f})).run();
  ASSERT_TRUE(fed.is_ok()) << fed.status().message();
  expect_close(fed.value()[0], reference(s, x, {1, 1, 2, 0.5}, {1, 2, 8, 3}), kTol);
  Spec crop{.mode = "cubic", .coordinates = "tf_crop_and_resize", .extrapolation = 10};
  const std::vector<float> roi = {0, 0, 0.4f, -0.2f, 1, 1, 1.2f, 0.7f};
  auto c = resize_node(crop, 13, x).init(make_tensor({8}, roi)).none().init(ints({1, 2, 5, 4})).run();
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  expect_close(c.value()[0], reference(crop, x, {1, 1, 5.0 / 4, 4.0 / 6}, {1, 2, 5, 4}, {roi.begin(), roi.end()}), kTol);
}

TEST(Resize, ThreeResizedAxesAndAMiddleAxis) {
  const Tensor x = random_tensor({2, 3, 4, 5}, 3);
  for (const std::string mode : {"nearest", "linear", "cubic"}) {
    SCOPED_TRACE(mode);
    Spec s{.mode = mode};
    auto y = resize_node(s, 13, x).none().init(make_tensor({4}, {1, 2, 1.5f, 0.6f})).run();
    ASSERT_TRUE(y.is_ok()) << y.status().message();
    expect_close(y.value()[0], reference(s, x, {1, 2, 1.5, 0.6f}, {2, 6, 6, 3}), kTol);
    auto mid = resize_node(s, 13, x).none().init(make_tensor({4}, {1, 2, 1, 1})).run();  // only C changes
    ASSERT_TRUE(mid.is_ok()) << mid.status().message();
    expect_close(mid.value()[0], reference(s, x, {1, 2, 1, 1}, {2, 6, 4, 5}), kTol);
  }
}

// Input 1..16 as [1, 1, 4, 4], scales 0.6 (output 2 x 2), half_pixel, linear
// with antialias. Worked by hand: the filter widens to 1 / 0.6, so four taps.
// Output 0: x = 0.5 / 0.6 - 0.5 = 1/3, taps -1..2 at 0.6 * (i - 1/3) ->
// weights 0.2, 0.8, 0.6, 0 / 1.6 on indices 0, 0, 1, 2 -> 1.375 along a row.
// Output 1: x = 2 exactly -> ratio 1, weights 0, 0.4, 1, 0.4 / 1.8 on 0..3 -> 3.
// Rows add 4 per row and the columns take the same weights: 2.875, 4.5, 9.375, 11.
TEST(Resize, AntialiasLinearWorkedByHand) {
  std::vector<float> v(16);
  for (int i = 0; i < 16; ++i) v[static_cast<size_t>(i)] = static_cast<float>(i + 1);
  Spec s{.mode = "linear", .antialias = true};
  auto y = resize_node(s, 18, make_tensor({1, 1, 4, 4}, v)).none().init(make_tensor({4}, {1, 1, 0.6f, 0.6f})).run();
  ASSERT_TRUE(y.is_ok()) << y.status().message();
  expect_close(y.value()[0], make_tensor({1, 1, 2, 2}, {2.875f, 4.5f, 9.375f, 11.f}), {.atol = 1e-5, .rtol = 1e-6});
  // Antialias before opset 18 is an unknown attribute.
  EXPECT_EQ(resize_node(s, 13, make_tensor({1, 1, 4, 4}, v)).none().init(make_tensor({4}, {1, 1, 0.6f, 0.6f})).run()
                .status().code(), ErrorCode::kInvalidModel);
}

TEST(Resize, AntialiasLinearAndCubicAgainstReference) {
  const Tensor x = random_tensor({1, 2, 9, 7}, 4);
  for (const std::string mode : {"linear", "cubic"}) {
    for (float scale : {0.3f, 0.55f, 1.5f}) {
      SCOPED_TRACE(mode + " " + std::to_string(scale));
      Spec s{.mode = mode, .antialias = true};
      auto y = resize_node(s, 18, x).none().init(make_tensor({4}, {1, 1, scale, scale})).run();
      ASSERT_TRUE(y.is_ok()) << y.status().message();
      const Shape out = {1, 2, static_cast<int64_t>(std::floor(9 * static_cast<double>(scale))),
                         static_cast<int64_t>(std::floor(7 * static_cast<double>(scale)))};
      expect_close(y.value()[0], reference(s, x, {1, 1, scale, scale}, out), kTol);
    }
  }
}

// [1, 2, 3, 4] shrunk by 0.6 to 2 (not 2.4): half_pixel_symmetric shifts by
// (4 / 2) * (1 - 2 / 2.4) = 1/3, so x = 1/3 + 0.5 / 0.6 - 0.5 = 2/3 and
// 1/3 + 1.5 / 0.6 - 0.5 = 7/3: linear gives 5/3 and 10/3 (half_pixel: 4/3, 3).
TEST(Resize, HalfPixelSymmetricWorkedByHandFromOpset19) {
  const Tensor x = make_tensor({1, 1, 1, 4}, {1, 2, 3, 4});
  Spec s{.mode = "linear", .coordinates = "half_pixel_symmetric"};
  auto y = resize_node(s, 19, x).none().init(make_tensor({4}, {1, 1, 1, 0.6f})).run();
  ASSERT_TRUE(y.is_ok()) << y.status().message();
  expect_close(y.value()[0], make_tensor({1, 1, 1, 2}, {5.f / 3, 10.f / 3}), {.atol = 1e-5, .rtol = 1e-6});
  Spec half{.mode = "linear"};
  auto h = resize_node(half, 19, x).none().init(make_tensor({4}, {1, 1, 1, 0.6f})).run();
  ASSERT_TRUE(h.is_ok());
  expect_close(h.value()[0], make_tensor({1, 1, 1, 2}, {4.f / 3, 3.f}), {.atol = 1e-5, .rtol = 1e-6});
  const Tensor r = random_tensor({1, 2, 5, 7}, 5);
  auto c = resize_node(Spec{.mode = "cubic", .coordinates = "half_pixel_symmetric"}, 19, r).none()
               .init(make_tensor({4}, {1, 1, 0.7f, 1.3f})).run();
  ASSERT_TRUE(c.is_ok());
  expect_close(c.value()[0], reference(Spec{.mode = "cubic", .coordinates = "half_pixel_symmetric"}, r,
                                       {1, 1, 0.7f, 1.3f}, {1, 2, 3, 9}), kTol);
  EXPECT_EQ(resize_node(s, 18, x).none().init(make_tensor({4}, {1, 1, 1, 0.6f})).run().status().code(),
            ErrorCode::kInvalidModel);
}

TEST(Resize, AxesFromOpset18) {
  const Tensor x = random_tensor({2, 3, 4, 5}, 6);
  Spec s{.mode = "cubic"};
  auto full = resize_node(s, 13, x).none().init(make_tensor({4}, {1, 1, 1.5f, 0.8f})).run();
  auto axes = resize_node(s, 18, x).attr_ints("axes", {2, 3}).none().init(make_tensor({2}, {1.5f, 0.8f})).run();
  auto negative = resize_node(s, 18, x).attr_ints("axes", {-1, -2}).none().init(make_tensor({2}, {0.8f, 1.5f})).run();
  auto sizes = resize_node(s, 18, x).attr_ints("axes", {3}).none().none().init(ints({4})).run();
  ASSERT_TRUE(full.is_ok() && axes.is_ok() && negative.is_ok() && sizes.is_ok())
      << axes.status().message() << negative.status().message() << sizes.status().message();
  expect_close(axes.value()[0], full.value()[0], {.atol = 0, .rtol = 0});
  expect_close(negative.value()[0], full.value()[0], {.atol = 0, .rtol = 0});
  expect_close(sizes.value()[0], reference(s, x, {1, 1, 1, 0.8}, {2, 3, 4, 4}), kTol);
  EXPECT_EQ(resize_node(s, 18, x).attr_ints("axes", {2, -2}).none().init(make_tensor({2}, {1, 1})).run().status().code(),
            ErrorCode::kInvalidModel);
  EXPECT_EQ(resize_node(s, 18, x).attr_ints("axes", {2, 3}).none().init(make_tensor({4}, {1, 1, 1, 1})).run()
                .status().code(), ErrorCode::kInvalidModel);
}

// sizes [7, 8] for a 2 x 2 input: the scales would be 3.5 and 4. not_larger
// takes 3.5 for both (output 7 x 7), not_smaller 4 (8 x 8); stretch 7 x 8.
TEST(Resize, KeepAspectRatioPolicyFromOpset18) {
  const Tensor x = make_tensor({1, 1, 2, 2}, {1, 2, 3, 4});
  for (const auto& [policy, h, w, scale] : {std::tuple{"stretch", 7, 8, 0.0}, {"not_larger", 7, 7, 3.5},
                                            {"not_smaller", 8, 8, 4.0}}) {
    SCOPED_TRACE(policy);
    Spec s{.mode = "nearest"};
    auto y = resize_node(s, 18, x).attr_string("keep_aspect_ratio_policy", policy).attr_ints("axes", {2, 3}).none()
                 .none().init(ints({7, 8})).run();
    ASSERT_TRUE(y.is_ok()) << y.status().message();
    const std::vector<double> sc = scale == 0 ? std::vector<double>{1, 1, 3.5, 4} : std::vector<double>{1, 1, scale, scale};
    expect_close(y.value()[0], reference(s, x, sc, {1, 1, h, w}), {.atol = 0, .rtol = 0});
  }
  EXPECT_EQ(resize_node(Spec{}, 18, x).attr_string("keep_aspect_ratio_policy", "fit").none().none()
                .init(ints({1, 1, 4, 4})).run().status().code(), ErrorCode::kInvalidModel);
}

TEST(Resize, LegacyUpsampleAndResize10) {
  const Tensor x = random_tensor({1, 2, 3, 4}, 7);
  Spec nearest{.coordinates = "asymmetric", .nearest = "floor"};
  auto u7 = NodeModel("Upsample", 7).feed(x).attr_floats("scales", {1, 1, 2, 3}).run();
  auto u9 = NodeModel("Upsample", 9).feed(x).init(make_tensor({4}, {1, 1, 2, 3})).run();
  auto r10 = NodeModel("Resize", 10).feed(x).init(make_tensor({4}, {1, 1, 2, 3})).run();
  ASSERT_TRUE(u7.is_ok() && u9.is_ok() && r10.is_ok()) << u7.status().message() << u9.status().message();
  const Tensor want = reference(nearest, x, {1, 1, 2, 3}, {1, 2, 6, 12});
  for (const auto* y : {&u7, &u9, &r10}) expect_close(y->value()[0], want, {.atol = 0, .rtol = 0});
  Spec linear{.mode = "linear", .coordinates = "asymmetric"};
  auto l = NodeModel("Upsample", 9).feed(x).init(make_tensor({4}, {1, 1, 2, 1.5f})).attr_string("mode", "linear").run();
  ASSERT_TRUE(l.is_ok());
  expect_close(l.value()[0], reference(linear, x, {1, 1, 2, 1.5}, {1, 2, 6, 6}), kTol);
  // Resize-10 shrinking rounds the index up (ONNX Runtime's reading of the legacy form).
  auto down = NodeModel("Resize", 10).feed(make_tensor({1, 1, 2, 4}, {1, 2, 3, 4, 5, 6, 7, 8}))
                  .init(make_tensor({4}, {1, 1, 0.6f, 0.6f})).run();
  ASSERT_TRUE(down.is_ok());
  EXPECT_EQ(values_of<float>(down.value()[0]), (std::vector<float>{1, 3}));
  EXPECT_EQ(NodeModel("Upsample", 9).feed(x).init(make_tensor({4}, {1, 1, 0.5f, 1})).run().status().code(),
            ErrorCode::kInvalidModel);  // Upsample only enlarges
  EXPECT_EQ(NodeModel("Upsample", 9).feed(x).init(make_tensor({4}, {1, 1, 2, 2})).attr_string("mode", "cubic").run()
                .status().code(), ErrorCode::kInvalidModel);
}

TEST(Resize, LoadTimeShapesAndErrors) {
  const Tensor x = random_tensor({2, 3, 4, 4}, 8);
  auto sym = NodeModel("Resize", 13).input(In::feed_symbolic(x)).none().init(make_tensor({4}, {1, 1, 2, 2})).run();
  ASSERT_TRUE(sym.is_ok()) << sym.status().message();
  EXPECT_EQ(sym.value()[0].shape(), (Shape{2, 3, 8, 8}));
  auto both = resize_node(Spec{}, 13, x).none().init(make_tensor({4}, {1, 1, 2, 2})).init(ints({2, 3, 8, 8})).run();
  ASSERT_FALSE(both.is_ok());
  EXPECT_EQ(both.status().code(), ErrorCode::kInvalidModel);
  EXPECT_NE(both.status().message().find("'n'"), std::string::npos) << both.status().message();
  auto length = resize_node(Spec{}, 13, x).none().init(make_tensor({2}, {2, 2})).run();
  EXPECT_EQ(length.status().code(), ErrorCode::kInvalidModel);
  EXPECT_NE(length.status().message().find("scales has 2 values; expected 4"), std::string::npos)
      << length.status().message();
  EXPECT_EQ(resize_node(Spec{}, 13, x).none().init(make_tensor({4}, {1, 1, -2, 2})).run().status().code(),
            ErrorCode::kInvalidModel);
  EXPECT_EQ(resize_node(Spec{}, 13, x).none().feed(make_tensor({4}, {1, 1, -2, 2})).run().status().code(),
            ErrorCode::kBadInput);
  EXPECT_EQ(resize_node(Spec{.mode = "area"}, 13, x).none().init(make_tensor({4}, {1, 1, 2, 2})).run().status().code(),
            ErrorCode::kInvalidModel);
  EXPECT_EQ(resize_node(Spec{.nearest = "round"}, 13, x).none().init(make_tensor({4}, {1, 1, 2, 2})).run()
                .status().code(), ErrorCode::kInvalidModel);
  EXPECT_EQ(resize_node(Spec{}, 13, x).run().status().code(), ErrorCode::kInvalidModel);  // neither scales nor sizes
}

}  // namespace
}  // namespace onnx_mini::testing
