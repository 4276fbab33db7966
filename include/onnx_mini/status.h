// Errors of the public API: a code (the same numbers as onnx-run's exit codes)
// and a message that says what went wrong and where.
#pragma once

#include <string>

namespace onnx_mini::api {

enum class ErrorCode : int {
  kOk = 0,
  kUsage = 2,          // API misuse (an unknown output name, a wrong buffer size)
  kInvalidModel = 3,   // the model is malformed or inconsistent
  kUnsupported = 4,    // a valid model uses an op, opset or dtype onnx-mini does not run
  kBadInput = 5,       // fed data does not fit the model
  kResourceLimit = 6,  // a named limit (memory, nodes) would be exceeded
  kInternal = 70,      // a bug in onnx-mini
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

}  // namespace onnx_mini::api
