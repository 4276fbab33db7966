// ConvTranspose against the double-precision scatter of conv_reference.h:
// 1-D, 2-D and 3-D; strides, dilations, asymmetric pads, output_padding,
// output_shape (spatial sizes and the whole [N, M, ...] form), every auto_pad,
// groups; constant and fed weights, with and without bias. The test computes
// each axis's output size and begin pad itself from the ONNX-11 formulas.
#include <algorithm>

#include "tests/ops/conv_reference.h"
#include "tests/testutil/attribute_values.h"
#include "tests/testutil/graph_builder.h"

namespace onnx_mini::testing {
namespace {

struct TransposeCase {
  Shape x;                  // [N, C, spatial...]
  int64_t group_channels;   // M / group: W is [C, M / group, kernel...]
  std::vector<int64_t> kernel;
  std::vector<int64_t> strides = {}, dilations = {}, pads = {}, output_padding = {}, output_shape = {};
  int64_t group = 1;
  std::string auto_pad = "NOTSET";
  bool bias = true;

  size_t spatial() const { return x.size() - 2; }
  int64_t at(const std::vector<int64_t>& v, size_t i, int64_t fallback) const { return v.empty() ? fallback : v[i]; }
  Shape w_shape() const {
    Shape s = {x[1], group_channels};
    s.insert(s.end(), kernel.begin(), kernel.end());
    return s;
  }
  // Output size and begin pad of axis i, ConvTranspose-11:
  // full = s * (in - 1) + output_padding + (k - 1) * d + 1; with output_shape
  // (or SAME_*: out = in * s) total = full - out, split SAME_UPPER: begin =
  // total / 2, else begin = total - total / 2; otherwise out = full - pads.
  void axis(size_t i, int64_t* out, int64_t* pad_begin) const {
    const int64_t s = at(strides, i, 1), d = at(dilations, i, 1);
    const int64_t full = s * (x[i + 2] - 1) + at(output_padding, i, 0) + (kernel[i] - 1) * d + 1;
    const bool same = auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER";
    if (!output_shape.empty() || same) {
      *out = output_shape.empty() ? x[i + 2] * s : output_shape[output_shape.size() - spatial() + i];
      const int64_t total = full - *out;
      const int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);  // floor
      *pad_begin = auto_pad == "SAME_UPPER" ? half : total - half;
      return;
    }
    const bool valid = auto_pad == "VALID";
    *pad_begin = valid ? 0 : at(pads, i, 0);
    *out = full - *pad_begin - (valid ? 0 : at(pads, i + spatial(), 0));
  }
};

std::map<std::string, Attribute> transpose_attrs(const TransposeCase& c) {
  std::map<std::string, Attribute> a = {{"group", int_attr(c.group)}, {"auto_pad", string_attr(c.auto_pad)}};
  if (!c.strides.empty()) a["strides"] = ints_attr(c.strides);
  if (!c.dilations.empty()) a["dilations"] = ints_attr(c.dilations);
  if (!c.pads.empty()) a["pads"] = ints_attr(c.pads);
  if (!c.output_padding.empty()) a["output_padding"] = ints_attr(c.output_padding);
  if (!c.output_shape.empty()) a["output_shape"] = ints_attr(c.output_shape);
  return a;
}

void check(const TransposeCase& c, bool constant_w) {
  SCOPED_TRACE(::testing::PrintToString(c.x) + " k=" + ::testing::PrintToString(c.kernel) +
               " s=" + ::testing::PrintToString(c.strides) + " d=" + ::testing::PrintToString(c.dilations) +
               " p=" + ::testing::PrintToString(c.pads) + " op=" + ::testing::PrintToString(c.output_padding) +
               " os=" + ::testing::PrintToString(c.output_shape) + " g=" + std::to_string(c.group) + " " + c.auto_pad +
               (constant_w ? " constant W" : " fed W"));
  const Tensor x = random_tensor(c.x, 31);
  const Tensor w = random_tensor(c.w_shape(), 32);
  const Tensor b = random_tensor({c.group_channels * c.group}, 33);
  GraphBuilder gb;
  gb.input("X", DataType::kFloat, c.x);
  std::vector<NamedTensor> feeds = {{"X", x}};
  if (constant_w) {
    gb.initializer("W", w);
  } else {
    gb.input("W", DataType::kFloat, w.shape());
    feeds.push_back({"W", w});
  }
  if (c.bias) gb.initializer("B", b);
  gb.node("ConvTranspose", {"X", "W", c.bias ? "B" : ""}, {"Y"}, transpose_attrs(c), "deconv");
  gb.output("Y");
  SessionOptions opts;
  opts.opt_level = 0;
  auto session = Session::from_graph(gb.build(), opts);
  ASSERT_TRUE(session.is_ok()) << session.status().message();
  auto out = session.value()->run(feeds);
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  std::vector<int64_t> strides, dilations, pad_begin, sizes;
  for (size_t i = 0; i < c.spatial(); ++i) {
    int64_t size = 0, pb = 0;
    c.axis(i, &size, &pb);
    strides.push_back(c.at(c.strides, i, 1));
    dilations.push_back(c.at(c.dilations, i, 1));
    pad_begin.push_back(pb);
    sizes.push_back(size);
  }
  const Tensor want =
      reference_conv_transpose(x, w, c.bias ? &b : nullptr, c.group, strides, dilations, pad_begin, sizes);
  int64_t taps = c.x[1] / c.group;
  for (int64_t k : c.kernel) taps *= k;
  // Each output sums at most C/group * kernel products of values in [-1, 1)
  // in another order than the reference: 1e-5 per term bounds the float
  // rounding with a wide margin (as conv_test.cc).
  expect_close(out.value()[0].tensor, want, {.atol = 1e-5 * static_cast<double>(taps) + 1e-6, .rtol = 1e-5});
}

void check_both(const TransposeCase& c) {
  check(c, true);
  check(c, false);
}

TEST(ConvTransposeKernel, TwoDimensionalAttributes) {
  check_both({.x = {1, 3, 4, 5}, .group_channels = 2, .kernel = {3, 3}});
  check_both({.x = {2, 2, 4, 3}, .group_channels = 3, .kernel = {3, 2}, .strides = {2, 3}});
  check_both({.x = {1, 2, 5, 4}, .group_channels = 2, .kernel = {3, 3}, .strides = {2, 2}, .pads = {1, 0, 2, 1}});
  check_both({.x = {1, 2, 4, 4}, .group_channels = 2, .kernel = {2, 3}, .strides = {3, 2}, .dilations = {2, 2},
              .pads = {1, 1, 0, 2}, .output_padding = {1, 1}});
  check_both({.x = {1, 3, 3, 4}, .group_channels = 1, .kernel = {3, 3}, .strides = {2, 2}, .bias = false});
}

TEST(ConvTransposeKernel, OutputShapeAndAutoPad) {
  check_both({.x = {1, 2, 3, 3}, .group_channels = 2, .kernel = {3, 3}, .strides = {3, 2}, .output_shape = {10, 8}});
  check_both({.x = {1, 2, 3, 3}, .group_channels = 2, .kernel = {3, 3}, .strides = {3, 2}, .output_shape = {1, 2, 9, 7}});
  // An output larger than every input's footprint: the rest is the bias.
  check_both({.x = {1, 1, 2, 2}, .group_channels = 2, .kernel = {2, 2}, .output_shape = {6, 5}});
  for (const char* pad : {"SAME_UPPER", "SAME_LOWER", "VALID"}) {
    check_both({.x = {1, 2, 3, 4}, .group_channels = 2, .kernel = {3, 2}, .strides = {2, 3}, .auto_pad = pad});
    check_both({.x = {1, 2, 4, 3}, .group_channels = 1, .kernel = {4, 3}, .dilations = {1, 2}, .auto_pad = pad});
  }
}

TEST(ConvTransposeKernel, OneAndThreeDimensionsAndGroups) {
  check_both({.x = {2, 3, 7}, .group_channels = 4, .kernel = {3}, .strides = {2}, .pads = {1, 0}});
  check_both({.x = {1, 2, 6}, .group_channels = 2, .kernel = {5}, .strides = {3}, .dilations = {2}, .output_padding = {2}});
  check_both({.x = {1, 2, 3, 4, 2}, .group_channels = 2, .kernel = {2, 3, 2}, .strides = {2, 1, 2},
              .pads = {0, 1, 1, 1, 0, 0}});
  check_both({.x = {2, 6, 4, 4}, .group_channels = 2, .kernel = {3, 3}, .strides = {2, 2}, .pads = {1, 1, 1, 1},
              .group = 3});
  check_both({.x = {1, 4, 5, 5}, .group_channels = 1, .kernel = {3, 3}, .strides = {2, 2}, .group = 4});
  // Larger than one GEMM block: channels and pixels past the sizes above.
  check_both({.x = {2, 40, 9, 9}, .group_channels = 24, .kernel = {4, 4}, .strides = {2, 2}, .pads = {1, 1, 1, 1}});
}

}  // namespace
}  // namespace onnx_mini::testing
