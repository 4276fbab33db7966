// One file per tensor: sanitised, unique, deterministic, linear.
#include "runtime/io/output_file_names.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>

namespace onnx_mini {
namespace {

TEST(OutputFileNamesTest, SanitisesSeparatorsAndControlCharacters) {
  EXPECT_EQ(sanitized_file_stem("/mlp/mlp.0/Gemm_output_0"), "_mlp_mlp.0_Gemm_output_0");
  EXPECT_EQ(sanitized_file_stem("..\\..\\evil"), ".._.._evil");
  EXPECT_EQ(sanitized_file_stem(std::string("a\0b\n\x1b[31m", 9)), "a_b__[31m");
  EXPECT_EQ(sanitized_file_stem(""), "_");
  EXPECT_EQ(sanitized_file_stem("名前.x"), "名前.x");
}

TEST(OutputFileNamesTest, CollisionsGetTheNextFreeNumberInOrder) {
  EXPECT_EQ(unique_file_names({"a/b", "a_b"}, ".npy"), (std::vector<std::string>{"a_b.npy", "a_b_1.npy"}));
  // A name that is itself a numbered form is passed over, never overwritten.
  EXPECT_EQ(unique_file_names({"a/b", "a_b_1", "a_b", "a\\b"}, ".npy"),
            (std::vector<std::string>{"a_b.npy", "a_b_1.npy", "a_b_2.npy", "a_b_3.npy"}));
  EXPECT_EQ(unique_file_names({"y", "z"}, ".npy"), (std::vector<std::string>{"y.npy", "z.npy"}));
  EXPECT_EQ(unique_file_names({}, ".npy"), std::vector<std::string>{});
}

TEST(OutputFileNamesTest, ManyNamesAreAllDistinct) {
  // 100,000 names sanitising to one stem, plus their would-be numbered forms.
  std::vector<std::string> names;
  for (int i = 0; i < 50000; ++i) names.push_back(i % 2 ? "a/b" : "a_b");
  for (int i = 1; i <= 50000; i += 7) names.push_back("a_b_" + std::to_string(i));
  const auto files = unique_file_names(names, ".npy");
  ASSERT_EQ(files.size(), names.size());
  EXPECT_EQ(std::set<std::string>(files.begin(), files.end()).size(), names.size());
}

}  // namespace
}  // namespace onnx_mini
