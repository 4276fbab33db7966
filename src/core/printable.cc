#include "core/printable.h"

#include <cstdint>
#include <cstdio>

namespace onnx_mini {
namespace {

// Length of the well-formed UTF-8 sequence starting at text[i] (RFC 3629: no
// overlong forms, no surrogates, nothing past U+10FFFF), or 0 when there is none.
size_t utf8_length(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  const uint8_t b = byte(i);
  size_t n = 0;
  uint8_t lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (b >= 0xC2 && b <= 0xDF) {
    n = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    n = 3;
    if (b == 0xE0) lo = 0xA0;
    if (b == 0xED) hi = 0x9F;
  } else if (b >= 0xF0 && b <= 0xF4) {
    n = 4;
    if (b == 0xF0) lo = 0x90;
    if (b == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

uint32_t decode_utf8(std::string_view text, size_t i, size_t n) {
  const auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<uint8_t>(text[k])); };
  if (n == 2) return ((byte(i) & 0x1F) << 6) | (byte(i + 1) & 0x3F);
  if (n == 3) return ((byte(i) & 0x0F) << 12) | ((byte(i + 1) & 0x3F) << 6) | (byte(i + 2) & 0x3F);
  return ((byte(i) & 0x07) << 18) | ((byte(i + 1) & 0x3F) << 12) | ((byte(i + 2) & 0x3F) << 6) | (byte(i + 3) & 0x3F);
}

// Code points a terminal acts on instead of showing: C1 controls (0x9B is CSI)
// and the bidirectional embeddings, overrides and isolates.
bool is_invisible_control(uint32_t c) {
  return (c >= 0x80 && c <= 0x9F) || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

void append_escaped_byte(std::string& out, uint8_t b) {
  switch (b) {
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    default: {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", b);
      out += buf;
    }
  }
}

std::string escape(std::string_view text, bool keep_lines) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const auto b = static_cast<uint8_t>(text[i]);
    if (b < 0x80) {
      const bool control = b < 0x20 || b == 0x7F;
      const bool line_break = keep_lines && (b == '\n' || b == '\t');
      if (control && !line_break) {
        append_escaped_byte(out, b);
      } else {
        out += static_cast<char>(b);
      }
      ++i;
      continue;
    }
    const size_t n = utf8_length(text, i);
    if (n == 0) {
      append_escaped_byte(out, b);
      ++i;
      continue;
    }
    const uint32_t c = decode_utf8(text, i, n);
    if (is_invisible_control(c)) {
      char buf[12];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
  return out;
}

}  // namespace

Utf8Char utf8_char_at(std::string_view text, size_t i) {
  const auto b = static_cast<uint8_t>(text[i]);
  if (b < 0x80) return {1, b, b < 0x20 || b == 0x7F};
  const size_t n = utf8_length(text, i);
  if (n == 0) return {};
  const uint32_t c = decode_utf8(text, i, n);
  return {n, c, is_invisible_control(c)};
}

std::string printable(std::string_view text) { return escape(text, /*keep_lines=*/false); }

std::string quote(std::string_view text) {
  std::string out(1, '\'');
  out += printable(text);
  out += '\'';
  return out;
}

std::string terminal_safe(std::string_view text) { return escape(text, /*keep_lines=*/true); }

}  // namespace onnx_mini
