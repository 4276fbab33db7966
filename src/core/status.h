// Errors as values. Every layer adds the context it knows (file, node, input)
// so the message a user reads says what went wrong and where.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace onnx_mini {

// The numeric values are the exit codes of onnx-run (see README "Exit codes").
enum class ErrorCode : int {
  kOk = 0,
  kCheckMismatch = 1,  // outputs differ from the reference (onnx-run --check)
  kUsage = 2,          // bad command line or API misuse
  kInvalidModel = 3,   // the model file is malformed or inconsistent
  kUnsupported = 4,    // a valid model uses an op/opset/dtype we do not run
  kBadInput = 5,       // user-supplied input data is wrong
  kResourceLimit = 6,  // a named limit (memory, nodes, ...) would be exceeded
  kInternal = 70,      // a bug in onnx-mini
};

const char* error_code_name(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }
  bool is_ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Prefixes the message with context, e.g. "node 'fc1' (Gemm): ".
  Status with_context(const std::string& context) const {
    if (is_ok()) return *this;
    return {code_, context + message_};
  }

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

inline Status invalid_model(std::string msg) { return {ErrorCode::kInvalidModel, std::move(msg)}; }
inline Status unsupported(std::string msg) { return {ErrorCode::kUnsupported, std::move(msg)}; }
inline Status bad_input(std::string msg) { return {ErrorCode::kBadInput, std::move(msg)}; }
inline Status usage_error(std::string msg) { return {ErrorCode::kUsage, std::move(msg)}; }
inline Status resource_limit(std::string msg) { return {ErrorCode::kResourceLimit, std::move(msg)}; }
inline Status internal_error(std::string msg) { return {ErrorCode::kInternal, std::move(msg)}; }

// Why a Result built from an OK Status holds no value (see Result(Status)).
inline constexpr const char* kOkStatusWithoutValue = "a Result was constructed from an OK Status, without a value";

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  // An OK Status carries no value, so a Result built from one is a bug in the
  // caller. Left alone it would read failed (is_ok()) while its status reads OK,
  // and OM_ASSIGN_OR_RETURN would return that OK status: success without the
  // value. It becomes an internal error instead, so both agree and the bug
  // surfaces (absl::StatusOr does the same).
  Result(Status status)  // NOLINT: implicit by design
      : status_(status.is_ok() ? internal_error(kOkStatusWithoutValue) : std::move(status)) {}
  bool is_ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace onnx_mini

// Early return on error, kept as macros for readability of long validation
// sequences. The only macros of the error-handling API; the few others in the
// project are local feature switches inside single .cc files.
#define OM_RETURN_IF_ERROR(expr)                  \
  do {                                            \
    ::onnx_mini::Status om_status_ = (expr);      \
    if (!om_status_.is_ok()) return om_status_;   \
  } while (0)

#define OM_CONCAT_INNER(a, b) a##b
#define OM_CONCAT(a, b) OM_CONCAT_INNER(a, b)
#define OM_ASSIGN_OR_RETURN(lhs, expr) OM_ASSIGN_OR_RETURN_IMPL(OM_CONCAT(om_result_, __LINE__), lhs, expr)
#define OM_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.is_ok()) return tmp.status();         \
  lhs = std::move(tmp).value()
