// MaxPool (with Indices), AveragePool, LpPool and the global pools against a
// naive double-precision reference that visits every tap of every window.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "ops/registry.h"
#include "tests/testutil/attribute_values.h"
#include "tests/testutil/expect_close.h"
#include "tests/testutil/node_model.h"

namespace onnx_mini::testing {
namespace {

enum class Kind { kMax, kAverage, kLp };

struct PoolCase {
  Shape in;  // [N, C, spatial...]
  std::vector<int64_t> kernel, strides, dilations, pads;
  std::string auto_pad = "NOTSET";
  bool ceil_mode = false;
  bool count_include_pad = false;
  double p = 2;
};

struct RefAxis {
  int64_t in, out, k, s, d, pb, pe;
};

// The spec's output-size formulas, written out independently of the kernel's.
// nullopt when the kernel does not fit the padded input.
std::optional<RefAxis> ref_axis(const PoolCase& c, size_t a) {
  RefAxis r{c.in[a + 2], 0, c.kernel[a], c.strides[a], c.dilations[a], 0, 0};
  const int64_t ext = r.d * (r.k - 1) + 1;
  if (c.auto_pad == "SAME_UPPER" || c.auto_pad == "SAME_LOWER") {
    r.out = (r.in + r.s - 1) / r.s;
    const int64_t total = std::max<int64_t>(0, (r.out - 1) * r.s + ext - r.in);
    r.pb = c.auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
    r.pe = total - r.pb;
    return r;
  }
  if (c.auto_pad == "NOTSET") {
    r.pb = c.pads[a];
    r.pe = c.pads[a + c.kernel.size()];
  }
  const int64_t span = r.in + r.pb + r.pe - ext;
  if (span < 0) return std::nullopt;
  r.out = c.ceil_mode ? static_cast<int64_t>(std::ceil(static_cast<double>(span) / r.s)) + 1 : span / r.s + 1;
  // A ceil_mode window starting past the input and its left padding is dropped.
  if (c.ceil_mode && (r.out - 1) * r.s >= r.in + r.pb) --r.out;
  return r;
}

struct RefResult {
  bool valid = true;  // false: a kernel that does not fit, or a window of padding alone
  Shape shape;
  std::vector<double> y;
  std::vector<int64_t> indices_row_major, indices_col_major;

  static RefResult invalid() {
    RefResult r;
    r.valid = false;
    return r;
  }
};

RefResult reference_pool(const PoolCase& c, Kind kind, const std::vector<double>& x) {
  RefResult r;
  const size_t rank = c.kernel.size();
  std::vector<RefAxis> ax;
  for (size_t a = 0; a < rank; ++a) {
    auto axis = ref_axis(c, a);
    if (!axis) return RefResult::invalid();
    ax.push_back(*axis);
  }
  r.shape = {c.in[0], c.in[1]};
  Shape spatial_in, kshape;
  for (size_t a = 0; a < rank; ++a) {
    r.shape.push_back(ax[a].out);
    spatial_in.push_back(ax[a].in);
    kshape.push_back(ax[a].k);
  }
  int64_t in_size = 1, out_size = 1, taps = 1;
  for (size_t a = 0; a < rank; ++a) in_size *= ax[a].in, out_size *= ax[a].out, taps *= ax[a].k;
  Shape out_spatial(r.shape.begin() + 2, r.shape.end());
  for (int64_t plane = 0; plane < c.in[0] * c.in[1]; ++plane) {
    for (int64_t o = 0; o < out_size; ++o) {
      const auto oc = unravel(o, out_spatial);
      double acc = kind == Kind::kMax ? -std::numeric_limits<double>::infinity() : 0;
      int64_t valid = 0, padded = 0, best_row = -1, best_col = -1;
      for (int64_t t = 0; t < taps; ++t) {
        const auto tc = unravel(t, kshape);
        std::vector<int64_t> at(rank);
        bool inside = true, in_padding = true;
        for (size_t a = 0; a < rank; ++a) {
          at[a] = oc[a] * ax[a].s - ax[a].pb + tc[a] * ax[a].d;
          inside = inside && at[a] >= 0 && at[a] < ax[a].in;
          in_padding = in_padding && at[a] < ax[a].in + ax[a].pe;
        }
        padded += in_padding;
        if (!inside) continue;
        ++valid;
        int64_t col = 0;
        for (size_t a = rank; a-- > 0;) col = col * ax[a].in + at[a];
        const double v = x[static_cast<size_t>(plane * in_size + ravel(at, spatial_in))];
        if (kind == Kind::kMax) {
          const bool takes = best_row < 0 || v > acc || (std::isnan(v) && !std::isnan(acc));
          if (takes) acc = v, best_row = plane * in_size + ravel(at, spatial_in), best_col = plane * in_size + col;
        } else {
          acc += kind == Kind::kLp ? std::pow(std::fabs(v), c.p) : v;
        }
      }
      if (valid == 0 && !(kind == Kind::kAverage && c.count_include_pad) && kind != Kind::kLp) return RefResult::invalid();
      if (kind == Kind::kAverage) acc /= static_cast<double>(c.count_include_pad ? padded : valid);
      if (kind == Kind::kLp) acc = std::pow(acc, 1.0 / c.p);
      r.y.push_back(acc);
      r.indices_row_major.push_back(best_row);
      r.indices_col_major.push_back(best_col);
    }
  }
  return r;
}

NodeModel pool_model(const std::string& op, int opset, const PoolCase& c, const Tensor& x) {
  NodeModel m(op, opset);
  m.feed(x).attr_ints("kernel_shape", c.kernel).attr_ints("strides", c.strides);
  if (c.auto_pad == "NOTSET") m.attr_ints("pads", c.pads);
  else m.attr_string("auto_pad", c.auto_pad);
  if (std::any_of(c.dilations.begin(), c.dilations.end(), [](int64_t d) { return d != 1; })) {
    m.attr_ints("dilations", c.dilations);
  }
  if (c.ceil_mode) m.attr_int("ceil_mode", 1);
  return m;
}

// Seeded random window configurations over 1-3 spatial axes, valid or not.
std::vector<PoolCase> random_cases(uint64_t seed, int count, bool with_dilations) {
  std::mt19937_64 rng(seed);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  std::vector<PoolCase> cases;
  for (int i = 0; i < count; ++i) {
    PoolCase c;
    const size_t rank = static_cast<size_t>(pick(1, 3));
    c.in = {pick(1, 2), pick(1, 3)};
    for (size_t a = 0; a < rank; ++a) {
      c.in.push_back(pick(1, rank == 3 ? 6 : 11));
      c.kernel.push_back(pick(1, 4));
      c.strides.push_back(pick(1, 3));
      c.dilations.push_back(with_dilations ? pick(1, 2) : 1);
    }
    for (size_t a = 0; a < 2 * rank; ++a) c.pads.push_back(pick(0, 2));
    c.ceil_mode = pick(0, 1) == 1;
    cases.push_back(c);
  }
  return cases;
}

std::vector<double> as_doubles(const Tensor& t) {
  std::vector<double> v;
  for (float f : values_of<float>(t)) v.push_back(f);
  return v;
}

Tensor double_tensor(const Shape& s, const std::vector<double>& v) { return make_tensor<double>(s, v); }

TEST(Pool, MaxPoolWithIndicesAgainstReference) {
  int checked = 0;
  for (const PoolCase& c : random_cases(11, 150, true)) {
    const Tensor x = random_tensor(c.in, 7, -4.f, 4.f);
    const RefResult want = reference_pool(c, Kind::kMax, as_doubles(x));
    for (int order : {0, 1}) {
      auto out = pool_model("MaxPool", 12, c, x).attr_int("storage_order", order).outputs(2).run();
      ASSERT_EQ(out.is_ok(), want.valid) << out.status().message();
      if (!want.valid) {
        EXPECT_EQ(out.status().code(), ErrorCode::kInvalidModel);
        continue;
      }
      // Max picks one of its inputs: exact.
      expect_close(out.value()[0], double_tensor(want.shape, want.y), {0, 0});
      EXPECT_EQ(values_of<int64_t>(out.value()[1]), order ? want.indices_col_major : want.indices_row_major);
      // Without the Indices output the row path runs: the same values.
      auto rows = pool_model("MaxPool", 12, c, x).run();
      ASSERT_TRUE(rows.is_ok()) << rows.status().message();
      expect_close(rows.value()[0], double_tensor(want.shape, want.y), {0, 0});
      ++checked;
    }
  }
  EXPECT_GT(checked, 100);  // most random configurations are valid
}

TEST(Pool, AveragePoolAgainstReference) {
  for (int include : {0, 1}) {
    int checked = 0;
    // Opset 19 brings dilations; opset 11 has none.
    for (int opset : {11, 19}) {
      for (PoolCase c : random_cases(23 + static_cast<uint64_t>(opset), 120, opset == 19)) {
        c.count_include_pad = include == 1;
        const Tensor x = random_tensor(c.in, 9, -1.f, 1.f);
        const RefResult want = reference_pool(c, Kind::kAverage, as_doubles(x));
        auto out = pool_model("AveragePool", opset, c, x).attr_int("count_include_pad", include).run();
        ASSERT_EQ(out.is_ok(), want.valid) << out.status().message();
        if (!want.valid) continue;
        // <= 64 float additions of values in [-1, 1], then one division by the
        // tap count: the error is below 64 * 2^-24 ~ 4e-6 of the average's scale (1).
        expect_close(out.value()[0], double_tensor(want.shape, want.y), {4e-6, 0});
        ++checked;
      }
    }
    EXPECT_GT(checked, 80);  // many uncounted-padding cases pool padding alone: refused
  }
}

TEST(Pool, AveragePoolDilationsOnlyFromOpset19) {
  PoolCase c{{1, 1, 5, 5}, {2, 2}, {1, 1}, {2, 2}, {0, 0, 0, 0}};
  const Tensor x = random_tensor(c.in, 3);
  EXPECT_FALSE(pool_model("AveragePool", 11, c, x).run().is_ok());
  EXPECT_TRUE(pool_model("AveragePool", 19, c, x).run().is_ok());
  EXPECT_FALSE(pool_model("MaxPool", 8, c, x).run().is_ok());  // dilations arrive at 10
}

TEST(Pool, LpPoolEveryVersionAgainstReference) {
  for (double p : {1.0, 2.0, 3.0}) {
    for (int opset : {2, 11, 18}) {
      for (PoolCase c : random_cases(31, 60, opset == 18)) {
        if (opset < 18) c.ceil_mode = false;  // ceil_mode and dilations arrive at 18
        c.p = p;
        const Tensor x = random_tensor(c.in, 5, -2.f, 2.f);
        const RefResult want = reference_pool(c, Kind::kLp, as_doubles(x));
        auto out = pool_model("LpPool", opset, c, x).attr_int("p", static_cast<int64_t>(p)).run();
        ASSERT_EQ(out.is_ok(), want.valid) << out.status().message();
        if (!want.valid) continue;
        // A float sum of <= 64 powers, then a root that shrinks relative error by p.
        expect_close(out.value()[0], double_tensor(want.shape, want.y), {1e-6, 1e-5});
      }
    }
  }
  // LpPool-1 takes p as a float.
  PoolCase c{{1, 2, 4, 4}, {2, 2}, {2, 2}, {1, 1}, {0, 0, 0, 0}};
  c.p = 3;
  const Tensor x = random_tensor(c.in, 6);
  const RefResult want = reference_pool(c, Kind::kLp, as_doubles(x));
  auto out = pool_model("LpPool", 1, c, x).attr_float("p", 3.f).run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  expect_close(out.value()[0], double_tensor(want.shape, want.y), {1e-6, 1e-5});
  EXPECT_FALSE(pool_model("LpPool", 11, c, x).attr_int("p", 0).run().is_ok());
}

TEST(Pool, GlobalPoolsAgainstReference) {
  for (const Shape& s : {Shape{2, 3, 5}, Shape{1, 4, 7, 9}, Shape{2, 2, 3, 4, 5}, Shape{1, 1, 1000}}) {
    const Tensor x = random_tensor(s, 13, -3.f, 3.f);
    const auto v = as_doubles(x);
    const int64_t planes = s[0] * s[1], size = x.num_elements() / planes;
    std::vector<double> mx, mean, l2;
    for (int64_t p = 0; p < planes; ++p) {
      double m = -INFINITY, sum = 0, sq = 0;
      for (int64_t i = 0; i < size; ++i) {
        const double e = v[static_cast<size_t>(p * size + i)];
        m = std::max(m, e), sum += e, sq += e * e;
      }
      mx.push_back(m), mean.push_back(sum / static_cast<double>(size)), l2.push_back(std::sqrt(sq));
    }
    Shape ys(s.size(), 1);
    ys[0] = s[0], ys[1] = s[1];
    auto gmax = NodeModel("GlobalMaxPool", 1).feed(x).run();
    auto gavg = NodeModel("GlobalAveragePool", 1).feed(x).run();
    auto glp = NodeModel("GlobalLpPool", 2).feed(x).run();
    ASSERT_TRUE(gmax.is_ok() && gavg.is_ok() && glp.is_ok());
    expect_close(gmax.value()[0], double_tensor(ys, mx), {0, 0});
    // 16-lane float sums of <= 1000 values in [-3, 3]: ~ 1000/16 * 2^-24 * 3 ~ 1e-5 at worst.
    expect_close(gavg.value()[0], double_tensor(ys, mean), {2e-5, 0});
    expect_close(glp.value()[0], double_tensor(ys, l2), {0, 1e-5});
  }
}

TEST(Pool, MaxPoolIntegerTypesFromOpset12) {
  std::vector<int8_t> v8;
  std::vector<uint8_t> vu;
  for (int i = 0; i < 36; ++i) v8.push_back(static_cast<int8_t>((i * 37) % 256 - 128)), vu.push_back(static_cast<uint8_t>((i * 53) % 256));
  const Tensor x8 = make_tensor<int8_t>({1, 1, 6, 6}, v8), xu = make_tensor<uint8_t>({1, 1, 6, 6}, vu);
  PoolCase c{{1, 1, 6, 6}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}};
  std::vector<double> d8(v8.begin(), v8.end()), du(vu.begin(), vu.end());
  const RefResult w8 = reference_pool(c, Kind::kMax, d8), wu = reference_pool(c, Kind::kMax, du);
  auto o8 = pool_model("MaxPool", 12, c, x8).outputs(2).run();
  auto ou = pool_model("MaxPool", 12, c, xu).run();
  ASSERT_TRUE(o8.is_ok() && ou.is_ok());
  for (size_t i = 0; i < w8.y.size(); ++i) {
    EXPECT_EQ(o8.value()[0].data<int8_t>()[i], static_cast<int8_t>(w8.y[i]));  // padding never wins, even at -128
    EXPECT_EQ(ou.value()[0].data<uint8_t>()[i], static_cast<uint8_t>(wu.y[i]));
  }
  EXPECT_EQ(values_of<int64_t>(o8.value()[1]), w8.indices_row_major);
  auto old = pool_model("MaxPool", 11, c, x8).run();
  EXPECT_EQ(old.status().code(), ErrorCode::kUnsupported);
  EXPECT_FALSE(pool_model("AveragePool", 19, c, x8).run().is_ok());
}

TEST(Pool, MaxPoolPropagatesNaNOnBothPaths) {
  Tensor x = random_tensor({1, 1, 4, 4}, 2);
  x.data<float>()[5] = NAN;  // (1, 1): in windows (0, 0) of a 2x2 stride-2 pool
  PoolCase c{{1, 1, 4, 4}, {2, 2}, {2, 2}, {1, 1}, {0, 0, 0, 0}};
  auto with = pool_model("MaxPool", 12, c, x).outputs(2).run();
  auto rows = pool_model("MaxPool", 12, c, x).run();
  ASSERT_TRUE(with.is_ok() && rows.is_ok());
  EXPECT_TRUE(std::isnan(with.value()[0].data<float>()[0]));
  EXPECT_TRUE(std::isnan(rows.value()[0].data<float>()[0]));
  EXPECT_EQ(with.value()[1].data<int64_t>()[0], 5);
  EXPECT_FALSE(std::isnan(rows.value()[0].data<float>()[1]));
}

TEST(Pool, RowsLongerThanTheRowBufferAndWiderKernels) {
  // 9000 columns: pooled in chunks; a 4100-wide window: the direct path.
  for (const PoolCase& c : {PoolCase{{1, 2, 2, 9000}, {2, 3}, {1, 2}, {1, 1}, {0, 1, 0, 1}},
                            PoolCase{{1, 1, 1, 5000}, {1, 4100}, {1, 300}, {1, 1}, {0, 0, 0, 0}}}) {
    const Tensor x = random_tensor(c.in, 17);
    for (Kind kind : {Kind::kMax, Kind::kAverage}) {
      const RefResult want = reference_pool(c, kind, as_doubles(x));
      auto out = pool_model(kind == Kind::kMax ? "MaxPool" : "AveragePool", 12, c, x).run();
      ASSERT_TRUE(out.is_ok()) << out.status().message();
      // Sums of up to 4100 floats in [-1, 1]: 4100 * 2^-24 ~ 2.5e-4 of the scale, divided by 4100.
      expect_close(out.value()[0], double_tensor(want.shape, want.y), {1e-6, 0});
    }
  }
}

TEST(Pool, LoadTimeValidationNamesTheNumbers) {
  const Tensor x = random_tensor({1, 1, 4, 4}, 1);
  auto too_big = pool_model("MaxPool", 12, PoolCase{{1, 1, 4, 4}, {6, 2}, {1, 1}, {1, 1}, {1, 0, 0, 0}}, x).run();
  ASSERT_FALSE(too_big.is_ok());
  EXPECT_EQ(too_big.status().code(), ErrorCode::kInvalidModel);
  EXPECT_NE(too_big.status().message().find("kernel 6 is larger than the padded input 4 + 1 + 0 = 5"), std::string::npos)
      << too_big.status().message();
  auto only_pad = pool_model("MaxPool", 12, PoolCase{{1, 1, 4, 4}, {2, 1}, {3, 1}, {1, 1}, {0, 0, 5, 0}}, x).run();
  ASSERT_FALSE(only_pad.is_ok());
  EXPECT_NE(only_pad.status().message().find("pools padding only"), std::string::npos) << only_pad.status().message();
  auto both = NodeModel("MaxPool", 12).feed(x).attr_ints("kernel_shape", {2, 2}).attr_string("auto_pad", "SAME_UPPER")
                  .attr_ints("pads", {1, 1, 1, 1}).run();
  EXPECT_FALSE(both.is_ok());
  // The same parser and message as Conv's (ops/window_geometry.h).
  auto same = NodeModel("AveragePool", 11).feed(x).attr_ints("kernel_shape", {2, 2}).attr_string("auto_pad", "SAME").run();
  ASSERT_FALSE(same.is_ok());
  EXPECT_NE(same.status().message().find("attribute 'auto_pad' must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, got 'SAME'"),
            std::string::npos)
      << same.status().message();
  auto short_pads = NodeModel("MaxPool", 12).feed(x).attr_ints("kernel_shape", {2, 2}).attr_ints("pads", {1, 1}).run();
  ASSERT_FALSE(short_pads.is_ok());
  EXPECT_NE(short_pads.status().message().find("expected 4"), std::string::npos);
  EXPECT_FALSE(NodeModel("MaxPool", 12).feed(x).run().is_ok());  // kernel_shape is required
  EXPECT_FALSE(NodeModel("MaxPool", 12).feed(x).attr_ints("kernel_shape", {2}).run().is_ok());  // rank 3 expected
  EXPECT_FALSE(NodeModel("MaxPool", 12).feed(x).attr_ints("kernel_shape", {2, 2}).attr_int("storage_order", 2).run().is_ok());
  EXPECT_FALSE(NodeModel("AveragePool", 11).feed(x).attr_ints("kernel_shape", {2, 2}).attr_int("p", 2).run().is_ok());
}

TEST(Pool, AutoPadSameAndValid) {
  for (const std::string mode : {"SAME_UPPER", "SAME_LOWER", "VALID"}) {
    PoolCase c{{1, 2, 7, 6}, {3, 2}, {2, 3}, {1, 1}, {0, 0, 0, 0}, mode};
    const Tensor x = random_tensor(c.in, 4);
    for (Kind kind : {Kind::kMax, Kind::kAverage}) {
      const RefResult want = reference_pool(c, kind, as_doubles(x));
      auto out = pool_model(kind == Kind::kMax ? "MaxPool" : "AveragePool", 11, c, x).run();
      ASSERT_TRUE(out.is_ok()) << mode << ": " << out.status().message();
      expect_close(out.value()[0], double_tensor(want.shape, want.y), {1e-6, 0}, mode);  // <= 6 taps in [-1, 1]
    }
  }
}

TEST(Pool, ShapeInferenceKeepsSymbolicBatch) {
  const OpDef* def = default_registry().find("MaxPool", kOnnxDomain, 12);
  ASSERT_NE(def, nullptr);
  Attributes attrs;
  Attribute k;
  k.kind = Attribute::Kind::kInts;
  k.ints = {3, 3};
  attrs.set("kernel_shape", k);
  Attribute s = k;
  s.ints = {2, 2};
  attrs.set("strides", s);
  attrs.set("ceil_mode", int_attr(1));
  TensorInfo x;
  x.dtype = DataType::kFloat;
  x.has_shape = true;
  x.dims = {Dim{-1, "N"}, Dim{3, ""}, Dim{8, ""}, Dim{-1, "W"}};
  NodeInfo node;
  node.op_type = "MaxPool";
  node.name = "pool1";
  node.opset = node.since_version = 12;
  node.attributes = &attrs;
  node.inputs = {&x};
  node.num_outputs = 2;
  std::vector<TensorInfo> outs(2);
  ASSERT_TRUE(def->infer(node, outs).is_ok());
  ASSERT_EQ(outs[0].dims.size(), 4u);
  EXPECT_EQ(outs[0].dims[0].param, "N");
  EXPECT_EQ(outs[0].dims[1].value, 3);
  EXPECT_EQ(outs[0].dims[2].value, 4);  // ceil((8 - 3) / 2) + 1
  EXPECT_FALSE(outs[0].dims[3].known());
  EXPECT_EQ(outs[1].dtype, DataType::kInt64);

  const OpDef* global = default_registry().find("GlobalAveragePool", kOnnxDomain, 1);
  std::vector<TensorInfo> gout(1);
  NodeInfo gnode;
  gnode.op_type = "GlobalAveragePool";
  gnode.opset = gnode.since_version = 1;
  gnode.attributes = &attrs;
  gnode.inputs = {&x};
  gnode.num_outputs = 1;
  ASSERT_TRUE(global->infer(gnode, gout).is_ok());
  EXPECT_EQ(gout[0].dims[0].param, "N");
  EXPECT_EQ(gout[0].dims[3].value, 1);
}

}  // namespace
}  // namespace onnx_mini::testing
