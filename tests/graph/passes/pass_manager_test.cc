// The pass manager: default order, explain lines, -O0, verification.
#include "tests/testutil/graph_builder.h"

namespace onnx_mini::testing {
namespace {

TEST(PassManager, LevelZeroRunsNothing) { EXPECT_TRUE(default_passes(0).empty()); }

TEST(PassManager, ExplainNamesEveryRewrite) {
  GraphBuilder b;
  b.input("X", DataType::kFloat, {2, 3}).initializer("W", random_tensor({4, 3}, 1));
  b.initializer("B", random_tensor({4}, 2));
  b.node("Identity", {"X"}, {"x"}, {}, "in/copy");
  b.node("Gemm", {"x", "W", "B"}, {"h"}, {{"transB", int_attr(1)}}, "fc1");
  b.node("Relu", {"h"}, {"Y"}, {}, "fc1/relu");
  b.output("Y");
  Graph g = b.build();
  std::vector<std::string> lines;
  PassContext ctx;
  ctx.verify_each = true;
  ctx.log = [&](const std::string& l) { lines.push_back(l); };
  ASSERT_TRUE(optimize_graph(g, ctx).is_ok());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "removed Identity 'in/copy'");
  EXPECT_EQ(lines[1], "lowered Gemm 'fc1' to FusedGemm (constant weight)");
  EXPECT_EQ(lines[2], "fused Relu 'fc1/relu' into FusedGemm 'fc1'");
  EXPECT_EQ(g.num_live_nodes(), 1u);
}

// A pass that breaks the IR (a consumer link left dangling) is caught by verification.
class BreakLinks final : public Pass {
 public:
  const char* name() const override { return "BreakLinks"; }
  Result<int> run(Graph& g, const PassContext&) const override {
    g.value(g.find_value("X")).consumers.clear();
    return 1;
  }
};

TEST(PassManager, VerifyCatchesABrokenPass) {
  GraphBuilder b;
  b.input("X", DataType::kFloat, {2});
  b.node("Relu", {"X"}, {"Y"}, {}, "r");
  b.output("Y");
  Graph g = b.build();
  std::vector<std::unique_ptr<Pass>> passes;
  passes.push_back(std::make_unique<BreakLinks>());
  PassContext ctx;
  ctx.verify_each = true;
  Status s = run_passes(g, passes, ctx);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("after pass BreakLinks"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace onnx_mini::testing
