// Names from a model never reach the terminal raw: no ESC/OSC sequence, no
// carriage return, and no newline that would let the model forge a line of
// onnx-run's own output ("FAKE: ok").
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "runtime/io/tensor_file.h"
#include "tests/testutil/model_builder.h"
#include "tests/tools/onnx_run/cli_runner.h"

namespace onnx_mini {
namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using testing::ModelBuilder;
using testing::run_cli;

const std::string kEvilNode = "fc\nFAKE: ok \x1b[31mred\x1b[0m";
const std::string kEvilValue = "y\r\nFAKE: ok\x1b]0;title\x07";
const std::string kEvilInput = "x\x1b[2J";

// What the terminal receives must hold no control byte but newlines, and no
// line may start with the forged text.
void expect_inert(const CliResult& r, const std::string& what) {
  for (const std::string* text : {&r.out, &r.err}) {
    for (unsigned char c : *text) {
      ASSERT_TRUE(c >= 0x20 || c == '\n') << what << ": control byte " << int{c} << " in\n" << *text;
      ASSERT_NE(c, 0x7f) << what;
    }
    EXPECT_EQ(text->find("\nFAKE"), std::string::npos) << what << ": a forged line in\n" << *text;
    EXPECT_NE(text->rfind("FAKE", 0), 0u) << what;
  }
}

// x -> Gemm (node kEvilNode) -> Relu -> output kEvilValue, with one test data set.
std::string write_model(const std::string& dir) {
  ModelBuilder b(13);
  b.input(kEvilInput, DataType::kFloat, {2, 3});
  b.initializer("W", {3, 2}, {1, -1, 0.5f, 2, -0.25f, 1});
  b.initializer("b", {2}, {0.1f, -0.2f});
  b.node("Gemm", {kEvilInput, "W", "b"}, {"h\x1b[1m"}, kEvilNode);
  b.node("Relu", {"h\x1b[1m"}, {kEvilValue}, "relu\x1b]2;t\x07");
  b.output(kEvilValue, DataType::kFloat);
  std::ofstream(dir + "/model.onnx", std::ios::binary) << b.serialize();
  fs::create_directories(dir + "/test_data_set_0");
  EXPECT_TRUE(write_tensor_pb(dir + "/test_data_set_0/input_0.pb", kEvilInput, testing::make_tensor({2, 3}, {1, 2, 3, 4, 5, 6})).is_ok());
  EXPECT_TRUE(write_tensor_pb(dir + "/test_data_set_0/output_0.pb", kEvilValue, testing::make_tensor({2, 2}, {0, 0, 0, 0})).is_ok());
  return dir + "/model.onnx";
}

TEST(ControlCharsTest, EveryReportEscapesNames) {
  const std::string dir = testing::temp_dir("control_chars_reports");
  const std::string model = write_model(dir);
  const std::pair<std::string, int> runs[] = {
      {"", 0}, {" --stats", 0}, {" --profile", 0}, {" --explain", 0}, {" --check", 1},
      {" --output-dir " + dir + "/o", 0}, {" --save-optimized " + dir + "/opt.onnx", 0}, {" --json --stats --profile", 0},
  };
  for (const auto& [args, code] : runs) {
    CliResult r = run_cli(model + args);
    EXPECT_EQ(r.code, code) << args << "\n" << r.out << r.err;
    expect_inert(r, args);
  }
  CliResult text = run_cli(model + " --explain");
  EXPECT_NE(text.out.find("fused Relu 'relu\\x1b]2;t\\x07' into FusedGemm 'fc\\nFAKE: ok \\x1b[31mred\\x1b[0m'"), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("y\\r\\nFAKE: ok\\x1b]0;title\\x07: float[2, 2]"), std::string::npos) << text.out;
}

TEST(ControlCharsTest, ErrorsEscapeNamesOpTypesAndDomains) {
  const std::string dir = testing::temp_dir("control_chars_errors");
  ModelBuilder unknown(13);
  unknown.input("x", DataType::kFloat, {2});
  unknown.node("Evil\x1b[2J\nFAKE: ok", {"x"}, {"y"}, kEvilNode);
  unknown.output("y");
  std::ofstream(dir + "/unknown.onnx", std::ios::binary) << unknown.serialize();
  CliResult r1 = run_cli(dir + "/unknown.onnx");
  EXPECT_EQ(r1.code, 4) << r1.err;
  expect_inert(r1, "unknown op");
  EXPECT_NE(r1.err.find("Evil\\x1b[2J\\nFAKE: ok (domain ai.onnx"), std::string::npos) << r1.err;

  ModelBuilder domain(13);
  domain.input("x", DataType::kFloat, {2});
  onnx::NodeProto& n = domain.node("Relu", {"x"}, {"y"}, "r");
  n.set_domain("com.\x1b[31m\nFAKE: ok");
  domain.output("y");
  std::ofstream(dir + "/domain.onnx", std::ios::binary) << domain.serialize();
  CliResult r2 = run_cli(dir + "/domain.onnx");
  EXPECT_EQ(r2.code, 4) << r2.err;
  expect_inert(r2, "domain");

  ModelBuilder ghost(13);
  ghost.input("x", DataType::kFloat, {2});
  ghost.node("Add", {"x", "ghost\nFAKE: ok"}, {"y"}, kEvilNode);
  ghost.output("y");
  std::ofstream(dir + "/ghost.onnx", std::ios::binary) << ghost.serialize();
  CliResult r3 = run_cli(dir + "/ghost.onnx");
  EXPECT_EQ(r3.code, 3) << r3.err;
  expect_inert(r3, "undefined input");

  const std::string model = write_model(testing::temp_dir("control_chars_errors_input"));
  CliResult r4 = run_cli(model + " --input 'nope\x1b[31m=/dev/null'");
  EXPECT_NE(r4.code, 0);
  expect_inert(r4, "unknown input");
}

}  // namespace
}  // namespace onnx_mini
