// onnx-run's small options: --version, --threads 0, --dim naming a dim the
// model lacks, --check with --input, --portable without --save-optimized.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/testutil/model_builder.h"
#include "tests/tools/onnx_run/cli_runner.h"

namespace onnx_mini {
namespace {

using testing::CliResult;
using testing::ModelBuilder;
using testing::run_cli;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// y = relu(x) with x float[N, 3] (N symbolic).
std::string relu_model(const std::string& name) {
  const std::string dir = testing::temp_dir(name);
  ModelBuilder b(13);
  b.input("x", DataType::kFloat, {-1, 3});
  b.node("Relu", {"x"}, {"y"}, "relu");
  b.output("y", DataType::kFloat);
  std::ofstream(dir + "/model.onnx", std::ios::binary) << b.serialize();
  return dir + "/model.onnx";
}

TEST(CliOptionsTest, VersionPrintsTheProjectVersion) {
  CliResult r = run_cli("--version");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "onnx-run (onnx-mini " ONNX_MINI_VERSION ")\n");
}

TEST(CliOptionsTest, ThreadsZeroIsTheDefaultAndNegativeIsRefused) {
  const std::string model = relu_model("threads_zero");
  CliResult zero = run_cli(model + " --threads 0");
  EXPECT_EQ(zero.code, 0) << zero.err;
  EXPECT_TRUE(contains(zero.out, "y: float[1, 3]")) << zero.out;
  CliResult negative = run_cli(model + " --threads -1");
  EXPECT_EQ(negative.code, 2);
  EXPECT_TRUE(contains(negative.err, "--threads expects an integer in [0, 1024]")) << negative.err;
}

TEST(CliOptionsTest, DimNamingAnUnknownDimListsTheModelsSymbolicDims) {
  const std::string model = relu_model("dim_unknown");
  CliResult known = run_cli(model + " --dim N=5");
  EXPECT_EQ(known.code, 0) << known.err;
  EXPECT_TRUE(contains(known.out, "y: float[5, 3]")) << known.out;
  CliResult typo = run_cli(model + " --dim batch=5");
  EXPECT_EQ(typo.code, 2) << typo.out;
  EXPECT_TRUE(contains(typo.err, "--dim 'batch'")) << typo.err;
  EXPECT_TRUE(contains(typo.err, "its inputs have 'N'")) << typo.err;
  EXPECT_TRUE(typo.out.empty()) << "nothing runs after a usage error: " << typo.out;
}

TEST(CliOptionsTest, CheckWithInputIsAUsageError) {
  const std::string model = relu_model("check_and_input");
  // The file does not exist: the usage error comes first, before anything is read.
  CliResult r = run_cli(model + " --check --input x=missing.npy");
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "--input x cannot be combined with --check")) << r.err;
  CliResult reversed = run_cli(model + " --input x=missing.npy --check");
  EXPECT_EQ(reversed.code, 2) << reversed.err;
}

// Options of one run would be silently ignored beside --check, --inspect and
// --check-all (nothing would be written, read or timed).
TEST(CliOptionsTest, RunOptionsBesideCheckInspectOrCheckAllAreUsageErrors) {
  const std::string model = relu_model("mode_conflicts");
  const std::string dir = testing::temp_dir("mode_conflicts_out");
  for (const std::string mode : {" --check", " --inspect"}) {
    for (const std::string& flag : {" --save-inputs " + dir + "/i", " --dump-all " + dir + "/d", " --output-dir " + dir + "/o",
                                   std::string(" --repeat 3"), std::string(" --stats"), std::string(" --profile")}) {
      CliResult r = run_cli(model + mode + flag);
      EXPECT_EQ(r.code, 2) << mode << flag << ": " << r.err;
      EXPECT_TRUE(contains(r.err, "cannot be combined with" + mode)) << r.err;
    }
  }
  CliResult all = run_cli("--check-all " + dir + " --dump-all " + dir + "/d");
  EXPECT_EQ(all.code, 2);
  EXPECT_TRUE(contains(all.err, "--dump-all cannot be combined with --check-all")) << all.err;
  EXPECT_TRUE(std::filesystem::is_empty(dir)) << "a refused command wrote into " << dir;
}

TEST(CliOptionsTest, PortableNeedsSaveOptimized) {
  CliResult r = run_cli(relu_model("portable_alone") + " --portable");
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "--portable applies to --save-optimized FILE")) << r.err;
}

}  // namespace
}  // namespace onnx_mini
