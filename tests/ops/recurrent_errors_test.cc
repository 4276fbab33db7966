// RNN, GRU and LSTM on bad models and bad fed data: each a clear error with its
// code (invalid model at load, bad input at run, unsupported), never a crash.
#include "tests/testutil/attribute_values.h"
#include "tests/testutil/kernel_runner.h"
#include "tests/testutil/tensors.h"

namespace onnx_mini::testing {
namespace {

// A valid forward GRU's inputs (seq 3, batch 2, input 5, hidden 4), to spoil one at a time.
struct GruInputs {
  Tensor x = random_tensor({3, 2, 5}, 1);
  Tensor w = random_tensor({1, 12, 5}, 2);
  Tensor r = random_tensor({1, 12, 4}, 3);
  Tensor b = random_tensor({1, 24}, 4);
  std::vector<const Tensor*> all() const { return {&x, &w, &r, &b}; }
};

Attributes gru_attrs(std::initializer_list<std::pair<const char*, Attribute>> extra = {}) {
  Attributes a;
  a.set("hidden_size", int_attr(4));
  for (const auto& [k, v] : extra) a.set(k, v);
  return a;
}

ErrorCode run_code(const Attributes& attrs, const std::vector<const Tensor*>& inputs, const std::string& op = "GRU") {
  return run_kernel(op, 14, attrs, inputs, {true, true}).status().code();
}

Attribute strings_of(std::vector<std::string> v) {
  Attribute a;
  a.kind = Attribute::Kind::kStrings;
  a.strings = std::move(v);
  return a;
}

Attribute floats_of(std::vector<float> v) {
  Attribute a;
  a.kind = Attribute::Kind::kFloats;
  a.floats = std::move(v);
  return a;
}

TEST(RecurrentErrors, ValidCaseRuns) {
  GruInputs in;
  EXPECT_EQ(run_code(gru_attrs(), in.all()), ErrorCode::kOk);
}

TEST(RecurrentErrors, BadAttributesAreInvalidModels) {
  GruInputs in;
  EXPECT_EQ(run_code(gru_attrs({{"direction", string_attr("sideways")}}), in.all()), ErrorCode::kInvalidModel);
  EXPECT_EQ(run_code(gru_attrs({{"layout", int_attr(2)}}), in.all()), ErrorCode::kInvalidModel);
  EXPECT_EQ(run_code(gru_attrs({{"hidden_size", int_attr(0)}}), in.all()), ErrorCode::kInvalidModel);
  EXPECT_EQ(run_code(gru_attrs({{"clip", float_attr(-1.0f)}}), in.all()), ErrorCode::kInvalidModel);
  EXPECT_EQ(run_code(gru_attrs({{"linear_before_reset", int_attr(2)}}), in.all()), ErrorCode::kInvalidModel);
  // GRU names two activations per direction.
  EXPECT_EQ(run_code(gru_attrs({{"activations", strings_of({"Sigmoid"})}}), in.all()), ErrorCode::kInvalidModel);
  // Parameters the activations do not consume.
  EXPECT_EQ(run_code(gru_attrs({{"activations", strings_of({"Sigmoid", "Tanh"})},
                                {"activation_alpha", floats_of({0.5f})}}),
                     in.all()),
            ErrorCode::kInvalidModel);
  // ScaledTanh has no defaults for its parameters.
  EXPECT_EQ(run_code(gru_attrs({{"activations", strings_of({"Sigmoid", "ScaledTanh"})}}), in.all()),
            ErrorCode::kInvalidModel);
  EXPECT_EQ(run_code(gru_attrs({{"activations", strings_of({"Sigmoid", "Swish"})}}), in.all()),
            ErrorCode::kUnsupported);
  Attributes lstm = gru_attrs({{"input_forget", int_attr(3)}});
  Tensor w4 = random_tensor({1, 16, 5}, 2), r4 = random_tensor({1, 16, 4}, 3);
  EXPECT_EQ(run_code(lstm, {&in.x, &w4, &r4}, "LSTM"), ErrorCode::kInvalidModel);
}

TEST(RecurrentErrors, ActivationNamesIgnoreCase) {
  GruInputs in;
  EXPECT_EQ(run_code(gru_attrs({{"activations", strings_of({"sigmoid", "TANH"})}}), in.all()), ErrorCode::kOk);
}

TEST(RecurrentErrors, MismatchedFedShapesAreBadInput) {
  GruInputs in;
  Tensor w_wide = random_tensor({1, 12, 6}, 2);      // input size 6, X has 5
  Tensor r_small = random_tensor({1, 12, 3}, 3);     // hidden 3, the attribute says 4
  Tensor b_short = random_tensor({1, 12}, 4);        // Wb only
  Tensor w_two = random_tensor({2, 12, 5}, 2);       // two directions for a forward node
  Tensor x_2d = random_tensor({3, 10}, 1);
  EXPECT_EQ(run_code(gru_attrs(), {&in.x, &w_wide, &in.r, &in.b}), ErrorCode::kBadInput);
  EXPECT_EQ(run_code(gru_attrs(), {&in.x, &in.w, &r_small, &in.b}), ErrorCode::kBadInput);
  EXPECT_EQ(run_code(gru_attrs(), {&in.x, &in.w, &in.r, &b_short}), ErrorCode::kBadInput);
  EXPECT_EQ(run_code(gru_attrs(), {&in.x, &w_two, &in.r, &in.b}), ErrorCode::kBadInput);
  EXPECT_EQ(run_code(gru_attrs(), {&x_2d, &in.w, &in.r, &in.b}), ErrorCode::kInvalidModel);  // found by inference
  Tensor h0 = random_tensor({1, 3, 4}, 5);  // batch 3, X has 2
  EXPECT_EQ(run_code(gru_attrs(), {&in.x, &in.w, &in.r, &in.b, nullptr, &h0}), ErrorCode::kBadInput);
}

TEST(RecurrentErrors, SequenceLengthsOutsideTheSequenceAreBadInput) {
  GruInputs in;
  for (const std::vector<int32_t>& lens : {std::vector<int32_t>{4, 1}, {-1, 2}, {3}}) {
    Tensor l = make_tensor<int32_t>({static_cast<int64_t>(lens.size())}, lens);
    EXPECT_EQ(run_code(gru_attrs(), {&in.x, &in.w, &in.r, &in.b, &l}), ErrorCode::kBadInput);
  }
  Tensor l64 = make_tensor<int64_t>({2}, {3, 3});
  EXPECT_EQ(run_code(gru_attrs(), {&in.x, &in.w, &in.r, &in.b, &l64}), ErrorCode::kInvalidModel);  // the spec: int32
}

TEST(RecurrentErrors, NonFloatDataIsUnsupported) {
  GruInputs in;
  Tensor xd = Tensor::allocate(DataType::kDouble, {3, 2, 5});
  EXPECT_EQ(run_code(gru_attrs(), {&xd, &in.w, &in.r, &in.b}), ErrorCode::kUnsupported);
}

}  // namespace
}  // namespace onnx_mini::testing
