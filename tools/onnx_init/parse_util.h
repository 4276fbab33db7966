// Strict parsing of command-line fragments: the whole text must be consumed, so
// "1e" or "3x" is an error rather than a silently truncated number.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace onnx_mini::init {

// A finite double; `what` names the value in the error ("normal std").
Result<double> parse_finite_double(std::string_view text, std::string_view what);
Result<int64_t> parse_int64(std::string_view text, std::string_view what);
Result<uint64_t> parse_uint64(std::string_view text, std::string_view what);
// Splits on `sep`, keeping empty fields (so "1,,2" reports an empty field).
std::vector<std::string> split(std::string_view text, char sep);
// Shortest text that parses back to the same double ("0.01", "2.2360679774997898").
std::string format_double(double v);

}  // namespace onnx_mini::init
