// onnx-run end to end: the real binary, its exit codes, file I/O and --check.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/half.h"
#include "runtime/io/tensor_file.h"
#include "tests/testutil/model_builder.h"
#include "tests/tools/onnx_run/cli_runner.h"

namespace onnx_mini {
namespace {

namespace fs = std::filesystem;
using testing::ModelBuilder;

using testing::CliResult;
using testing::run_cli;

// y = relu(x @ W + b) with x [N, 3]; writes model.onnx and one test_data_set.
std::string make_model_dir(const std::string& name, bool perturb_reference = false) {
  std::string dir = testing::temp_dir(name);
  ModelBuilder b(13);
  b.input("x", DataType::kFloat, {-1, 3});
  b.initializer("W", {3, 2}, {1, -1, 0.5f, 2, -0.25f, 1});
  b.initializer("b", {2}, {0.1f, -0.2f});
  b.node("Gemm", {"x", "W", "b"}, {"h"}, "fc");
  b.node("Relu", {"h"}, {"y"}, "relu");
  b.output("y", DataType::kFloat);
  std::ofstream(dir + "/model.onnx", std::ios::binary) << b.serialize();
  fs::create_directories(dir + "/test_data_set_0");
  Tensor x = testing::make_tensor({2, 3}, {1, 2, 3, -1, 0, 1});
  // Reference computed by hand: row0 = [1-... ] in double, see below.
  std::vector<float> y(4);
  const float W[6] = {1, -1, 0.5f, 2, -0.25f, 1}, bias[2] = {0.1f, -0.2f};
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 2; ++j) {
      double acc = bias[j];
      for (int k = 0; k < 3; ++k) acc += static_cast<double>(x.data<float>()[i * 3 + k]) * W[k * 2 + j];
      y[i * 2 + j] = static_cast<float>(acc < 0 ? 0 : acc);
    }
  }
  if (perturb_reference) y[1] += 0.01f;
  EXPECT_TRUE(write_tensor_pb(dir + "/test_data_set_0/input_0.pb", "x", x).is_ok());
  EXPECT_TRUE(write_tensor_pb(dir + "/test_data_set_0/output_0.pb", "y", testing::make_tensor({2, 2}, y)).is_ok());
  return dir;
}

TEST(OnnxRunCliTest, HelpAndUsageErrors) {
  EXPECT_EQ(run_cli("--help").code, 0);
  CliResult none = run_cli("");
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("no model given"), std::string::npos);
  CliResult bad = run_cli("model.onnx --frobnicate");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("unknown option '--frobnicate'"), std::string::npos);
  EXPECT_EQ(run_cli("model.onnx --threads zero").code, 2);
}

TEST(OnnxRunCliTest, RunsWithGeneratedInputsAndPrintsOutputs) {
  std::string dir = make_model_dir("cli_run");
  CliResult r = run_cli(dir + "/model.onnx --dim N=4");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("y: float[4, 2]"), std::string::npos) << r.out;
}

TEST(OnnxRunCliTest, CheckPassesAndFailsOnAPerturbedReference) {
  std::string good = make_model_dir("cli_check_good");
  CliResult ok = run_cli(good + "/model.onnx --check");
  EXPECT_EQ(ok.code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("PASS test_data_set_0"), std::string::npos) << ok.out;

  std::string bad = make_model_dir("cli_check_bad", /*perturb_reference=*/true);
  CliResult fail = run_cli(bad + "/model.onnx --check");
  EXPECT_EQ(fail.code, 1) << fail.out << fail.err;
  EXPECT_NE(fail.out.find("FAIL test_data_set_0"), std::string::npos) << fail.out;
  EXPECT_NE(fail.out.find("worst [1]"), std::string::npos) << "names the worst element: " << fail.out;
  // A looser tolerance accepts the 0.01 perturbation.
  EXPECT_EQ(run_cli(bad + "/model.onnx --check --atol 0.02").code, 0);
  // --check DIR points elsewhere.
  EXPECT_EQ(run_cli(bad + "/model.onnx --check " + good).code, 0);
}

// y = relu(x) in a 16-bit float type, with one test_data_set; `perturb` moves
// one reference element by one step of the type (far beyond --check's default
// tolerance at that magnitude: 1 vs 1.0078 for bfloat16, 1.001 for float16).
std::string make_half_model_dir(const std::string& name, DataType t, bool perturb) {
  std::string dir = testing::temp_dir(name);
  ModelBuilder b(13);
  b.input("x", t, {2, 3});
  b.node("Relu", {"x"}, {"y"}, "relu");
  b.output("y", t);
  std::ofstream(dir + "/model.onnx", std::ios::binary) << b.serialize();
  fs::create_directories(dir + "/test_data_set_0");
  const std::vector<float> xv = {-1.5f, 0.25f, 3.0f, -0.0f, 1.0f, -7.0f};
  auto bits = [t](float v) { return t == DataType::kFloat16 ? float_to_half(v) : float_to_bfloat16(v); };
  Tensor x = Tensor::allocate(t, {2, 3}), y = Tensor::allocate(t, {2, 3});
  for (size_t i = 0; i < xv.size(); ++i) {
    x.data<uint16_t>()[i] = bits(xv[i]);
    y.data<uint16_t>()[i] = bits(xv[i] > 0 ? xv[i] : 0.0f);
  }
  if (perturb) y.data<uint16_t>()[4] += 1;  // 1.0 -> the next 16-bit value up
  EXPECT_TRUE(write_tensor_pb(dir + "/test_data_set_0/input_0.pb", "x", x).is_ok());
  EXPECT_TRUE(write_tensor_pb(dir + "/test_data_set_0/output_0.pb", "y", y).is_ok());
  return dir;
}

// float16/bfloat16 models: generated inputs, printed outputs, and --check
// compares their values (a one-step difference fails).
TEST(OnnxRunCliTest, HalfTypesRunGenerateAndCheck) {
  for (DataType t : {DataType::kFloat16, DataType::kBFloat16}) {
    const std::string type = dtype_name(t);
    std::string good = make_half_model_dir("cli_" + type + "_good", t, false);
    CliResult run = run_cli(good + "/model.onnx");
    ASSERT_EQ(run.code, 0) << run.err;
    EXPECT_NE(run.out.find("y: " + type + "[2, 3]"), std::string::npos) << run.out;
    CliResult ok = run_cli(good + "/model.onnx --check");
    EXPECT_EQ(ok.code, 0) << ok.out << ok.err;
    std::string bad = make_half_model_dir("cli_" + type + "_bad", t, true);
    CliResult fail = run_cli(bad + "/model.onnx --check");
    EXPECT_EQ(fail.code, 1) << type << ": " << fail.out << fail.err;
    EXPECT_NE(fail.out.find("worst [4]"), std::string::npos) << fail.out;
  }
}

TEST(OnnxRunCliTest, NpyAndPbInputsAndNpyOutputs) {
  std::string dir = make_model_dir("cli_io");
  Tensor x = testing::make_tensor({1, 3}, {1, 2, 3});
  ASSERT_TRUE(write_npy(dir + "/x.npy", x).is_ok());
  ASSERT_TRUE(write_tensor_pb(dir + "/x.pb", "x", x).is_ok());
  for (const char* file : {"x.npy", "x.pb"}) {
    std::string out_dir = dir + "/out_" + file;
    CliResult r = run_cli(dir + "/model.onnx --input x=" + dir + "/" + file + " --output-dir " + out_dir);
    ASSERT_EQ(r.code, 0) << r.err;
    auto y = read_tensor_file(out_dir + "/y.npy");
    ASSERT_TRUE(y.is_ok()) << y.status().message();
    EXPECT_EQ(y->tensor.shape(), (Shape{1, 2}));
    // x @ W + b = [1 + 1 - 0.75 + 0.1, -1 + 4 + 3 - 0.2]
    EXPECT_FLOAT_EQ(y->tensor.data<float>()[0], 1.35f);
    EXPECT_FLOAT_EQ(y->tensor.data<float>()[1], 5.8f);
  }
}

TEST(OnnxRunCliTest, ExitCodesForBadModelsAndInputs) {
  std::string dir = testing::temp_dir("cli_exit_codes");
  std::ofstream(dir + "/garbage.onnx") << "this is not a protobuf at all \xff\xff\xff";
  CliResult invalid = run_cli(dir + "/garbage.onnx");
  EXPECT_EQ(invalid.code, 3) << invalid.err;
  EXPECT_NE(invalid.err.find(dir + "/garbage.onnx"), std::string::npos) << "names the file: " << invalid.err;

  ModelBuilder b(13);
  b.input("x", DataType::kFloat, {2});
  b.node("NoSuchOp", {"x"}, {"y"}, "mystery");
  b.output("y");
  std::ofstream(dir + "/unsupported.onnx", std::ios::binary) << b.serialize();
  CliResult unsup = run_cli(dir + "/unsupported.onnx");
  EXPECT_EQ(unsup.code, 4);
  EXPECT_NE(unsup.err.find("NoSuchOp"), std::string::npos) << unsup.err;
  EXPECT_NE(unsup.err.find("'mystery'"), std::string::npos) << unsup.err;

  std::string good = make_model_dir("cli_exit_codes_input");
  std::ofstream(good + "/bad.npy") << "\x93NUMPY garbage";
  CliResult bad_input = run_cli(good + "/model.onnx --input x=" + good + "/bad.npy");
  EXPECT_EQ(bad_input.code, 5) << bad_input.err;
  EXPECT_NE(bad_input.err.find("malformed .npy"), std::string::npos) << bad_input.err;

  Tensor wrong = testing::make_tensor<int64_t>({1, 3}, {1, 2, 3});
  ASSERT_TRUE(write_npy(good + "/wrong.npy", wrong).is_ok());
  CliResult wrong_dtype = run_cli(good + "/model.onnx --input x=" + good + "/wrong.npy");
  EXPECT_EQ(wrong_dtype.code, 5);
  // The message names the model, the input and the file it came from.
  EXPECT_NE(wrong_dtype.err.find(good + "/model.onnx: input 'x' (from " + good + "/wrong.npy): expected float, got int64"),
            std::string::npos) << wrong_dtype.err;
}

// One input fed twice is a slip (the second file used to win silently): a
// usage error naming both files, before anything is read.
TEST(OnnxRunCliTest, AnInputFedTwiceIsAUsageError) {
  std::string good = make_model_dir("cli_input_twice");
  Tensor x = testing::make_tensor({1, 3}, {1, 2, 3});
  ASSERT_TRUE(write_npy(good + "/a.npy", x).is_ok());
  ASSERT_TRUE(write_npy(good + "/b.npy", x).is_ok());
  CliResult twice = run_cli(good + "/model.onnx --input x=" + good + "/a.npy --input x=" + good + "/b.npy");
  EXPECT_EQ(twice.code, 2) << twice.err;
  EXPECT_NE(twice.err.find("--input x is given twice ('" + good + "/a.npy' and '" + good + "/b.npy')"), std::string::npos)
      << twice.err;
  CliResult once = run_cli(good + "/model.onnx --input x=" + good + "/a.npy");
  EXPECT_EQ(once.code, 0) << once.err;
}

TEST(OnnxRunCliTest, ExternalDataOutsideTheFolderExits3) {
  std::string dir = testing::temp_dir("cli_external_outside");
  ModelBuilder b(13);
  b.input("x", DataType::kFloat, {4});
  auto* w = b.model().mutable_graph()->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(4);
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* loc = w->add_external_data();
  loc->set_key("location");
  loc->set_value("../../../etc/passwd");
  b.node("Add", {"x", "w"}, {"y"}, "add");
  b.output("y");
  std::ofstream(dir + "/model.onnx", std::ios::binary) << b.serialize();
  CliResult r = run_cli(dir + "/model.onnx");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("contains '..'"), std::string::npos) << r.err;
}

TEST(OnnxRunCliTest, JsonReportWithRepeat) {
  std::string dir = make_model_dir("cli_json");
  CliResult r = run_cli(dir + "/model.onnx --repeat 5 --json --profile");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* key : {"\"load_ms\"", "\"median_ms\"", "\"p10_ms\"", "\"p90_ms\"", "\"runs\": 5", "\"outputs\"", "\"profile\""}) {
    EXPECT_NE(r.out.find(key), std::string::npos) << key << " missing in " << r.out;
  }
}

TEST(OnnxRunCliTest, StatsListEveryNodeOutput) {
  std::string dir = make_model_dir("cli_stats");
  CliResult r = run_cli(dir + "/model.onnx --stats --dim N=8");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("fc "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("relu "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("zeros"), std::string::npos) << r.out;
}

// float16 outputs were compared (and printed) as zeros: a reference of
// [100, -7, inf, 12] passed against [1, 2, 3, 4].
TEST(OnnxRunCliTest, CheckComparesFloat16ForReal) {
  std::string dir = testing::temp_dir("cli_check_float16");
  ModelBuilder b(13);
  b.input("x", DataType::kFloat16, {4});
  b.node("Identity", {"x"}, {"y"}, "id");
  b.output("y", DataType::kFloat16);
  std::ofstream(dir + "/model.onnx", std::ios::binary) << b.serialize();
  fs::create_directories(dir + "/test_data_set_0");
  auto half = [](std::vector<uint16_t> bits) {
    Tensor t = Tensor::allocate(DataType::kFloat16, {4});
    std::memcpy(t.raw_data(), bits.data(), 8);
    return t;
  };
  // 1, 2, 3, 4 and 100, -7, inf, 12 as float16 bits.
  ASSERT_TRUE(write_tensor_pb(dir + "/test_data_set_0/input_0.pb", "x", half({0x3c00, 0x4000, 0x4200, 0x4400})).is_ok());
  ASSERT_TRUE(write_tensor_pb(dir + "/test_data_set_0/output_0.pb", "y", half({0x5640, 0xc700, 0x7c00, 0x4a00})).is_ok());
  CliResult r = run_cli(dir + "/model.onnx --check");
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("y: float16[4] 1 2 3 4"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("MISMATCH, worst [2] got 3 expected inf"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("4 elements outside tolerance"), std::string::npos) << r.out;
  CliResult json = run_cli(dir + "/model.onnx --input x=" + dir + "/test_data_set_0/input_0.pb --json");
  ASSERT_EQ(json.code, 0) << json.err;
  EXPECT_NE(json.out.find("\"values\": [1, 2, 3, 4]"), std::string::npos) << json.out;
}

}  // namespace
}  // namespace onnx_mini
