// The two forms of the packed convolution for short reductions, the patch
// panels (ops/conv_patch_panel.h) and the phase planes (ops/conv_phase_planes.h),
// run directly against the double-precision reference of conv_reference.h:
// strides 1-3, kernels 1..7, asymmetric and SAME pads, dilation, output rows
// narrower than, around and wider than a 32-pixel panel, C = 1..4, output
// channels around the row tiles (8..12), batch 1..3, one and two threads,
// every epilogue, NaN and Inf; then through a session (the form ConvKernel
// picks for the RGB stems) and the rules that pick them. Every case runs on
// the patch panels and, where phase_planes_can_run takes it, on the phase planes.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>

#include "ops/conv_epilogue.h"
#include "ops/conv_patch_panel.h"
#include "ops/conv_phase_planes.h"
#include "ops/parallel.h"
#include "tests/ops/conv_node.h"
#include "tests/ops/conv_reference.h"
#include "tests/testutil/attribute_values.h"
#include "tests/testutil/graph_builder.h"

namespace onnx_mini::testing {
namespace {

struct Epilogue {
  std::string activation;  // "" for none
  std::vector<std::pair<std::string, float>> params = {};
  std::function<double(double)> fn = [](double v) { return v; };
  bool z = false;  // the skip input
};

Attributes attributes_of(const ConvCase& c) {
  Attributes a;
  a.set("group", int_attr(c.group));
  a.set("auto_pad", string_attr(c.auto_pad));
  if (!c.strides.empty()) a.set("strides", ints_attr(c.strides));
  if (!c.dilations.empty()) a.set("dilations", ints_attr(c.dilations));
  if (!c.pads.empty()) a.set("pads", ints_attr(c.pads));
  return a;
}

std::string describe(const ConvCase& c, const Epilogue& e, int threads) {
  auto list = [](const std::vector<int64_t>& v) {
    std::string s;
    for (int64_t x : v) s += std::to_string(x) + ",";
    return "[" + s + "]";
  };
  return "x=" + list(c.x) + " M=" + std::to_string(c.out_channels) + " k=" + list(c.kernel) + " s=" + list(c.strides) +
         " d=" + list(c.dilations) + " p=" + list(c.pads) + " g=" + std::to_string(c.group) + " " + c.auto_pad +
         (c.bias ? " +B" : "") + " act=" + e.activation + (e.z ? " +Z" : "") + " threads=" + std::to_string(threads);
}

int64_t depth_of(const ConvCase& c) {
  int64_t k = c.x[1] / c.group;
  for (int64_t kd : c.kernel) k *= kd;
  return k;
}

enum class Form { kPatchPanel, kPhasePlanes };

// Y from the form (Y starts as NaN, so an output the form never writes fails),
// or nothing when the phase-plane form does not take the case.
std::optional<Tensor> run_form(Form form, const ConvCase& c, const Tensor& x, const Tensor& w, const Tensor* b,
                               const Tensor* z, const Epilogue& e, int threads) {
  auto attrs = ConvAttributes::parse(attributes_of(c), /*transpose=*/false);
  EXPECT_TRUE(attrs.is_ok());
  auto g = conv_geometry(attrs.value(), x.shape(), w.shape());
  EXPECT_TRUE(g.is_ok()) << g.status().message();
  Attributes params;
  for (const auto& [name, v] : e.params) params.set(name, float_attr(v));
  auto epilogue = make_conv_epilogue(e.activation, params);
  EXPECT_TRUE(epilogue.is_ok());
  const int64_t m = c.out_channels, k = depth_of(c);
  const PackedWeights packed = PackedWeights::pack_rows(w.data<float>(), m, k, k, c.group);
  Tensor y = Tensor::allocate(DataType::kFloat, c.y_shape());
  std::fill_n(y.data<float>(), y.num_elements(), std::numeric_limits<float>::quiet_NaN());
  ThreadPool pool(threads);
  ConvRunArgs args;
  args.x = x.data<float>();
  args.bias = b ? b->data<float>() : nullptr;
  args.z = z ? z->data<float>() : nullptr;
  args.y = y.data<float>();
  args.epilogue = epilogue.value().get();
  args.pool = threads > 1 ? &pool : nullptr;
  if (form == Form::kPatchPanel) {
    run_patch_panel(g.value(), packed, args);
  } else if (phase_planes_can_run(g.value(), args)) {
    run_phase_planes(g.value(), packed, args);
  } else {
    return std::nullopt;
  }
  return y;
}

// Runs the case on both forms, 1 and 2 threads: all match the reference, and
// each form's two runs each other bit for bit (the work is split, never a
// sum). Returns whether the phase-plane form took it.
bool check(const ConvCase& c, const Epilogue& e = {}, uint64_t seed = 31) {
  SCOPED_TRACE(describe(c, e, 0));
  EXPECT_LE(depth_of(c), kMaxPatchPanelDepth);
  const Tensor x = random_tensor(c.x, seed), w = random_tensor(c.w_shape(), seed + 1);
  const Tensor b = random_tensor({c.out_channels}, seed + 2), z = random_tensor(c.y_shape(), seed + 3);
  const Tensor want = reference_conv(c, x, w, c.bias ? &b : nullptr, e.z ? &z : nullptr, e.fn);
  // Float sums of K products of values in [-1, 1) in another order than the
  // reference's: rounding grows like sqrt(K) * 2^-24 * sum |x w|; 1e-5 * K
  // bounds it with a wide margin (as ConvKernel's tests do).
  const Tolerance tol{.atol = 1e-5 * static_cast<double>(depth_of(c)) + 1e-6, .rtol = 1e-5};
  bool phase_planes = false;
  for (Form form : {Form::kPatchPanel, Form::kPhasePlanes}) {
    SCOPED_TRACE(form == Form::kPatchPanel ? "patch panels" : "phase planes");
    const auto one = run_form(form, c, x, w, c.bias ? &b : nullptr, e.z ? &z : nullptr, e, 1);
    const auto two = run_form(form, c, x, w, c.bias ? &b : nullptr, e.z ? &z : nullptr, e, 2);
    EXPECT_EQ(one.has_value(), two.has_value());
    if (!one || !two) continue;
    phase_planes = form == Form::kPhasePlanes;
    expect_close(*one, want, tol, "1 thread");
    expect_close(*two, want, tol, "2 threads");
    EXPECT_EQ(0, std::memcmp(one->raw_data(), two->raw_data(), one->byte_size()));
  }
  return phase_planes;
}

class ConvPatchPanel : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PackedWeights::supported()) GTEST_SKIP() << "the patch-panel form needs AVX-512F, which this CPU lacks";
  }
};

TEST_F(ConvPatchPanel, StridesAndKernels) {
  int64_t width = 5;
  for (int64_t stride = 1; stride <= 3; ++stride) {
    for (int64_t kernel = 1; kernel <= 7; ++kernel) {
      const int64_t channels = kernel % 4 + 1;
      width = width * 7 % 61 + kernel;  // 12..67: below, around and past one panel
      check({.x = {1, channels, kernel + 4, width}, .out_channels = 13, .kernel = {kernel, kernel},
             .strides = {stride, stride}, .pads = {kernel / 2, kernel / 2, kernel / 2, kernel / 2}});
    }
  }
  check({.x = {1, 3, 9, 40}, .out_channels = 10, .kernel = {2, 5}, .strides = {3, 2}});
  check({.x = {1, 2, 8, 50}, .out_channels = 9, .kernel = {4, 1}, .strides = {1, 3}, .pads = {1, 0, 2, 0}});
}

TEST_F(ConvPatchPanel, PaddingAndDilation) {
  check({.x = {1, 3, 9, 37}, .out_channels = 12, .kernel = {3, 3}, .strides = {2, 2}, .pads = {0, 2, 3, 1}});
  check({.x = {1, 3, 9, 37}, .out_channels = 12, .kernel = {7, 7}, .strides = {2, 2}, .pads = {3, 0, 1, 5}});
  check({.x = {1, 2, 6, 20}, .out_channels = 8, .kernel = {3, 3}, .pads = {4, 4, 4, 4}});  // whole taps in the pad
  for (const char* pad : {"SAME_UPPER", "SAME_LOWER", "VALID"}) {
    for (int64_t stride : {1, 2, 3}) {
      check({.x = {1, 3, 10, 45}, .out_channels = 11, .kernel = {4, 4}, .strides = {stride, stride}, .auto_pad = pad});
    }
  }
  check({.x = {1, 2, 12, 40}, .out_channels = 7, .kernel = {3, 3}, .dilations = {2, 3}, .pads = {2, 1, 0, 3}});
  check({.x = {1, 3, 15, 70}, .out_channels = 16, .kernel = {3, 3}, .strides = {2, 2}, .dilations = {3, 2},
         .pads = {1, 2, 1, 2}});
  check({.x = {1, 1, 11, 60}, .out_channels = 5, .kernel = {2, 4}, .strides = {3, 3}, .dilations = {2, 5}});
  // Taps far apart (masks cover a row segment of 132 values), and a kernel
  // row wider than the 16 taps whose masks a panel keeps (loaded by gathers).
  check({.x = {1, 2, 3, 150}, .out_channels = 6, .kernel = {1, 5}, .dilations = {1, 25}, .pads = {0, 3, 0, 2}});
  check({.x = {1, 2, 3, 180}, .out_channels = 6, .kernel = {2, 4}, .strides = {2, 2}, .dilations = {1, 23}});
  check({.x = {1, 2, 2, 60}, .out_channels = 6, .kernel = {1, 17}, .pads = {0, 8, 0, 9}});
}

// Output rows narrower than a panel, of one 16-lane vector, around 32, 48 and
// 64, and the stems' 111 and 112; with 8 output channels (the phase planes'
// 48-pixel calls) and 12 (32-pixel calls).
TEST_F(ConvPatchPanel, OutputWidths) {
  for (int64_t m : {8, 12}) {
    for (int64_t out : {1, 2, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 111, 112}) {
      check({.x = {1, 3, 5, 2 * out + 1}, .out_channels = m, .kernel = {3, 3}, .strides = {2, 2}});
      check({.x = {1, 3, 4, out}, .out_channels = m, .kernel = {3, 3}, .pads = {1, 1, 1, 1}});
    }
  }
}

// At column stride 2 each input row is read once into both column phases' planes
// (split_channel_stride2): 32 columns a step where both phases' columns lie in
// the row, the rest one at a time. Left pads 0-3 (the first column of each
// phase moves), widths at and around multiples of 32, row strides 1 and 2,
// bottom and right pads.
TEST_F(ConvPatchPanel, PhasePlanesColumnStrideTwo) {
  for (int64_t left = 0; left <= 3; ++left) {
    for (int64_t width : {31, 32, 33, 34, 63, 64, 65, 97, 224}) {
      for (int64_t row_stride : {1, 2}) {
        // 7 wide only where its 3 extra plane columns are within the 15 % the form allows.
        const int64_t kernel = left == 3 && width >= 63 ? 7 : 3;
        EXPECT_TRUE(check({.x = {1, 2, 6, width}, .out_channels = 8, .kernel = {kernel, kernel},
                           .strides = {row_stride, 2}, .pads = {left % 2, left, 1, (width + left) % 3}}));
      }
    }
  }
}

// Output channels below one tile, at 8..12-row tiles and past several, with
// and without bias; batches and groups.
TEST_F(ConvPatchPanel, ChannelsBatchesAndGroups) {
  for (int64_t m : {1, 5, 8, 9, 12, 13, 25, 32, 64, 70}) {
    check({.x = {1, 3, 6, 35}, .out_channels = m, .kernel = {3, 3}, .strides = {2, 2}, .pads = {1, 1, 1, 1}});
  }
  for (int64_t batch : {1, 2, 3}) {
    check({.x = {batch, 4, 7, 33}, .out_channels = 20, .kernel = {3, 3}, .pads = {1, 1, 1, 1}, .bias = false});
  }
  check({.x = {2, 4, 7, 33}, .out_channels = 6, .kernel = {3, 3}, .pads = {1, 1, 1, 1}, .group = 2});
  check({.x = {1, 6, 5, 40}, .out_channels = 27, .kernel = {5, 5}, .strides = {2, 2}, .pads = {2, 2, 2, 2}, .group = 3});
}

TEST_F(ConvPatchPanel, OneAndThreeDimensions) {
  check({.x = {2, 3, 70}, .out_channels = 10, .kernel = {5}, .strides = {2}, .pads = {2, 1}});
  check({.x = {1, 2, 4, 5, 40}, .out_channels = 9, .kernel = {3, 2, 3}, .strides = {1, 2, 2}, .pads = {1, 0, 1, 1, 1, 0}});
}

TEST_F(ConvPatchPanel, Epilogues) {
  std::vector<Epilogue> epilogues = {{}};
  for (const ConvActivation& a : fused_activations()) epilogues.push_back({a.name, a.params, a.fn});
  for (Epilogue e : epilogues) {
    for (bool bias : {true, false}) {
      const ConvCase c{.x = {2, 3, 7, 40}, .out_channels = 13, .kernel = {3, 3}, .strides = {2, 2},
                       .pads = {1, 1, 1, 1}, .bias = bias};
      e.z = false;
      check(c, e);
      e.z = true;
      check(c, e);
    }
    // Rows as wide as a call or wider (the phase planes store such calls per
    // vector, one row break at most): 8 channels take 48-pixel calls, 12 take 32.
    for (int64_t m : {8, 12}) {
      for (int64_t out : {32, 47, 48, 60, 111}) {
        const ConvCase c{.x = {1, 3, 6, 2 * out + 1}, .out_channels = m, .kernel = {3, 3}, .strides = {2, 2}};
        e.z = false;
        check(c, e);
        e.z = true;
        check(c, e);
      }
    }
  }
}

// NaN and Inf in X reach exactly the outputs whose windows hold them (and
// no other: the padding is zeros, never a neighbour's value), through the register epilogue (ReLU keeps NaN) and the functor one.
TEST_F(ConvPatchPanel, NanAndInfPropagate) {
  const ConvCase c{.x = {1, 3, 9, 50}, .out_channels = 13, .kernel = {3, 3}, .strides = {2, 2}, .pads = {1, 1, 1, 1}};
  Tensor x = random_tensor(c.x, 41);
  const float inf = std::numeric_limits<float>::infinity();
  x.data<float>()[2 * 50 + 7] = std::numeric_limits<float>::quiet_NaN();
  x.data<float>()[450 + 5 * 50 + 30] = inf;
  x.data<float>()[900 + 8 * 50 + 49] = -inf;
  const Tensor w = random_tensor(c.w_shape(), 42), b = random_tensor({13}, 43);
  for (const Epilogue& e : {Epilogue{}, Epilogue{"Relu", {}, [](double v) { return v < 0 ? 0 : v; }},
                            Epilogue{"Tanh", {}, [](double v) { return std::tanh(v); }}}) {
    SCOPED_TRACE("act=" + e.activation);
    const Tensor want = reference_conv(c, x, w, &b, nullptr, e.fn);
    const Tolerance tol{.atol = 1e-5 * 27 + 1e-6, .rtol = 1e-5};  // as check()
    for (Form form : {Form::kPatchPanel, Form::kPhasePlanes}) {
      for (int threads : {1, 2}) {
        const auto y = run_form(form, c, x, w, &b, nullptr, e, threads);
        // The phase planes take the epilogues the micro-kernel applies in registers.
        EXPECT_EQ(y.has_value(), form == Form::kPatchPanel || e.activation != "Tanh");
        if (y) expect_close(*y, want, tol);
      }
    }
  }
}

// The phase planes take 1-D and 2-D convolutions of one group with a register
// epilogue, whose rows waste at most 15 % of the computed columns: the stems
// (here at a reduced height, with their activations), not 3-D, groups,
// functor epilogues or narrow rows with a wide kernel.
TEST_F(ConvPatchPanel, PhasePlanesTakeTheStems) {
  const Epilogue relu{"Relu", {}, [](double v) { return v < 0 ? 0 : v; }};
  const Epilogue relu6{"Clip", {{"min", 0.0f}, {"max", 6.0f}}, [](double v) { return std::clamp(v, 0.0, 6.0); }};
  EXPECT_TRUE(check({.x = {1, 3, 9, 224}, .out_channels = 64, .kernel = {3, 3}, .strides = {2, 2}}, relu));
  EXPECT_TRUE(check({.x = {2, 3, 6, 224}, .out_channels = 32, .kernel = {3, 3}, .strides = {2, 2}, .pads = {1, 1, 1, 1}},
                    relu6));
  EXPECT_TRUE(check({.x = {1, 3, 12, 224}, .out_channels = 64, .kernel = {7, 7}, .strides = {2, 2},
                     .pads = {3, 3, 3, 3}}, relu));
  EXPECT_TRUE(check({.x = {2, 3, 70}, .out_channels = 10, .kernel = {5}, .strides = {2}, .pads = {2, 1}}));
  EXPECT_FALSE(check({.x = {1, 2, 4, 5, 40}, .out_channels = 9, .kernel = {3, 2, 3}, .pads = {1, 0, 1, 1, 1, 0}}));
  EXPECT_FALSE(check({.x = {2, 4, 7, 33}, .out_channels = 6, .kernel = {3, 3}, .pads = {1, 1, 1, 1}, .group = 2}));
  EXPECT_FALSE(check({.x = {1, 3, 9, 224}, .out_channels = 16, .kernel = {3, 3}, .strides = {2, 2}},
                     {"Tanh", {}, [](double v) { return std::tanh(v); }}));
  EXPECT_FALSE(check({.x = {1, 3, 9, 12}, .out_channels = 16, .kernel = {7, 7}}));  // 6 of 12 columns stored
  EXPECT_TRUE(check({.x = {1, 3, 17, 400}, .out_channels = 8, .kernel = {3, 3}, .strides = {8, 8}}));
  EXPECT_FALSE(check({.x = {1, 3, 19, 900}, .out_channels = 8, .kernel = {3, 3}, .strides = {9, 9}}));
}

// Planes of at least 32 K floats are made by the threads together, each a band
// of rows of every plane (an odd number of rows in the second case). The two-
// thread run goes first: a one-thread run before it would leave every plane
// row in the calling thread's scratch, and a band that skipped rows would
// still read the right values.
TEST_F(ConvPatchPanel, PhasePlanesSplitInBands) {
  const Epilogue relu{"Relu", {}, [](double v) { return v < 0 ? 0 : v; }};
  const std::vector<ConvCase> cases = {
      {.x = {1, 3, 64, 224}, .out_channels = 16, .kernel = {3, 3}, .strides = {2, 2}},
      {.x = {2, 3, 67, 224}, .out_channels = 8, .kernel = {3, 3}, .strides = {2, 2}, .pads = {1, 1, 1, 1}},
      {.x = {1, 3, 45, 224}, .out_channels = 8, .kernel = {7, 7}, .strides = {2, 2}, .pads = {3, 3, 3, 3}},
  };
  for (const ConvCase& c : cases) {
    SCOPED_TRACE(describe(c, relu, 2));
    const Tensor x = random_tensor(c.x, 61), w = random_tensor(c.w_shape(), 62), b = random_tensor({c.out_channels}, 63);
    const Tensor want = reference_conv(c, x, w, &b, nullptr, relu.fn);
    const Tolerance tol{.atol = 1e-5 * static_cast<double>(depth_of(c)) + 1e-6, .rtol = 1e-5};  // as check()
    const auto two = run_form(Form::kPhasePlanes, c, x, w, &b, nullptr, relu, 2);
    ASSERT_TRUE(two.has_value());
    expect_close(*two, want, tol, "2 threads");
    const auto one = run_form(Form::kPhasePlanes, c, x, w, &b, nullptr, relu, 1);
    ASSERT_TRUE(one.has_value());
    EXPECT_EQ(0, std::memcmp(one->raw_data(), two->raw_data(), one->byte_size()));
  }
}

// The three ImageNet stems (at a reduced height) through a session, on one and
// two threads: ConvKernel runs them on this form.
TEST_F(ConvPatchPanel, StemsThroughSession) {
  const std::vector<ConvCase> stems = {
      {.x = {1, 3, 5, 224}, .out_channels = 64, .kernel = {3, 3}, .strides = {2, 2}},                // SqueezeNet
      {.x = {2, 3, 4, 224}, .out_channels = 32, .kernel = {3, 3}, .strides = {2, 2}, .pads = {1, 1, 1, 1}},  // MobileNetV2
      {.x = {1, 3, 8, 224}, .out_channels = 64, .kernel = {7, 7}, .strides = {2, 2}, .pads = {3, 3, 3, 3}},  // ResNet
  };
  for (const ConvCase& c : stems) {
    for (int threads : {1, 2}) {
      SCOPED_TRACE(describe(c, {}, threads));
      const Tensor x = random_tensor(c.x, 51), w = random_tensor(c.w_shape(), 52), b = random_tensor({c.out_channels}, 53);
      GraphBuilder gb;
      gb.input("X", DataType::kFloat, c.x);
      gb.initializer("W", w).initializer("B", b);
      std::map<std::string, Attribute> attrs = {{"strides", ints_attr(c.strides)}};
      if (!c.pads.empty()) attrs["pads"] = ints_attr(c.pads);
      gb.node("Conv", {"X", "W", "B"}, {"Y"}, attrs, "stem");
      gb.output("Y");
      SessionOptions opts;
      opts.threads = threads;
      auto session = Session::from_graph(gb.build(), opts);
      ASSERT_TRUE(session.is_ok()) << session.status().message();
      auto out = session.value()->run({{"X", x}});
      ASSERT_TRUE(out.is_ok()) << out.status().message();
      const Tolerance tol{.atol = 1e-5 * static_cast<double>(depth_of(c)) + 1e-6, .rtol = 1e-5};  // as check()
      expect_close(out.value()[0].tensor, reference_conv(c, x, w, &b, nullptr), tol);
    }
  }
}

TensorInfo info(const Shape& dims) {
  TensorInfo t;
  t.dtype = DataType::kFloat;
  t.has_shape = true;
  for (int64_t d : dims) t.dims.push_back(Dim{.value = d < 0 ? -1 : d, .param = ""});
  return t;
}

// The form takes at most 4 input channels per group, a reduction of at most
// 256 (a panel in L1), on rows of output pixels that fill the 16-lane vectors
// within 15 %; unknown sizes do not stop it.
TEST(PatchPanelChoice, ShortReductionsOnWideRows) {
  auto suits = [](const Shape& w, const Shape& x, const std::vector<int64_t>& strides, const std::vector<int64_t>& pads) {
    Attributes a;
    a.set("strides", ints_attr(strides));
    a.set("pads", ints_attr(pads));
    const TensorInfo xi = info(x);
    return patch_panel_suits(ConvAttributes::parse(a, false).value(), info(w), x.empty() ? nullptr : &xi);
  };
  EXPECT_TRUE(suits({64, 3, 7, 7}, {1, 3, 224, 224}, {2, 2}, {3, 3, 3, 3}));  // ResNet: K = 147, 112 wide
  EXPECT_TRUE(suits({64, 3, 3, 3}, {1, 3, 224, 224}, {2, 2}, {0, 0, 0, 0}));  // SqueezeNet: 111 wide
  EXPECT_TRUE(suits({32, 3, 3, 3}, {-1, 3, -1, -1}, {2, 2}, {1, 1, 1, 1}));   // sizes unknown at load
  EXPECT_TRUE(suits({32, 3, 3, 3}, {}, {2, 2}, {1, 1, 1, 1}));                // no input info
  EXPECT_FALSE(suits({64, 64, 3, 3}, {1, 64, 56, 56}, {1, 1}, {1, 1, 1, 1}));  // K = 576
  EXPECT_TRUE(suits({64, 4, 3, 3}, {1, 4, 112, 112}, {1, 1}, {1, 1, 1, 1}));    // 4 channels
  EXPECT_FALSE(suits({64, 8, 3, 3}, {1, 8, 112, 112}, {1, 1}, {1, 1, 1, 1}));   // 8 channels
  EXPECT_FALSE(suits({128, 64, 1, 1}, {1, 64, 56, 56}, {2, 2}, {0, 0, 0, 0}));  // ResNet's 1x1 downsample
  EXPECT_FALSE(suits({8, 4, 7, 7, 7}, {1, 4, 9, 9, 40}, {1, 1, 1}, {3, 3, 3, 3, 3, 3}));  // K = 1372
  EXPECT_FALSE(suits({64, 3, 3, 3}, {1, 3, 13, 13}, {2, 2}, {1, 1, 1, 1}));  // 7 wide: 9 of 16 lanes idle
  EXPECT_TRUE(suits({64, 3, 3, 3}, {1, 3, 28, 28}, {1, 1}, {1, 1, 1, 1}));   // 28 of 32 lanes
}

// Rows whose offsets would not fit the gathers' 32-bit indices are refused
// (the kernel then reports the input unsupported), never run with wrapped indices.
TEST(PatchPanelChoice, RefusesRowsBeyondThirtyTwoBitOffsets) {
  auto geometry = [](const std::vector<int64_t>& strides, const std::vector<int64_t>& pads) {
    Attributes a;
    a.set("strides", ints_attr(strides));
    a.set("pads", ints_attr(pads));
    return conv_geometry(ConvAttributes::parse(a, false).value(), {1, 3, 8, 224}, {16, 3, 3, 3}).value();
  };
  EXPECT_TRUE(patch_panel_can_run(geometry({2, 2}, {1, 1, 1, 1})));
  EXPECT_FALSE(patch_panel_can_run(geometry({1, int64_t{1} << 30}, {1, 1, 1, 1})));
  EXPECT_FALSE(patch_panel_can_run(geometry({1, 1}, {0, int64_t{1} << 30, 0, 0})));
}

}  // namespace
}  // namespace onnx_mini::testing
