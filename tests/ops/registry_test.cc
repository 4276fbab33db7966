// Opsets where an op's semantics change pick the definition that implements
// the change (the full table of every op at every opset: op_versions_test.cc).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ops/registry.h"

namespace onnx_mini {
namespace {

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
      {"ReduceSum", 12, 11},  {"ReduceSum", 13, 13}, // axes attribute, then input
      {"ReduceMean", 17, 13}, {"ReduceMean", 18, 18},
      {"ReduceL1", 18, 18},   {"ReduceLogSumExp", 18, 18},
      {"Split", 12, 11},      {"Split", 13, 13},     {"Split", 18, 18},  // split input; num_outputs
      {"Slice", 9, 1},        {"Slice", 10, 10},     // starts/ends attributes, then inputs
      {"OneHot", 10, 9},      {"OneHot", 11, 11},    // negative indices
      {"ArgMax", 12, 12},     {"Shape", 15, 15},     {"Dropout", 12, 12},
      {"Cast", 19, 19},       {"Gelu", 20, 20},      {"Mish", 18, 18},
      {"Gemm", 10, 9},        {"Gemm", 11, 11},      // C optional from 11
      {"Reshape", 13, 13},    {"Reshape", 14, 14},   // allowzero
      {"Constant", 11, 11},   {"Constant", 12, 12},  // value_float(s), value_int(s)
      {"ReduceMax", 19, 18},  {"ReduceMax", 20, 20}, // bool
      {"Cast", 21, 21},       {"Mod", 21, 13},       {"IsNaN", 20, 20},
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
