// onnx-run's output files (--output-dir, --save-optimized): written only where
// asked, all or nothing, every output kept, errors with the OS's reason.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <filesystem>
#include <fstream>

#include "runtime/io/tensor_file.h"
#include "tests/testutil/model_builder.h"
#include "tests/testutil/small_tmpfs.h"
#include "tests/tools/onnx_run/cli_runner.h"

namespace onnx_mini {
namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using testing::ModelBuilder;
using testing::read_all;
using testing::run_cli;

// x float[n] -> out_k = x * (k + 1), one output per name, written to dir/model.onnx.
std::string write_model(const std::string& dir, const std::vector<std::string>& outputs, int64_t n = 4) {
  ModelBuilder b(13);
  b.input("x", DataType::kFloat, {n});
  for (size_t k = 0; k < outputs.size(); ++k) {
    const std::string scale = "scale" + std::to_string(k);
    b.initializer(scale, {1}, {static_cast<float>(k + 1)});
    b.node("Mul", {"x", scale}, {outputs[k]}, "mul" + std::to_string(k));
    b.output(outputs[k], DataType::kFloat);
  }
  std::ofstream(dir + "/model.onnx", std::ios::binary) << b.serialize();
  return dir + "/model.onnx";
}

int temporaries_in(const std::string& dir) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().filename().string().rfind(".onnx-mini-", 0) == 0;
  return n;
}

// The value of element 0 of an .npy file (the generated x[0] times the output's scale).
float first_value(const std::string& path) {
  auto t = read_tensor_file(path);
  EXPECT_TRUE(t.is_ok()) << path << ": " << t.status().message();
  return t.is_ok() ? t->tensor.data<float>()[0] : 0.0f;
}

TEST(OutputFilesTest, OutputDirDoesNotWriteThroughSymbolicLinks) {
  const std::string dir = testing::temp_dir("out_symlinks");
  const std::string outside = testing::temp_dir("out_symlinks_outside");
  const std::string model = write_model(dir, {"y", "z"});
  std::ofstream(outside + "/victim") << "precious";
  fs::create_directories(dir + "/o");
  fs::create_symlink(outside + "/victim", dir + "/o/y.npy");
  fs::create_symlink(outside + "/made_by_dangling_link", dir + "/o/z.npy");
  CliResult r = run_cli(model + " --output-dir " + dir + "/o");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("cannot write '" + dir + "/o/y.npy': it is a symbolic link, not a regular file"), std::string::npos)
      << r.err;
  EXPECT_EQ(read_all(outside + "/victim"), "precious");
  EXPECT_FALSE(fs::exists(outside + "/made_by_dangling_link"));
  EXPECT_EQ(temporaries_in(dir + "/o"), 0);
}

TEST(OutputFilesTest, SaveOptimizedIgnoresALinkAtThePredictableTemporaryName) {
  const std::string dir = testing::temp_dir("out_planted_tmp");
  const std::string outside = testing::temp_dir("out_planted_tmp_outside");
  const std::string model = write_model(dir, {"y"});
  std::ofstream(outside + "/victim") << "precious";
  fs::create_symlink(outside + "/victim", dir + "/opt.onnx.tmp");
  CliResult r = run_cli(model + " --save-optimized " + dir + "/opt.onnx");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_all(outside + "/victim"), "precious");
  EXPECT_EQ(run_cli(dir + "/opt.onnx").code, 0) << "the saved model loads and runs";
  EXPECT_EQ(temporaries_in(dir), 0);
}

TEST(OutputFilesTest, SaveOptimizedRefusesALinkOrADeviceAtTheTarget) {
  const std::string dir = testing::temp_dir("out_save_special");
  const std::string outside = testing::temp_dir("out_save_special_outside");
  const std::string model = write_model(dir, {"y"});
  std::ofstream(outside + "/victim") << "precious";
  fs::create_symlink(outside + "/victim", dir + "/link.onnx");
  CliResult link = run_cli(model + " --save-optimized " + dir + "/link.onnx");
  EXPECT_EQ(link.code, 2) << link.err;
  EXPECT_NE(link.err.find("it is a symbolic link, not a regular file"), std::string::npos) << link.err;
  EXPECT_EQ(read_all(outside + "/victim"), "precious");
  if (::mknod((dir + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0) {  // root only
    CliResult dev = run_cli(model + " --save-optimized " + dir + "/null");
    EXPECT_EQ(dev.code, 2) << dev.err;
    EXPECT_NE(dev.err.find("it is a device, not a regular file"), std::string::npos) << dev.err;
    EXPECT_TRUE(fs::is_character_file(dir + "/null"));
  }
}

TEST(OutputFilesTest, AFifoAtAnOutputNameIsRefusedWithoutBlocking) {
  const std::string dir = testing::temp_dir("out_fifo");
  const std::string model = write_model(dir, {"y"});
  fs::create_directories(dir + "/o");
  ASSERT_EQ(::mkfifo((dir + "/o/y.npy").c_str(), 0600), 0);
  CliResult r = run_cli(model + " --output-dir " + dir + "/o");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("it is a FIFO, not a regular file"), std::string::npos) << r.err;
}

TEST(OutputFilesTest, CollidingSanitisedNamesGetNumberedFilesAndAPrintedMapping) {
  const std::string dir = testing::temp_dir("out_collisions");
  const std::string model = write_model(dir, {"a/b", "a_b", "a_b_1", "a/b/"});
  CliResult r = run_cli(model + " --output-dir " + dir + "/o");
  ASSERT_EQ(r.code, 0) << r.err;
  // In output order: the first keeps the plain name, later ones take the next free number.
  EXPECT_FLOAT_EQ(first_value(dir + "/o/a_b.npy"), 1 * first_value(dir + "/o/a_b.npy"));
  const float x0 = first_value(dir + "/o/a_b.npy");
  EXPECT_FLOAT_EQ(first_value(dir + "/o/a_b_1.npy"), 2 * x0);
  EXPECT_FLOAT_EQ(first_value(dir + "/o/a_b_1_1.npy"), 3 * x0);
  EXPECT_FLOAT_EQ(first_value(dir + "/o/a_b_.npy"), 4 * x0);
  for (const char* line : {"wrote output 'a/b' to ", "/o/a_b.npy\n", "wrote output 'a_b' to ", "/o/a_b_1.npy\n",
                           "wrote output 'a_b_1' to ", "/o/a_b_1_1.npy\n", "wrote output 'a/b/' to ", "/o/a_b_.npy\n"}) {
    EXPECT_NE(r.out.find(line), std::string::npos) << line << " missing in\n" << r.out;
  }
  CliResult json = run_cli(model + " --output-dir " + dir + "/o2 --json");
  ASSERT_EQ(json.code, 0) << json.err;
  EXPECT_NE(json.out.find("\"name\": \"a_b\", \"dtype\": \"float\", \"shape\": [4], \"file\": \"" + dir + "/o2/a_b_1.npy\""),
            std::string::npos) << json.out;
}

TEST(OutputFilesTest, OutputDirErrorsGiveTheOsReason) {
  const std::string dir = testing::temp_dir("out_dir_errors");
  const std::string model = write_model(dir, {"y"});
  std::ofstream(dir + "/a_file") << "x";
  CliResult onto_file = run_cli(model + " --output-dir " + dir + "/a_file");
  EXPECT_EQ(onto_file.code, 2) << onto_file.err;
  EXPECT_NE(onto_file.err.find("--output-dir '" + dir + "/a_file': cannot create the folder: Not a directory"), std::string::npos)
      << onto_file.err;
  CliResult below_file = run_cli(model + " --output-dir " + dir + "/a_file/sub");
  EXPECT_EQ(below_file.code, 2) << below_file.err;
  EXPECT_NE(below_file.err.find("Not a directory"), std::string::npos) << below_file.err;

  const std::string long_name(300, 'n');
  const std::string long_model = write_model(testing::temp_dir("out_dir_errors_long"), {long_name});
  CliResult too_long = run_cli(long_model + " --output-dir " + dir + "/o");
  EXPECT_EQ(too_long.code, 2) << too_long.err;
  EXPECT_NE(too_long.err.find("File name too long"), std::string::npos) << too_long.err;
}

TEST(OutputFilesTest, AReadOnlyFolderGivesTheOsReason) {
  const std::string dir = testing::temp_dir("out_read_only");
  const std::string model = write_model(dir, {"y"});
  fs::create_directories(dir + "/ro");
  testing::SmallTmpfs ro(dir + "/ro", "64k", /*read_only=*/true);
  if (!ro.mounted()) GTEST_SKIP() << ro.why();
  CliResult r = run_cli(model + " --output-dir " + dir + "/ro");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("cannot write '" + dir + "/ro/y.npy': cannot create a file in '" + dir +
                       "/ro': Read-only file system"), std::string::npos) << r.err;
}

class FullDiskCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    model_ = write_model(dir_, {"y"}, 16);
    fs::create_directories(dir_ + "/disk");
    disk_ = std::make_unique<testing::SmallTmpfs>(dir_ + "/disk", "64k");
    if (!disk_->mounted()) GTEST_SKIP() << disk_->why();
  }
  void TearDown() override { disk_.reset(); }
  std::string dir_, model_;
  std::unique_ptr<testing::SmallTmpfs> disk_;
};

TEST_F(FullDiskCli, OutputDirOnAFullDiskFailsAndLeavesNoFile) {
  disk_->fill();
  CliResult r = run_cli(model_ + " --output-dir " + dir_ + "/disk");
  EXPECT_EQ(r.code, 6) << r.err;
  EXPECT_NE(r.err.find("cannot write '" + dir_ + "/disk/y.npy'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ + "/disk/y.npy"));
  EXPECT_EQ(temporaries_in(dir_ + "/disk"), 0);
}

TEST_F(FullDiskCli, AnOutputLargerThanTheDiskFailsAndLeavesNoFile) {
  const std::string big = write_model(testing::temp_dir("out_full_disk_big"), {"y"}, 64 << 10);  // 256 KiB
  CliResult r = run_cli(big + " --output-dir " + dir_ + "/disk");
  EXPECT_EQ(r.code, 6) << r.err;
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ + "/disk/y.npy"));
  EXPECT_EQ(temporaries_in(dir_ + "/disk"), 0);
}

TEST_F(FullDiskCli, SaveOptimizedOnAFullDiskKeepsTheOldModel) {
  fs::copy_file(model_, dir_ + "/disk/opt.onnx");
  const std::string old = read_all(model_);
  disk_->fill();
  CliResult r = run_cli(model_ + " --save-optimized " + dir_ + "/disk/opt.onnx");
  EXPECT_EQ(r.code, 6) << r.err;
  EXPECT_NE(r.err.find("cannot write '" + dir_ + "/disk/opt.onnx'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  EXPECT_EQ(read_all(dir_ + "/disk/opt.onnx"), old);
  EXPECT_EQ(temporaries_in(dir_ + "/disk"), 0);
}

}  // namespace
}  // namespace onnx_mini
