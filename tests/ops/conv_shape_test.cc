// Conv and ConvTranspose at load time: output shapes from the formulas (with a
// symbolic batch and unknown spatial sizes kept unknown), and the invalid
// models refused with exit code 3 and a message naming the node and the
// numbers: a kernel larger than the padded input, channels that do not divide
// by group, a weight disagreeing with the input's channels, a negative
// ConvTranspose output, bad attribute values and lengths.
#include "tests/testutil/graph_builder.h"

namespace onnx_mini::testing {
namespace {

struct Built {
  Status status;
  TensorInfo y;
};

// X (dims, "N" symbolic where -1) -> op(W [w], B?) -> Y, shapes inferred.
Built infer(const std::string& op, const std::vector<int64_t>& x, const std::vector<int64_t>& w,
            std::map<std::string, Attribute> attrs, const std::vector<int64_t>& bias = {}) {
  GraphBuilder b;
  std::vector<Dim> dims;
  for (int64_t d : x) dims.push_back(d < 0 ? Dim{-1, "N"} : Dim{d, ""});
  b.input_symbolic("X", dims);
  b.initializer("W", random_tensor(w, 1));
  std::vector<std::string> inputs = {"X", "W"};
  if (!bias.empty()) {
    b.initializer("B", random_tensor(bias, 2));
    inputs.push_back("B");
  }
  b.node(op, inputs, {"Y"}, std::move(attrs), "conv_node");
  b.output("Y");
  Graph& g = b.graph();
  Built r{infer_shapes(g), {}};
  r.y = g.value(g.find_value("Y")).info;
  return r;
}

void expect_shape(const Built& r, const std::string& want) {
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.y.to_string(), want);
}

void expect_invalid(const Built& r, const std::string& fragment) {
  ASSERT_FALSE(r.status.is_ok());
  EXPECT_EQ(r.status.code(), ErrorCode::kInvalidModel) << r.status.message();
  EXPECT_NE(r.status.message().find("conv_node"), std::string::npos) << r.status.message();
  EXPECT_NE(r.status.message().find(fragment), std::string::npos) << r.status.message();
}

TEST(ConvShape, OutputSizesFromTheFormulas) {
  expect_shape(infer("Conv", {-1, 3, 224, 224}, {64, 3, 7, 7}, {{"strides", ints_attr({2, 2})}, {"pads", ints_attr({3, 3, 3, 3})}}),
               "float[N, 64, 112, 112]");
  expect_shape(infer("Conv", {1, 4, 10}, {6, 2, 3}, {{"group", int_attr(2)}, {"dilations", ints_attr({2})}}),
               "float[1, 6, 6]");
  expect_shape(infer("Conv", {2, 2, 5, 6, 7}, {3, 2, 3, 3, 3}, {{"pads", ints_attr({1, 0, 1, 1, 0, 1})}}),
               "float[2, 3, 5, 4, 7]");
  expect_shape(infer("Conv", {1, 1, 7, 8}, {1, 1, 3, 3}, {{"auto_pad", string_attr("SAME_UPPER")}, {"strides", ints_attr({2, 3})}}),
               "float[1, 1, 4, 3]");
  expect_shape(infer("Conv", {1, 1, 7, 8}, {1, 1, 3, 3}, {{"auto_pad", string_attr("VALID")}, {"strides", ints_attr({2, 2})}}),
               "float[1, 1, 3, 3]");
  // Spatial sizes unknown: they stay unknown, channels are still known.
  expect_shape(infer("Conv", {-1, 3, -1, -1}, {8, 3, 3, 3}, {}), "float[N, 8, ?, ?]");
}

TEST(ConvShape, ConvTransposeOutputSizes) {
  expect_shape(infer("ConvTranspose", {1, 1, 3, 3}, {1, 2, 3, 3}, {}), "float[1, 2, 5, 5]");
  expect_shape(infer("ConvTranspose", {-1, 1, 3, 3}, {1, 2, 3, 3}, {{"strides", ints_attr({3, 2})}, {"output_padding", ints_attr({1, 1})}}),
               "float[N, 2, 10, 8]");
  expect_shape(infer("ConvTranspose", {1, 1, 3, 3}, {1, 2, 3, 3}, {{"strides", ints_attr({3, 2})}, {"output_shape", ints_attr({10, 8})}}),
               "float[1, 2, 10, 8]");
  expect_shape(infer("ConvTranspose", {1, 1, 3, 3}, {1, 2, 3, 3}, {{"strides", ints_attr({2, 2})}, {"auto_pad", string_attr("SAME_UPPER")}}),
               "float[1, 2, 6, 6]");
  expect_shape(infer("ConvTranspose", {1, 4, 5}, {4, 3, 2}, {{"group", int_attr(2)}, {"pads", ints_attr({1, 0})}}), "float[1, 6, 5]");
}

TEST(ConvShape, KernelLargerThanThePaddedInputIsInvalid) {
  expect_invalid(infer("Conv", {1, 1, 4, 4}, {1, 1, 5, 3}, {{"pads", ints_attr({0, 0, 0, 0})}}),
                 "kernel 5 is larger than the padded input 4 (input 4 + pads 0 + 0) along spatial axis 0");
  expect_invalid(infer("Conv", {1, 1, 4, 4}, {1, 1, 3, 3}, {{"dilations", ints_attr({1, 3})}}),
                 "kernel 3 (dilated 7) is larger than the padded input 4");
  expect_invalid(infer("Conv", {1, 1, 2, 2}, {1, 1, 3, 3}, {{"auto_pad", string_attr("VALID")}}), "auto_pad VALID");
}

TEST(ConvShape, ChannelRulesAreChecked) {
  expect_invalid(infer("Conv", {1, 6, 5, 5}, {4, 3, 3, 3}, {{"group", int_attr(4)}}), "input channels 6 do not divide by group 4");
  expect_invalid(infer("Conv", {1, 6, 5, 5}, {3, 3, 3, 3}, {{"group", int_attr(2)}}),
                 "output channels 3 (W dim 0) do not divide by group 2");
  expect_invalid(infer("Conv", {1, 6, 5, 5}, {4, 4, 3, 3}, {}), "weight W has 4 channels per group (dim 1) but X has 6 channels");
  expect_invalid(infer("ConvTranspose", {1, 6, 5, 5}, {4, 2, 3, 3}, {}), "weight W has 4 input channels (dim 0) but X has 6");
  expect_invalid(infer("Conv", {1, 3, 5, 5}, {4, 3, 3, 3}, {}, {5}), "bias B float[5] does not match the 4 output channels");
}

TEST(ConvShape, NegativeConvTransposeOutputIsInvalid) {
  expect_invalid(infer("ConvTranspose", {1, 1, 2, 2}, {1, 1, 2, 2}, {{"pads", ints_attr({2, 0, 2, 0})}}),
                 "output size -1 along spatial axis 0 is not positive");
}

TEST(ConvShape, BadAttributesAreInvalid) {
  expect_invalid(infer("Conv", {1, 1, 5, 5}, {1, 1, 3, 3}, {{"strides", ints_attr({1})}}),
                 "attribute 'strides' [1] has 1 values, expected 2");
  expect_invalid(infer("Conv", {1, 1, 5, 5}, {1, 1, 3, 3}, {{"strides", ints_attr({0, 1})}}), "must hold values >= 1");
  expect_invalid(infer("Conv", {1, 1, 5, 5}, {1, 1, 3, 3}, {{"pads", ints_attr({-1, 0, 0, 0})}}), "must hold values >= 0");
  expect_invalid(infer("Conv", {1, 1, 5, 5}, {1, 1, 3, 3}, {{"auto_pad", string_attr("SAME")}}), "got 'SAME'");
  expect_invalid(infer("Conv", {1, 1, 5, 5}, {1, 1, 3, 3}, {{"kernel_shape", ints_attr({3, 2})}}),
                 "disagrees with the weight's spatial size 3");
  expect_invalid(infer("Conv", {1, 1, 5, 5}, {1, 1, 3, 3}, {{"group", int_attr(0)}}), "'group' must be >= 1");
  expect_invalid(infer("Conv", {1, 1, 5, 5}, {1, 1, 3, 3}, {{"auto_pad", string_attr("VALID")}, {"pads", ints_attr({1, 1, 1, 1})}}),
                 "cannot be used with auto_pad");
  expect_invalid(infer("Conv", {1, 5}, {1, 1, 3}, {}), "input X must have rank >= 3");
  expect_invalid(infer("Conv", {1, 1, 5, 5}, {1, 1, 3}, {}), "input X has rank 4 but weight W has rank 3");
}

TEST(ConvShape, FourSpatialDimensionsAreUnsupported) {
  Built r = infer("Conv", {1, 1, 3, 3, 3, 3}, {1, 1, 1, 1, 1, 1}, {});
  ASSERT_FALSE(r.status.is_ok());
  EXPECT_EQ(r.status.code(), ErrorCode::kUnsupported);
}

}  // namespace
}  // namespace onnx_mini::testing
