// Loading and binding are linear in the number of graph inputs: a Concat over
// 100,000 inputs took 15 s, 40 % of it in check_shared_input_types (every pair
// of inputs compared) and 26 % in prepare_inputs' name comparisons.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>

#include "tests/testutil/model_builder.h"
#include "tests/tools/onnx_run/cli_runner.h"

namespace onnx_mini {
namespace {

using testing::CliResult;
using testing::run_cli;

// y = Concat(x0, ..., x{n-1}) along axis 0, each xi float[1].
std::string concat_model(const std::string& dir, int n) {
  testing::ModelBuilder b(13);
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) {
    names.push_back("x" + std::to_string(i));
    b.input(names.back(), DataType::kFloat, {1});
  }
  testing::set_attr(b.node("Concat", names, {"y"}, "cat"), "axis", int64_t{0});
  b.output("y", DataType::kFloat);
  const std::string path = dir + "/concat" + std::to_string(n) + ".onnx";
  std::ofstream(path, std::ios::binary) << b.serialize();
  return path;
}

// The fastest of three runs of onnx-run (load, generate and bind every input, run).
double best_seconds(const std::string& model) {
  double best = 1e9;
  for (int i = 0; i < 3; ++i) {
    const auto start = std::chrono::steady_clock::now();
    CliResult r = run_cli(model + " --json");
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(r.code, 0) << r.err.substr(0, 500);
    best = std::min(best, s);
  }
  return best;
}

TEST(LinearLoadingTest, TenTimesTheInputsTakeAboutTenTimesTheTime) {
  // A growth test, not a speed claim: from 10,000 to 100,000 inputs, linear
  // work grows 10x and quadratic work 100x. The bound of 30x leaves a wide
  // margin for a shared, noisy machine (and the fixed cost of starting the
  // process only pulls the ratio down); the old quadratic code measured >100x.
  const std::string dir = testing::temp_dir("linear_loading");
  const double small = best_seconds(concat_model(dir, 10'000));
  const double large = best_seconds(concat_model(dir, 100'000));
  EXPECT_LT(large / small, 30.0) << "10k inputs: " << small << " s, 100k inputs: " << large << " s";
}

}  // namespace
}  // namespace onnx_mini
