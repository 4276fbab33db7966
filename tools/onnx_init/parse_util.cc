#include "onnx_init/parse_util.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace onnx_mini::init {

namespace {
std::string quote(std::string_view text) { return "'" + std::string(text) + "'"; }
}  // namespace

Result<double> parse_finite_double(std::string_view text, std::string_view what) {
  // strtod rather than from_chars: it accepts the spellings people type ("+1", ".5").
  const std::string owned(text);
  char* end = nullptr;
  const double v = owned.empty() ? 0.0 : std::strtod(owned.c_str(), &end);
  if (owned.empty() || end != owned.c_str() + owned.size()) {
    return usage_error(std::string(what) + ": expected a number, got " + quote(text));
  }
  if (!std::isfinite(v)) {
    return usage_error(std::string(what) + ": must be finite, got " + quote(text));
  }
  return v;
}

template <typename Int>
static Result<Int> parse_integer(std::string_view text, std::string_view what) {
  Int v{};
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    return usage_error(std::string(what) + ": expected an integer, got " + quote(text));
  }
  return v;
}

Result<int64_t> parse_int64(std::string_view text, std::string_view what) {
  return parse_integer<int64_t>(text, what);
}

Result<uint64_t> parse_uint64(std::string_view text, std::string_view what) {
  return parse_integer<uint64_t>(text, what);
}

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t pos = text.find(sep, start);
    if (pos == std::string_view::npos) {
      parts.emplace_back(text.substr(start));
      return parts;
    }
    parts.emplace_back(text.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string format_double(double v) {
  char buf[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

}  // namespace onnx_mini::init
