// Status and Result: errors as values, and the one misuse Result must refuse
// (built from an OK Status, it would otherwise pass as success without a value).
#include <gtest/gtest.h>

#include <string>

#include "core/status.h"

namespace onnx_mini {
namespace {

TEST(StatusTest, WithContextPrefixesErrorsOnly) {
  Status err = invalid_model("bad dims");
  EXPECT_EQ(err.with_context("node 'fc1' (Gemm): ").message(), "node 'fc1' (Gemm): bad dims");
  EXPECT_EQ(err.with_context("x: ").code(), ErrorCode::kInvalidModel);
  Status ok = Status::ok();
  EXPECT_TRUE(ok.with_context("x: ").is_ok());
  EXPECT_EQ(ok.with_context("x: ").message(), "");
}

TEST(ResultTest, ValueAndErrorReadConsistently) {
  Result<int> value = 7;
  EXPECT_TRUE(value.is_ok());
  EXPECT_TRUE(value.status().is_ok());
  EXPECT_EQ(value.value(), 7);

  Result<int> error = bad_input("input 'x': expected float");
  EXPECT_FALSE(error.is_ok());
  EXPECT_EQ(error.status().code(), ErrorCode::kBadInput);
  EXPECT_EQ(error.status().message(), "input 'x': expected float");
}

TEST(ResultTest, OkStatusWithoutValueIsAnInternalError) {
  Result<int> r = Status::ok();
  EXPECT_FALSE(r.is_ok());
  EXPECT_FALSE(r.status().is_ok()) << "the status must agree with is_ok()";
  EXPECT_EQ(r.status().code(), ErrorCode::kInternal);
  EXPECT_EQ(r.status().message(), kOkStatusWithoutValue);
}

// A helper that mistakenly returns Status::ok() where a value belongs.
Result<std::string> forgets_its_value() { return Status::ok(); }

Status assign_or_return(std::string& out) {
  OM_ASSIGN_OR_RETURN(out, forgets_its_value());
  return Status::ok();
}

TEST(ResultTest, AssignOrReturnDoesNotTurnAMissingValueIntoSuccess) {
  std::string out = "untouched";
  Status s = assign_or_return(out);
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), ErrorCode::kInternal);
  EXPECT_EQ(out, "untouched");
}

Status passes_through(const Result<int>& r) {
  OM_RETURN_IF_ERROR(r.status());
  return Status::ok();
}

TEST(ResultTest, ErrorsPassThroughTheMacrosUnchanged) {
  EXPECT_EQ(passes_through(resource_limit("above the limit")).code(), ErrorCode::kResourceLimit);
  EXPECT_TRUE(passes_through(3).is_ok());
  std::string out;
  auto fails = []() -> Result<std::string> { return unsupported("dtype string"); };
  auto wrapper = [&]() -> Status {
    OM_ASSIGN_OR_RETURN(out, fails());
    return Status::ok();
  };
  Status s = wrapper();
  EXPECT_EQ(s.code(), ErrorCode::kUnsupported);
  EXPECT_EQ(s.message(), "dtype string");
}

}  // namespace
}  // namespace onnx_mini
