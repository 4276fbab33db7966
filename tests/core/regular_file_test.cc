// The reader every model and tensor file goes through: regular files only,
// bounded, never blocking.
#include "core/regular_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/testutil/model_builder.h"

namespace onnx_mini {
namespace {

TEST(RegularFileTest, ReadsARegularFileWhole) {
  const std::string dir = testing::temp_dir("regular_file_read");
  std::ofstream(dir + "/f.bin", std::ios::binary) << std::string("ab\0cd", 5);
  auto bytes = read_regular_file(dir + "/f.bin", 100);
  ASSERT_TRUE(bytes.is_ok()) << bytes.status().message();
  EXPECT_EQ(bytes.value(), std::string("ab\0cd", 5));
}

TEST(RegularFileTest, RefusesDevicesFifosAndFoldersWithoutBlocking) {
  const std::string dir = testing::temp_dir("regular_file_refuse");
  ASSERT_EQ(::mkfifo((dir + "/fifo").c_str(), 0600), 0);
  const std::pair<std::string, std::string> cases[] = {
      {"/dev/zero", "is a device, not a regular file"},
      {dir + "/fifo", "is a FIFO, not a regular file"},
      {dir, "is a directory, not a regular file"},
      {dir + "/missing", "cannot open: No such file or directory"},
  };
  for (const auto& [path, why] : cases) {
    auto r = read_regular_file(path, 1 << 20);
    ASSERT_FALSE(r.is_ok()) << path;
    EXPECT_EQ(r.status().code(), ErrorCode::kUsage) << path;
    EXPECT_EQ(r.status().message(), path + ": " + why);
  }
}

TEST(RegularFileTest, AFileAboveTheLimitIsAResourceLimit) {
  const std::string dir = testing::temp_dir("regular_file_limit");
  std::ofstream(dir + "/f.bin", std::ios::binary) << std::string(101, 'x');
  auto r = read_regular_file(dir + "/f.bin", 100);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kResourceLimit);
  EXPECT_NE(r.status().message().find("101 bytes, above the limit of 100"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace onnx_mini
