// RNN, GRU and LSTM against the double-precision reference of
// recurrent_reference.h: each direction, layout 0 and 1, sequence lengths
// (including 0 and mixed), initial states, biases, peepholes, input_forget,
// linear_before_reset, clip, every activation with parameters; weights packed
// (constant, AVX-512F) and read through OpenBLAS (fed, or the packed kernel
// off); the input projection whole and in chunks. Then the errors.
#include <cstdlib>

#include "ops/packed_gemm.h"
#include "tests/ops/recurrent_reference.h"
#include "tests/testutil/graph_builder.h"

namespace onnx_mini::testing {
namespace {

// float32 against double: each gate pre-activation sums I + H + 2 products of
// values below 1 in magnitude (~ (I + H) * 2^-24 relative each), and the
// activations are 1-Lipschitz or contracting, so an error of a step carries
// into the next at most once more per step. For the sizes here (I + H <= 60,
// up to 9 steps) that is below 9 * 60 * 6e-8 = 3.2e-5; 5e-5 absolute leaves
// room for Affine / ScaledTanh alphas up to 1.5. rtol 1e-4 as ONNX Runtime.
constexpr Tolerance kTol{.atol = 5e-5, .rtol = 1e-4};

Attribute strings_attr(const std::vector<std::string>& v) {
  Attribute a;
  a.kind = Attribute::Kind::kStrings;
  a.strings = v;
  return a;
}
Attribute floats_attr(const std::vector<float>& v) {
  Attribute a;
  a.kind = Attribute::Kind::kFloats;
  a.floats = v;
  return a;
}

struct Options {
  bool bias = true, initial_h = false, initial_c = false, peepholes = false;
  int64_t layout = 0;
  bool constant_weights = true;
};

struct Case {
  RecurrentSpec spec;
  Options opt;
  std::string name;
};

std::vector<float> values(const Tensor& t) { return values_of<float>(t); }

// [seq, dirs, batch, h] <-> [batch, seq, dirs, h]; [dirs, batch, h] <-> [batch, dirs, h].
std::vector<double> to_layout1_y(const std::vector<double>& y, int64_t T, int64_t D, int64_t B, int64_t H) {
  std::vector<double> o(y.size());
  for (int64_t t = 0; t < T; ++t)
    for (int64_t d = 0; d < D; ++d)
      for (int64_t b = 0; b < B; ++b)
        for (int64_t j = 0; j < H; ++j) o[((b * T + t) * D + d) * H + j] = y[((t * D + d) * B + b) * H + j];
  return o;
}
std::vector<double> to_layout1_state(const std::vector<double>& s, int64_t D, int64_t B, int64_t H) {
  std::vector<double> o(s.size());
  for (int64_t d = 0; d < D; ++d)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = 0; j < H; ++j) o[(b * D + d) * H + j] = s[(d * B + b) * H + j];
  return o;
}
// A layout-0 [A, B, C] tensor as layout 1's [B, A, C].
Tensor swap01(const Tensor& t) {
  Tensor o = Tensor::allocate(DataType::kFloat, {t.dim(1), t.dim(0), t.dim(2)});
  for (int64_t a = 0; a < t.dim(0); ++a)
    for (int64_t b = 0; b < t.dim(1); ++b)
      for (int64_t c = 0; c < t.dim(2); ++c)
        o.data<float>()[(b * t.dim(0) + a) * t.dim(2) + c] = t.data<float>()[(a * t.dim(1) + b) * t.dim(2) + c];
  return o;
}

Tensor as_double(const std::vector<double>& v, const Shape& shape) {
  Tensor t = Tensor::allocate(DataType::kDouble, shape);
  std::copy(v.begin(), v.end(), t.data<double>());
  return t;
}

void check(const Case& c) {
  SCOPED_TRACE(c.name);
  const RecurrentSpec& s = c.spec;
  const int64_t T = s.seq, B = s.batch, I = s.input, H = s.hidden, D = s.dirs(), N = s.gates() * H;
  const bool lstm = s.op == "LSTM";
  Tensor x = random_tensor({T, B, I}, 1);
  Tensor w = random_tensor({D, N, I}, 2, -0.6f, 0.6f);
  Tensor r = random_tensor({D, N, H}, 3, -0.6f, 0.6f);
  Tensor b = random_tensor({D, 2 * N}, 4, -0.5f, 0.5f);
  Tensor h0 = random_tensor({D, B, H}, 5);
  Tensor c0 = random_tensor({D, B, H}, 6);
  Tensor p = random_tensor({D, 3 * H}, 7, -0.5f, 0.5f);
  RefInputs ref_in{values(x), values(w), values(r), c.opt.bias ? values(b) : std::vector<float>{},
                   c.opt.initial_h ? values(h0) : std::vector<float>{},
                   c.opt.initial_c ? values(c0) : std::vector<float>{},
                   c.opt.peepholes ? values(p) : std::vector<float>{}};
  const RefOutputs want = recurrent_reference(s, ref_in);

  const bool l1 = c.opt.layout == 1;
  GraphBuilder gb(14);
  gb.input("X", DataType::kFloat, l1 ? Shape{B, T, I} : Shape{T, B, I});
  if (c.opt.constant_weights) {
    gb.initializer("W", w).initializer("R", r);
  } else {
    gb.input("W", DataType::kFloat, w.shape()).input("R", DataType::kFloat, r.shape());
  }
  std::vector<NamedTensor> feeds = {{"X", l1 ? swap01(x) : x}};
  if (!c.opt.constant_weights) {
    feeds.push_back({"W", w});
    feeds.push_back({"R", r});
  }
  std::vector<std::string> ins = {"X", "W", "R", "", "", ""};
  if (c.opt.bias) {
    gb.initializer("B", b);
    ins[3] = "B";
  }
  if (!s.lens.empty()) {
    gb.input("L", DataType::kInt32, {B});
    feeds.push_back({"L", make_tensor<int32_t>({B}, s.lens)});
    ins[4] = "L";
  }
  if (c.opt.initial_h) {
    gb.input("H0", DataType::kFloat, l1 ? Shape{B, D, H} : Shape{D, B, H});
    feeds.push_back({"H0", l1 ? swap01(h0) : h0});
    ins[5] = "H0";
  }
  if (lstm) {
    ins.push_back("");
    ins.push_back("");
    if (c.opt.initial_c) {
      gb.input("C0", DataType::kFloat, l1 ? Shape{B, D, H} : Shape{D, B, H});
      feeds.push_back({"C0", l1 ? swap01(c0) : c0});
      ins[6] = "C0";
    }
    if (c.opt.peepholes) {
      gb.initializer("P", p);
      ins[7] = "P";
    }
  }
  while (!ins.empty() && ins.back().empty()) ins.pop_back();
  std::map<std::string, Attribute> attrs = {{"hidden_size", int_attr(H)}, {"direction", string_attr(s.direction)},
                                            {"layout", int_attr(c.opt.layout)}};
  if (!s.activations.empty()) attrs["activations"] = strings_attr(s.activations);
  if (!s.alphas.empty()) attrs["activation_alpha"] = floats_attr(s.alphas);
  if (!s.betas.empty()) attrs["activation_beta"] = floats_attr(s.betas);
  if (s.clip) attrs["clip"] = float_attr(*s.clip);
  if (s.op == "GRU") attrs["linear_before_reset"] = int_attr(s.linear_before_reset);
  if (lstm) attrs["input_forget"] = int_attr(s.input_forget);
  std::vector<std::string> outs = {"Y", "Y_h"};
  if (lstm) outs.push_back("Y_c");
  gb.node(s.op, ins, outs, attrs);
  for (const auto& o : outs) gb.output(o);
  const std::vector<NamedTensor> got = run_graph(gb.build(), feeds, 1);
  ASSERT_EQ(got.size(), outs.size());
  expect_close(got[0].tensor,
               as_double(l1 ? to_layout1_y(want.y, T, D, B, H) : want.y, l1 ? Shape{B, T, D, H} : Shape{T, D, B, H}),
               kTol, "Y");
  const Shape state = l1 ? Shape{B, D, H} : Shape{D, B, H};
  expect_close(got[1].tensor, as_double(l1 ? to_layout1_state(want.y_h, D, B, H) : want.y_h, state), kTol, "Y_h");
  if (lstm) {
    expect_close(got[2].tensor, as_double(l1 ? to_layout1_state(want.y_c, D, B, H) : want.y_c, state), kTol, "Y_c");
  }
}

std::vector<Case> cases() {
  std::vector<Case> v;
  auto spec = [](std::string op, std::string dir) {
    RecurrentSpec s;
    s.op = std::move(op);
    s.direction = std::move(dir);
    return s;
  };
  {
    Case c{spec("RNN", "forward"), {}, "rnn forward defaults"};
    c.opt.bias = false;
    v.push_back(c);
  }
  {
    Case c{spec("RNN", "reverse"), {}, "rnn reverse, lens, relu"};
    c.spec.lens = {3, 1};
    c.spec.activations = {"Relu"};
    c.opt.initial_h = true;
    v.push_back(c);
  }
  {
    Case c{spec("RNN", "bidirectional"), {}, "rnn bidirectional layout 1, a zero length"};
    c.spec.batch = 3;
    c.spec.lens = {2, 0, 3};
    c.spec.activations = {"LeakyRelu", "Affine"};
    c.spec.alphas = {0.2f, 0.7f};
    c.spec.betas = {0.1f};
    c.opt.layout = 1;
    c.opt.initial_h = true;
    v.push_back(c);
  }
  {
    Case c{spec("GRU", "forward"), {}, "gru forward"};
    v.push_back(c);
  }
  {
    Case c{spec("GRU", "bidirectional"), {}, "gru bidirectional linear_before_reset, lens"};
    c.spec.linear_before_reset = true;
    c.spec.seq = 4;
    c.spec.lens = {4, 2};
    c.opt.initial_h = true;
    v.push_back(c);
  }
  {
    Case c{spec("GRU", "reverse"), {}, "gru reverse layout 1, clip, hardsigmoid/softsign"};
    c.spec.clip = 0.5f;
    c.spec.activations = {"HardSigmoid", "Softsign"};
    c.spec.alphas = {0.3f};
    c.spec.betas = {0.4f};
    c.opt.layout = 1;
    v.push_back(c);
  }
  {
    Case c{spec("LSTM", "forward"), {}, "lstm forward peepholes, initial states"};
    c.opt.peepholes = c.opt.initial_h = c.opt.initial_c = true;
    v.push_back(c);
  }
  {
    Case c{spec("LSTM", "bidirectional"), {}, "lstm bidirectional input_forget, layout 1, lens"};
    c.spec.input_forget = true;
    c.spec.batch = 3;
    c.spec.seq = 5;
    c.spec.lens = {5, 1, 3};
    c.spec.activations = {"Sigmoid", "Tanh", "Tanh", "Sigmoid", "ScaledTanh", "Affine"};
    c.spec.alphas = {1.5f, 0.8f};
    c.spec.betas = {0.6f, 0.05f};
    c.opt.layout = 1;
    c.opt.peepholes = c.opt.initial_c = true;
    v.push_back(c);
  }
  {
    Case c{spec("LSTM", "reverse"), {}, "lstm reverse clip, elu/thresholdedrelu/softplus"};
    c.spec.clip = 0.7f;
    c.spec.activations = {"Elu", "ThresholdedRelu", "Softplus"};
    c.spec.alphas = {0.9f, 0.1f};
    v.push_back(c);
  }
  {
    // Hidden 40: a gate's rows straddle the packed kernel's 32-column panels,
    // and GRU's candidate part starts mid-panel.
    Case c{spec("GRU", "bidirectional"), {}, "gru hidden 40, lens"};
    c.spec.seq = 9;
    c.spec.batch = 5;
    c.spec.input = 17;
    c.spec.hidden = 40;
    c.spec.lens = {9, 3, 0, 7, 9};
    c.opt.initial_h = true;
    v.push_back(c);
  }
  {
    Case c{spec("LSTM", "bidirectional"), {}, "lstm hidden 33"};
    c.spec.seq = 6;
    c.spec.batch = 4;
    c.spec.input = 9;
    c.spec.hidden = 33;
    c.opt.peepholes = true;
    v.push_back(c);
  }
  {
    Case c{spec("RNN", "forward"), {}, "rnn empty input size"};
    c.spec.input = 0;
    v.push_back(c);
  }
  return v;
}

// Parameter: whether the packed kernel may be used (read at session build).
class RecurrentKernels : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { setenv("ONNX_MINI_PACKED_GEMM", GetParam() ? "1" : "0", 1); }
  void TearDown() override {
    unsetenv("ONNX_MINI_PACKED_GEMM");
    unsetenv("ONNX_MINI_RECURRENT_PROJECTION_BYTES");
  }
};

TEST_P(RecurrentKernels, ConstantWeightsMatchReference) {
  for (const Case& c : cases()) check(c);
}

TEST_P(RecurrentKernels, FedWeightsMatchReference) {
  for (Case c : cases()) {
    c.opt.constant_weights = false;
    check(c);
  }
}

// One time step per projection chunk: the per-row GEMMs of a chunk, their
// time windows for reversed rows of their own length, and layout 1.
TEST_P(RecurrentKernels, ChunkedProjectionMatchesReference) {
  setenv("ONNX_MINI_RECURRENT_PROJECTION_BYTES", "1", 1);
  for (const Case& c : cases()) check(c);
  // Two steps per chunk: a chunk's window straddles a row's end.
  setenv("ONNX_MINI_RECURRENT_PROJECTION_BYTES", "2000", 1);
  for (const Case& c : cases()) check(c);
}

INSTANTIATE_TEST_SUITE_P(Packed, RecurrentKernels, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "packed" : "openblas"; });

}  // namespace
}  // namespace onnx_mini::testing
