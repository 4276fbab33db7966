// A minimal JSON writer for --json reports (no parsing needed). Every report is
// written in one layout, `{"key": value, "list": [1, 2]}`: ": " after a key and
// ", " between items, on one line.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

#include "core/printable.h"

namespace onnx_mini::onnx_run {

// Names come from models: control characters (C0, DEL, C1, bidi overrides)
// become \uXXXX escapes, which decode to the same string; bytes that are not
// UTF-8, which JSON cannot hold, are written as the text \xHH, as the text
// reports write them (core/printable.h).
inline std::string json_string(const std::string& s) {
  std::string out = "\"";
  char buf[16];
  for (size_t i = 0; i < s.size();) {
    const Utf8Char ch = utf8_char_at(s, i);
    if (ch.length == 0) {
      std::snprintf(buf, sizeof buf, "\\\\x%02x", static_cast<unsigned char>(s[i]));
      out += buf;
      ++i;
      continue;
    }
    const char c = s[i];
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (ch.invisible_control) {
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(ch.code_point));
      out += buf;
    } else {
      out.append(s, i, ch.length);
    }
    i += ch.length;
  }
  return out + "\"";
}

// JSON has no NaN/Inf: they are written as strings.
inline std::string json_number(double v) {
  if (std::isnan(v)) return "\"NaN\"";
  if (std::isinf(v)) return v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// An array built item by item. add_json takes a value already written as JSON
// (a nested object or array, e.g. another builder's str()).
class JsonArray {
 public:
  JsonArray& add_json(const std::string& json) {
    if (!empty_) body_ += ", ";
    body_ += json;
    empty_ = false;
    return *this;
  }
  JsonArray& add_string(const std::string& s) { return add_json(json_string(s)); }
  JsonArray& add_number(double v) { return add_json(json_number(v)); }
  JsonArray& add_int(int64_t v) { return add_json(std::to_string(v)); }
  std::string str() const { return "[" + body_ + "]"; }

 private:
  std::string body_;
  bool empty_ = true;
};

// An object built field by field, in the order the fields are added.
class JsonObject {
 public:
  JsonObject& add_json(const std::string& key, const std::string& json) {
    if (!empty_) body_ += ", ";
    body_ += json_string(key) + ": " + json;
    empty_ = false;
    return *this;
  }
  JsonObject& add_string(const std::string& key, const std::string& s) { return add_json(key, json_string(s)); }
  JsonObject& add_number(const std::string& key, double v) { return add_json(key, json_number(v)); }
  JsonObject& add_int(const std::string& key, int64_t v) { return add_json(key, std::to_string(v)); }
  JsonObject& add_bool(const std::string& key, bool v) { return add_json(key, v ? "true" : "false"); }
  std::string str() const { return "{" + body_ + "}"; }

 private:
  std::string body_;
  bool empty_ = true;
};

}  // namespace onnx_mini::onnx_run
