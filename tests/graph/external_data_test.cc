// External data: read in place from inside the model's folder; everything that
// could reach outside it is refused with exit code 3 (invalid model).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "graph/onnx_loader.h"
#include "tests/testutil/model_builder.h"

namespace onnx_mini {
namespace {

namespace fs = std::filesystem;
using testing::ModelBuilder;

// y = x + w, with w (4 floats) stored externally at `location`.
std::string write_model(const std::string& dir, const std::string& location, int64_t offset = 0, int64_t length = 16) {
  ModelBuilder b(13);
  b.input("x", DataType::kFloat, {4});
  auto* w = b.model().mutable_graph()->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(4);
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto add_kv = [&](const std::string& k, const std::string& v) {
    auto* e = w->add_external_data();
    e->set_key(k);
    e->set_value(v);
  };
  add_kv("location", location);
  add_kv("offset", std::to_string(offset));
  add_kv("length", std::to_string(length));
  b.node("Add", {"x", "w"}, {"y"}, "add");
  b.output("y");
  std::string path = dir + "/model.onnx";
  std::ofstream(path, std::ios::binary) << b.serialize();
  return path;
}

void write_weights(const std::string& path, int64_t pad = 0) {
  std::ofstream f(path, std::ios::binary);
  std::string zeros(static_cast<size_t>(pad), '\0');
  f.write(zeros.data(), pad);
  float w[4] = {1, 2, 3, 4};
  f.write(reinterpret_cast<char*>(w), sizeof w);
}

Status load(const std::string& path) { return load_onnx_file(path).status(); }

TEST(ExternalDataTest, LoadsFromInsideTheFolderWithOffset) {
  std::string dir = testing::temp_dir("ext_ok");
  fs::create_directories(dir + "/weights");
  write_weights(dir + "/weights/w.bin", 8);
  std::string model = write_model(dir, "weights/w.bin", 8, 16);
  auto s = Session::load(model);
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  auto out = (*s)->run({{"x", testing::make_tensor({4}, {0, 0, 0, 0.5f})}});
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(out->at(0).tensor.data<float>()[3], 4.5f);
}

void expect_refused(const std::string& model, const std::string& fragment) {
  Status s = load(model);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidModel) << s.message();
  EXPECT_NE(s.message().find(fragment), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("initializer 'w'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(model), std::string::npos) << "the message names the file: " << s.message();
}

TEST(ExternalDataTest, RefusesParentDirectory) {
  std::string dir = testing::temp_dir("ext_dotdot");
  write_weights(dir + "/../outside.bin");
  expect_refused(write_model(dir, "../outside.bin"), "contains '..'");
}

TEST(ExternalDataTest, RefusesAbsolutePath) {
  std::string dir = testing::temp_dir("ext_abs");
  write_weights(dir + "/w.bin");
  expect_refused(write_model(dir, dir + "/w.bin"), "absolute path");
}

TEST(ExternalDataTest, RefusesSymlinkLeavingTheFolder) {
  std::string dir = testing::temp_dir("ext_symlink");
  std::string outside = testing::temp_dir("ext_symlink_outside");
  write_weights(outside + "/secret.bin");
  fs::create_symlink(outside + "/secret.bin", dir + "/w.bin");
  expect_refused(write_model(dir, "w.bin"), "symbolic link");
}

TEST(ExternalDataTest, RefusesSymlinkedDirectoryComponent) {
  std::string dir = testing::temp_dir("ext_symlink_dir");
  std::string outside = testing::temp_dir("ext_symlink_dir_outside");
  write_weights(outside + "/w.bin");
  fs::create_directory_symlink(outside, dir + "/sub");
  expect_refused(write_model(dir, "sub/w.bin"), "symbolic link");
}

TEST(ExternalDataTest, RefusesHardLink) {
  std::string dir = testing::temp_dir("ext_hardlink");
  std::string outside = testing::temp_dir("ext_hardlink_outside");
  write_weights(outside + "/secret.bin");
  fs::create_hard_link(outside + "/secret.bin", dir + "/w.bin");
  expect_refused(write_model(dir, "w.bin"), "hard links");
}

TEST(ExternalDataTest, RefusesMissingFileAndRangePastEnd) {
  std::string dir = testing::temp_dir("ext_missing");
  expect_refused(write_model(dir, "nope.bin"), "cannot be opened");
  std::string dir2 = testing::temp_dir("ext_past_end");
  write_weights(dir2 + "/w.bin");
  expect_refused(write_model(dir2, "w.bin", 4, 16), "past the end");
  std::string dir3 = testing::temp_dir("ext_bad_length");
  write_weights(dir3 + "/w.bin");
  expect_refused(write_model(dir3, "w.bin", 0, 12), "does not match");
}

}  // namespace
}  // namespace onnx_mini
