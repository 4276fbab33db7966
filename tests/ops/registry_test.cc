// Every op the issue names resolves at every opset from 7 (or its first ONNX
// version, if later) to 20, and the opsets where a semantic change happens pick
// the definition that implements it. Guards against a gap such as Max/Min/Sum/
// Mean, registered from 8 only, which made every opset-7 model using them fail.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "ops/registry.h"

namespace onnx_mini {
namespace {

struct FirstVersion {
  const char* op;
  int first;  // the op's first version in ONNX (onnx 1.12 schemas; Mish 18, Gelu 20)
};

const std::vector<FirstVersion> kIssueOps = {
    {"Sigmoid", 1}, {"Tanh", 1}, {"Relu", 1}, {"LeakyRelu", 1}, {"Softmax", 1}, {"LogSoftmax", 1},
    {"Elu", 1}, {"Selu", 1}, {"Celu", 12}, {"HardSigmoid", 1}, {"HardSwish", 14}, {"Softplus", 1},
    {"Softsign", 1}, {"PRelu", 1}, {"ThresholdedRelu", 10}, {"SoftmaxCrossEntropyLoss", 12},
    {"NegativeLogLikelihoodLoss", 12}, {"Add", 1}, {"Sub", 1}, {"Mul", 1}, {"Div", 1}, {"Pow", 1},
    {"Abs", 1}, {"Neg", 1}, {"Exp", 1}, {"Log", 1}, {"Sqrt", 1}, {"Reciprocal", 1}, {"Erf", 9},
    {"Clip", 1}, {"Max", 1}, {"Min", 1}, {"Sum", 1}, {"Mean", 1}, {"ReduceMean", 1}, {"ReduceSum", 1},
    {"ReduceMax", 1}, {"ReduceMin", 1}, {"ReduceLogSumExp", 1}, {"ReduceSumSquare", 1},
    {"ReduceL1", 1}, {"ReduceL2", 1}, {"Reshape", 1}, {"Flatten", 1}, {"Transpose", 1}, {"Squeeze", 1},
    {"Unsqueeze", 1}, {"Concat", 1}, {"Split", 1}, {"Slice", 1}, {"Gather", 1}, {"GatherElements", 11},
    {"Shape", 1}, {"Size", 1}, {"Expand", 8}, {"Cast", 1}, {"CastLike", 15}, {"ConstantOfShape", 9},
    {"Range", 11}, {"Where", 9}, {"Equal", 1}, {"Less", 1}, {"Greater", 1}, {"LessOrEqual", 12},
    {"GreaterOrEqual", 12}, {"Not", 1}, {"And", 1}, {"Or", 1}, {"ArgMax", 1}, {"ArgMin", 1},
    {"OneHot", 9}, {"Dropout", 1}, {"Identity", 1}, {"Constant", 1}, {"Mish", 18}, {"Gelu", 20},
};

TEST(RegistryVersions, EveryIssueOpResolvesFromOpset7To20) {
  const OpRegistry& r = default_registry();
  for (const FirstVersion& f : kIssueOps) {
    for (int opset = std::max(7, f.first); opset <= 20; ++opset) {
      EXPECT_NE(r.find(f.op, "", opset), nullptr) << f.op << " at opset " << opset;
    }
  }
}

// Opsets where the ONNX semantics change, and the version they must resolve to.
TEST(RegistryVersions, SemanticChangesPickTheirVersion) {
  struct Expect {
    const char* op;
    int opset, since;
  };
  const std::vector<Expect> cases = {
      {"Add", 7, 7},          // numpy broadcasting replaces the broadcast/axis attributes
      {"Max", 7, 6},          {"Max", 8, 8},  // equal shapes, then broadcasting
      {"Mean", 7, 6},         {"Sum", 8, 8},
      {"Pow", 11, 7},         {"Pow", 12, 12},       // mixed base/exponent dtypes
      {"Clip", 10, 6},        {"Clip", 11, 11},      // min/max attributes, then inputs
      {"Softmax", 12, 11},    {"Softmax", 13, 13},   // coerce to 2-D, then one axis
      {"LogSoftmax", 13, 13}, {"Squeeze", 13, 13},   {"Unsqueeze", 13, 13},
      {"ReduceSum", 12, 1},   {"ReduceSum", 13, 13}, // axes attribute, then input
      {"ReduceMean", 17, 1},  {"ReduceMean", 18, 18},
      {"ReduceL1", 18, 18},   {"ReduceLogSumExp", 18, 18},
      {"Split", 12, 2},       {"Split", 13, 13},     {"Split", 18, 18},  // split input; num_outputs
      {"Slice", 9, 1},        {"Slice", 10, 10},     // starts/ends attributes, then inputs
      {"OneHot", 10, 9},      {"OneHot", 11, 11},    // negative indices
      {"ArgMax", 12, 12},     {"Shape", 15, 15},     {"Dropout", 12, 12},
      {"Cast", 19, 19},       {"Gelu", 20, 20},      {"Mish", 18, 18},
  };
  const OpRegistry& r = default_registry();
  for (const Expect& e : cases) {
    const OpDef* d = r.find(e.op, "", e.opset);
    ASSERT_NE(d, nullptr) << e.op << " at opset " << e.opset;
    EXPECT_EQ(d->since_version, e.since) << e.op << " at opset " << e.opset;
  }
}

}  // namespace
}  // namespace onnx_mini
