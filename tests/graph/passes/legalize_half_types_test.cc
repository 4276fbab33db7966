// LegalizeHalfTypes: a float16/bfloat16 node without a 16-bit kernel computes
// in float32 and rounds on store. The expected outputs are the same graph in
// float32 on the widened values, each node's result rounded to the 16-bit type:
// exactly what the model's types ask for, so the comparison is bit for bit.
#include "core/half.h"
#include "tests/testutil/graph_builder.h"

namespace onnx_mini::testing {
namespace {

uint16_t to_16(DataType t, float v) { return t == DataType::kFloat16 ? float_to_half(v) : float_to_bfloat16(v); }
float from_16(DataType t, uint16_t b) { return t == DataType::kFloat16 ? half_to_float(b) : bfloat16_to_float(b); }

// f32 rounded to a 16-bit type.
Tensor narrow(const Tensor& f32, DataType t) {
  Tensor out = Tensor::allocate(t, f32.shape());
  for (int64_t i = 0; i < f32.num_elements(); ++i) out.data<uint16_t>()[i] = to_16(t, f32.data<float>()[i]);
  return out;
}

// A 16-bit tensor widened (exactly) to float32.
Tensor widen(const Tensor& h) {
  Tensor out = Tensor::allocate(DataType::kFloat, h.shape());
  for (int64_t i = 0; i < h.num_elements(); ++i) out.data<float>()[i] = from_16(h.dtype(), h.data<uint16_t>()[i]);
  return out;
}

void expect_bits_equal(const Tensor& got, const Tensor& want) {
  ASSERT_EQ(got.dtype(), want.dtype());
  ASSERT_EQ(got.shape(), want.shape());
  for (int64_t i = 0; i < got.num_elements(); ++i) {
    EXPECT_EQ(got.data<uint16_t>()[i], want.data<uint16_t>()[i]) << "element " << i;
  }
}

// Gemm (constant weight, no bias) then Relu, in `t` or in float32.
Graph gemm_relu(DataType t, const Tensor& w) {
  GraphBuilder b;
  b.input("X", t, {3, 8});
  b.initializer("W", w);
  b.node("Gemm", {"X", "W"}, {"h"}, {}, "fc");
  b.node("Relu", {"h"}, {"Y"}, {}, "act");
  b.output("Y");
  return b.build();
}

TEST(LegalizeHalfTypes, GemmReluInFloat16MatchesFloat32RoundedPerNode) {
  const Tensor x16 = narrow(random_tensor({3, 8}, 1, -2.f, 2.f), DataType::kFloat16);
  const Tensor w16 = narrow(random_tensor({8, 5}, 2, -1.f, 1.f), DataType::kFloat16);
  Graph g = gemm_relu(DataType::kFloat16, w16);
  Graph legal = g;
  auto lines = run_pass(legal, make_legalize_half_types());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "computed Gemm 'fc' in float32: widened 'X', 'W' (constant); rounded 'h' to float16");
  EXPECT_EQ(lines[1], "computed Relu 'act' in float32: widened 'h'; rounded 'Y' to float16");
  // X and h widened, h and Y rounded; the weight became a float32 constant.
  EXPECT_EQ(count_ops(legal, "Cast"), 4);

  // Relu commutes with rounding, so the reference rounds Gemm's float32 result once.
  const auto ref = run_graph(gemm_relu(DataType::kFloat, widen(w16)), {{"X", widen(x16)}}, 0);
  ASSERT_EQ(ref.size(), 1u);
  const Tensor want = narrow(ref[0].tensor, DataType::kFloat16);
  for (int level : {0, 1}) {
    SCOPED_TRACE("opt level " + std::to_string(level));
    const auto out = run_graph(g, {{"X", x16}}, level);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].name, "Y");
    expect_bits_equal(out[0].tensor, want);
  }
}

// bfloat16 the same way: Add of an input and a constant, one rounding.
TEST(LegalizeHalfTypes, AddInBFloat16RoundsOnce) {
  const Tensor a = narrow(random_tensor({4, 6}, 3, -100.f, 100.f), DataType::kBFloat16);
  const Tensor c = narrow(random_tensor({6}, 4, -1.f, 1.f), DataType::kBFloat16);
  GraphBuilder b;
  b.input("A", DataType::kBFloat16, {4, 6});
  b.initializer("C", c);
  b.node("Add", {"A", "C"}, {"Y"}, {}, "add");
  b.output("Y");
  Graph g = b.build();
  const Tensor wa = widen(a), wc = widen(c);
  Tensor want = Tensor::allocate(DataType::kBFloat16, a.shape());
  for (int64_t i = 0; i < a.num_elements(); ++i) {
    want.data<uint16_t>()[i] = float_to_bfloat16(wa.data<float>()[i] + wc.data<float>()[i % 6]);
  }
  for (int level : {0, 1}) {
    const auto out = run_graph(g, {{"A", a}}, level);
    ASSERT_EQ(out.size(), 1u);
    expect_bits_equal(out[0].tensor, want);
  }
}

// Ops that only move elements take 16-bit floats themselves: nothing to do.
TEST(LegalizeHalfTypes, NativeOpsAreLeftAlone) {
  GraphBuilder b;
  b.input("X", DataType::kFloat16, {2, 3});
  b.node("Transpose", {"X"}, {"Y"}, {}, "t");
  b.output("Y");
  Graph g = b.build();
  EXPECT_TRUE(run_pass(g, make_legalize_half_types()).empty());
  EXPECT_EQ(count_ops(g, "Cast"), 0);
}

// float32 graphs are untouched.
TEST(LegalizeHalfTypes, Float32GraphIsUntouched) {
  GraphBuilder b;
  b.input("X", DataType::kFloat, {2, 3});
  b.node("Relu", {"X"}, {"Y"}, {}, "r");
  b.output("Y");
  Graph g = b.build();
  EXPECT_TRUE(run_pass(g, make_legalize_half_types()).empty());
}

}  // namespace
}  // namespace onnx_mini::testing
