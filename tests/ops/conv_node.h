// A ConvCase run as a one-node model through a Session: what the kernel tests
// of each convolution form share (tests/ops/conv_*_test.cc). The node is a Conv,
// or a FusedConv when an activation or the skip input Z is asked for, with W
// and B constant, built at -O0 so the node runs as written.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "runtime/session.h"
#include "tests/ops/conv_reference.h"
#include "tests/testutil/graph_builder.h"

namespace onnx_mini::testing {

// What a FusedConv applies after the sum: the ONNX op's name ("" for none), its
// parameters, and the same function in double for the reference.
struct ConvActivation {
  std::string name;
  std::vector<std::pair<std::string, float>> params = {};
  std::function<double(double)> fn = [](double v) { return v; };
};

// Every activation a FusedConv's epilogue applies, with non-default parameters
// where it has them; the reference formulas are the ONNX spec's.
inline const std::vector<ConvActivation>& fused_activations() {
  static const std::vector<ConvActivation> list = {
      {"Relu", {}, [](double v) { return v < 0 ? 0 : v; }},
      {"Clip", {{"min", 0.0f}, {"max", 0.5f}}, [](double v) { return std::min(std::max(v, 0.0), 0.5); }},
      {"LeakyRelu", {{"alpha", 0.2f}}, [](double v) { return v < 0 ? 0.2 * v : v; }},
      {"Sigmoid", {}, [](double v) { return 1 / (1 + std::exp(-v)); }},
      {"HardSigmoid", {{"alpha", 0.3f}, {"beta", 0.4f}},
       [](double v) { return std::min(1.0, std::max(0.0, 0.3 * v + 0.4)); }},
      {"HardSwish", {}, [](double v) { return v * std::min(1.0, std::max(0.0, v / 6 + 0.5)); }},
      {"Tanh", {}, [](double v) { return std::tanh(v); }},
  };
  return list;
}

struct ConvNodeRun {
  bool symbolic = false;  // X's batch and spatial sizes unknown at load
  ConvActivation act = {};
  bool z = false;  // FusedConv's skip input
  int threads = 1;
};

// Y of the case for x (and z, when r.z), or an empty tensor after a failed
// EXPECT. The case's strides, dilations and pads become attributes when set.
inline Tensor run_conv_node(const ConvCase& c, const ConvNodeRun& r, const Tensor& x, const Tensor& w,
                            const Tensor& b, const Tensor& z) {
  GraphBuilder gb;
  if (r.symbolic) {
    std::vector<Dim> dims = {Dim{.value = -1, .param = "N"}, Dim{.value = c.x[1], .param = ""}};
    for (size_t i = 2; i < c.x.size(); ++i) dims.push_back(Dim{.value = -1, .param = "S" + std::to_string(i)});
    gb.input_symbolic("X", dims);
  } else {
    gb.input("X", DataType::kFloat, c.x);
  }
  gb.initializer("W", w);
  gb.initializer("B", b);
  std::vector<std::string> inputs = {"X", "W", "B"};
  std::vector<NamedTensor> feeds = {{"X", x}};
  if (r.z) {
    gb.input("Z", DataType::kFloat, z.shape());
    inputs.push_back("Z");
    feeds.push_back({"Z", z});
  }
  const bool fused = !r.act.name.empty() || r.z;
  std::map<std::string, Attribute> attrs = {{"group", int_attr(c.group)}, {"auto_pad", string_attr(c.auto_pad)}};
  if (!c.strides.empty()) attrs["strides"] = ints_attr(c.strides);
  if (!c.dilations.empty()) attrs["dilations"] = ints_attr(c.dilations);
  if (!c.pads.empty()) attrs["pads"] = ints_attr(c.pads);
  if (fused) {
    attrs["activation"] = string_attr(r.act.name);
    for (const auto& [name, v] : r.act.params) attrs["activation_" + name] = float_attr(v);
  }
  gb.node(fused ? "FusedConv" : "Conv", inputs, {"Y"}, attrs, "conv", fused ? kOnnxMiniDomain : "");
  gb.output("Y");
  SessionOptions opts;
  opts.opt_level = 0;
  opts.threads = r.threads;
  auto session = Session::from_graph(gb.build(), opts);
  EXPECT_TRUE(session.is_ok()) << session.status().message();
  if (!session.is_ok()) return Tensor();
  auto out = session.value()->run(feeds);
  EXPECT_TRUE(out.is_ok()) << out.status().message();
  return out.is_ok() ? std::move(out.value()[0].tensor) : Tensor();
}

}  // namespace onnx_mini::testing
