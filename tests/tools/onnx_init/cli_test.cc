// The onnx-init command line: exit codes and messages of the real binary, and
// reproducible output files.
#include "onnx_init/cli.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace onnx_mini::init {
namespace {

namespace fs = std::filesystem;

class OnnxInitCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("onnx_init_cli_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Runs the built binary through the shell; returns its exit code, stderr in `err`.
  int run_binary(const std::string& args, std::string* err = nullptr) {
    const std::string err_file = path("stderr.txt");
    const std::string cmd = std::string(ONNX_INIT_BINARY) + " " + args + " >/dev/null 2>" + err_file;
    const int status = std::system(cmd.c_str());
    std::ifstream in(err_file);
    std::stringstream text;
    text << in.rdbuf();
    if (err) *err = text.str();
    fs::remove(err_file);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  // In-process run, for checking messages cheaply.
  int run(const std::vector<std::string>& args, std::string* err = nullptr) {
    std::ostringstream out, err_stream;
    const int code = run_onnx_init(args, out, err_stream);
    if (err) *err = err_stream.str();
    return code;
  }

  std::string read_bytes(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  // Nothing but the expected files: no leftover temporary from a failed write.
  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
    return names;
  }

  fs::path dir_;
};

TEST_F(OnnxInitCli, CreatesAModelAndExitsZero) {
  EXPECT_EQ(run_binary("mlp --layers 20,16,4 --init kaiming_normal:0,fan_in,relu --seed 7 -o " + path("a.onnx")), 0);
  EXPECT_TRUE(fs::exists(path("a.onnx")));
  EXPECT_EQ(files(), std::vector<std::string>{"a.onnx"});
}

TEST_F(OnnxInitCli, SameSeedGivesByteIdenticalFilesAndAnotherSeedDiffers) {
  const std::string common = "mlp --layers 64,32,10 --activation tanh --init xavier_normal --head softmax ";
  ASSERT_EQ(run_binary(common + "--seed 3 -o " + path("a.onnx")), 0);
  ASSERT_EQ(run_binary(common + "--seed 3 -o " + path("b.onnx")), 0);
  ASSERT_EQ(run_binary(common + "--seed 4 -o " + path("c.onnx")), 0);
  const std::string a = read_bytes(path("a.onnx"));
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, read_bytes(path("b.onnx")));
  EXPECT_NE(a, read_bytes(path("c.onnx")));
}

TEST_F(OnnxInitCli, ReinitRedrawsAndIsReproducible) {
  ASSERT_EQ(run_binary("mlp --layers 16,8,2 --init zeros --bias zeros -o " + path("zero.onnx")), 0);
  ASSERT_EQ(run_binary("reinit " + path("zero.onnx") + " --init xavier_uniform --seed 1 -o " + path("r1.onnx")), 0);
  ASSERT_EQ(run_binary("reinit " + path("zero.onnx") + " --init xavier_uniform --seed 1 -o " + path("r2.onnx")), 0);
  EXPECT_EQ(read_bytes(path("r1.onnx")), read_bytes(path("r2.onnx")));
  EXPECT_NE(read_bytes(path("r1.onnx")), read_bytes(path("zero.onnx")));
}

// Every error of the list: message on stderr, exit 2, no output file.
TEST_F(OnnxInitCli, ErrorsExitTwoWithAMessageAndWriteNothing) {
  const std::string out = " -o " + path("out.onnx");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"mlp --layers 8,4 --init gaussian" + out, "unknown init scheme 'gaussian'"},
      {"mlp --layers 8,4 --init kaiming_normal:0,fan_in,swish" + out, "unknown nonlinearity 'swish'"},
      {"mlp --layers 8,4 --init kaiming_normal:0,fan_up" + out, "unknown kaiming mode 'fan_up'"},
      {"mlp --layers 8,0,4" + out, "at least one unit"},
      {"mlp --layers 8,4 --bias xavier_uniform" + out, "at least 2 dims"},
      {"mlp --layers 8,4 --init normal:0,-1" + out, "std must be >= 0"},
      {"mlp --layers 8,4 --init uniform:1,-1" + out, "A <= B"},
      {"mlp --layers 8,4 --activation swish" + out, "unknown activation 'swish'"},
      {"mlp --layers 8,4 --head softmax --loss cross_entropy" + out, "use --head none"},
      {"mlp --layers 8,4 --opset 21" + out, "--opset 21"},
      {"mlp --layers 8,4 --frobnicate 1" + out, "unknown option '--frobnicate'"},
      {"mlp --layers 8,4", "needs -o"},
      {"mlp --layers 8,x4" + out, "expected an integer"},
      {"mlp --layers 8,4 --seed -1" + out, "--seed"},
      {"transmogrify" + out, "unknown command"},
      {"mlp --layers 8,4 -o " + path("no/such/folder/out.onnx"), "cannot write"},
      {"reinit " + path("missing.onnx") + out, "missing.onnx: cannot open: No such file or directory"},
  };
  for (const auto& [args, expected] : cases) {
    std::string err;
    EXPECT_EQ(run_binary(args, &err), 2) << args;
    EXPECT_NE(err.find(expected), std::string::npos) << args << "\nstderr: " << err;
    EXPECT_NE(err.find("onnx-init: error: "), std::string::npos) << args;
  }
  EXPECT_TRUE(files().empty());
}

TEST_F(OnnxInitCli, ReinitErrors) {
  ASSERT_EQ(run({"mlp", "--layers", "8,4", "-o", path("m.onnx")}), 0);
  std::string err;
  EXPECT_EQ(run({"reinit", path("m.onnx"), "--match", "fc[", "-o", path("out.onnx")}, &err), 2);
  EXPECT_NE(err.find("bad --match pattern 'fc[': missing ']'"), std::string::npos) << err;
  EXPECT_EQ(run({"reinit", path("m.onnx"), "--match", "nope", "-o", path("out.onnx")}, &err), 2);
  EXPECT_NE(err.find("selects no initializer"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(path("out.onnx")));

  std::ofstream(path("garbage.onnx")) << "this is not protobuf";
  EXPECT_EQ(run({"reinit", path("garbage.onnx"), "-o", path("out.onnx")}, &err), 3);  // invalid model
  EXPECT_NE(err.find("not a valid ONNX"), std::string::npos) << err;
}

TEST_F(OnnxInitCli, FailedWriteKeepsTheOldFile) {
  // A directory in place of the output: rename fails after the temp file is complete.
  fs::create_directories(path("taken.onnx"));
  std::string err;
  EXPECT_EQ(run({"mlp", "--layers", "8,4", "-o", path("taken.onnx")}, &err), 2);
  EXPECT_NE(err.find("cannot write"), std::string::npos) << err;
  EXPECT_EQ(files(), std::vector<std::string>{"taken.onnx"});  // temp file removed
  EXPECT_TRUE(fs::is_directory(path("taken.onnx")));
}

TEST_F(OnnxInitCli, HelpExitsZeroAndNoArgumentsIsAUsageError) {
  EXPECT_EQ(run_binary("--help"), 0);
  EXPECT_EQ(run_binary("mlp --help"), 0);
  EXPECT_EQ(run_binary(""), 2);
}

}  // namespace
}  // namespace onnx_mini::init
