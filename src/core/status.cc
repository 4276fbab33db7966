#include "core/status.h"

namespace onnx_mini {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kCheckMismatch: return "check mismatch";
    case ErrorCode::kUsage: return "usage error";
    case ErrorCode::kInvalidModel: return "invalid model";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kBadInput: return "bad input";
    case ErrorCode::kResourceLimit: return "resource limit";
    case ErrorCode::kInternal: return "internal error";
  }
  return "unknown error";
}

}  // namespace onnx_mini
