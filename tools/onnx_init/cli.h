// The onnx-init command line, as a function so tests can call it without a process.
// Exit codes follow onnx-run's (core/status.h ErrorCode): 0 ok, 2 usage
// error (every bad option, scheme, parameter or unwritable output), 3 invalid input
// model, 4 unsupported input model feature, 6 resource limit (an input model over
// 2 GiB, a full disk).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace onnx_mini::init {

// `args` excludes the program name. Results go to `out`, errors to `err`.
int run_onnx_init(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace onnx_mini::init
