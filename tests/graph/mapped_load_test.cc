// Loading a model file through the memory-mapped path (large raw_data payloads
// cut out of the parsed message, used in place or read once) gives exactly the
// tensors the plain parse gives, and malformed files are still refused.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>

#include <gtest/gtest.h>

#include "bench/mlp_model.h"
#include "graph/onnx_loader.h"

namespace onnx_mini {
namespace {

std::string temp_path(const std::string& name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/onnx_mini_perf_" + std::to_string(getpid()) + "_" + name;
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void expect_same_initializers(const Graph& a, const Graph& b) {
  ASSERT_EQ(a.num_values(), b.num_values());
  int compared = 0;
  for (size_t v = 0; v < a.num_values(); ++v) {
    const Value& va = a.value(static_cast<ValueId>(v));
    const Value& vb = b.value(static_cast<ValueId>(v));
    ASSERT_EQ(va.name, vb.name);
    ASSERT_EQ(va.initializer.has_value(), vb.initializer.has_value()) << va.name;
    if (!va.initializer) continue;
    ASSERT_EQ(va.initializer->dtype(), vb.initializer->dtype()) << va.name;
    ASSERT_EQ(va.initializer->shape(), vb.initializer->shape()) << va.name;
    ASSERT_EQ(va.initializer->byte_size(), vb.initializer->byte_size()) << va.name;
    // Bit-exact: loading is a copy or a view, never arithmetic.
    EXPECT_EQ(std::memcmp(va.initializer->raw_data(), vb.initializer->raw_data(), va.initializer->byte_size()), 0)
        << va.name;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(va.initializer->raw_data()) % dtype_size(va.initializer->dtype()), 0u)
        << va.name << " is not aligned for its dtype";
    ++compared;
  }
  EXPECT_GT(compared, 0);
}

TEST(MappedLoad, SameTensorsAsPlainParse) {
  // Widths chosen so payloads start at assorted offsets (aligned and not), and
  // both sides of the 4 KiB cut-out threshold occur (the 10-wide biases stay inline).
  for (const std::vector<int64_t>& widths : std::vector<std::vector<int64_t>>{{784, 512, 256, 10}, {33, 1031, 7, 5}}) {
    onnx::ModelProto model = bench::make_mlp(bench::MlpSpec{widths});
    std::string bytes;
    ASSERT_TRUE(model.SerializeToString(&bytes));
    const std::string path = temp_path("mlp.onnx");
    write_file(path, bytes);

    auto mapped = load_onnx_file(path);
    ASSERT_TRUE(mapped.is_ok()) << mapped.status().message();
    onnx::ModelProto parsed;
    ASSERT_TRUE(parsed.ParseFromString(bytes));
    auto plain = graph_from_model(parsed, "");
    ASSERT_TRUE(plain.is_ok()) << plain.status().message();
    expect_same_initializers(mapped.value(), plain.value());
    std::remove(path.c_str());
  }
}

TEST(MappedLoad, TruncatedFileIsStillRefused) {
  onnx::ModelProto model = bench::make_mlp(bench::MlpSpec{{784, 512, 10}});
  std::string bytes;
  ASSERT_TRUE(model.SerializeToString(&bytes));
  const std::string path = temp_path("truncated.onnx");
  write_file(path, bytes.substr(0, bytes.size() / 2));
  auto g = load_onnx_file(path);
  ASSERT_FALSE(g.is_ok());
  EXPECT_EQ(g.status().code(), ErrorCode::kInvalidModel) << g.status().message();
  std::remove(path.c_str());
}

TEST(MappedLoad, RawDataSizeMismatchIsRefused) {
  onnx::ModelProto model = bench::make_mlp(bench::MlpSpec{{784, 512, 10}});
  // A payload big enough to be cut out, but one float short of its dims.
  std::string* raw = model.mutable_graph()->mutable_initializer(0)->mutable_raw_data();
  raw->resize(raw->size() - 4);
  std::string bytes;
  ASSERT_TRUE(model.SerializeToString(&bytes));
  const std::string path = temp_path("short.onnx");
  write_file(path, bytes);
  auto g = load_onnx_file(path);
  ASSERT_FALSE(g.is_ok());
  EXPECT_EQ(g.status().code(), ErrorCode::kInvalidModel);
  EXPECT_NE(g.status().message().find("fc1.weight"), std::string::npos) << g.status().message();
  std::remove(path.c_str());
}

}  // namespace
}  // namespace onnx_mini
