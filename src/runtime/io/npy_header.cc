#include "runtime/io/npy_header.h"

#include <optional>
#include <variant>

#include "core/printable.h"

namespace onnx_mini {
namespace {

// One value of the dict: a string, a bool or a tuple of ints.
using NpyValue = std::variant<std::string, bool, Shape>;

// A recursive-descent reader over the header text; no recursion deeper than
// dict -> tuple, whatever the input.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& what) : text_(text), what_(what) {}

  Result<NpyHeaderFields> parse() {
    skip_space();
    OM_RETURN_IF_ERROR(expect('{'));
    std::optional<std::string> descr;
    std::optional<bool> fortran;
    std::optional<Shape> shape;
    skip_space();
    while (!at('}')) {
      if (pos_ >= text_.size()) return error("the header ends before the dict's closing '}' (unterminated)");
      OM_ASSIGN_OR_RETURN(std::string key, parse_string());
      skip_space();
      OM_RETURN_IF_ERROR(expect(':'));
      skip_space();
      OM_ASSIGN_OR_RETURN(NpyValue value, parse_value());
      OM_RETURN_IF_ERROR(store(key, std::move(value), descr, fortran, shape));
      skip_space();
      if (!at('}')) {
        OM_RETURN_IF_ERROR(expect(','));
        skip_space();
      }
    }
    ++pos_;  // '}'
    skip_space();
    if (pos_ != text_.size()) return error("text after the header dict");
    if (!descr || !fortran || !shape) return error("the header dict needs the keys 'descr', 'fortran_order' and 'shape'");
    return NpyHeaderFields{std::move(*descr), *fortran, std::move(*shape)};
  }

 private:
  Status error(const std::string& why) const {
    return bad_input(what_ + ": malformed .npy: " + why + " (header at character " + std::to_string(pos_) + ")");
  }
  bool at(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
  Status expect(char c) {
    if (!at(c)) {
      if (pos_ >= text_.size()) return error(std::string("the header ends where '") + c + "' is expected (unterminated)");
      return error(std::string("expected '") + c + "'");
    }
    ++pos_;
    return Status::ok();
  }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r')) ++pos_;
  }

  Status store(const std::string& key, NpyValue value, std::optional<std::string>& descr, std::optional<bool>& fortran,
               std::optional<Shape>& shape) const;

  Result<NpyValue> parse_value() {
    if (at('\'') || at('"')) {
      OM_ASSIGN_OR_RETURN(std::string s, parse_string());
      return NpyValue(std::move(s));
    }
    if (at('(')) {
      OM_ASSIGN_OR_RETURN(Shape t, parse_tuple());
      return NpyValue(std::move(t));
    }
    for (const auto& [word, value] : {std::pair{"True", true}, std::pair{"False", false}}) {
      const std::string_view w(word);
      if (text_.substr(pos_, w.size()) == w) {
        pos_ += w.size();
        return NpyValue(value);
      }
    }
    return error("a value must be a string, True, False or a tuple of integers");
  }

  Result<std::string> parse_string() {
    if (!at('\'') && !at('"')) return error("expected a quoted string");
    const char quote = text_[pos_++];
    std::string out;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      char c = text_[pos_++];
      if (c == '\n') return error("a string runs past the end of its line");
      if (c == '\\') {
        if (pos_ >= text_.size()) break;
        c = text_[pos_++];
        if (c != '\\' && c != '\'' && c != '"') return error(std::string("unsupported escape '\\") + c + "' in a string");
      }
      out += c;
    }
    if (pos_ >= text_.size()) return error("unterminated string");
    ++pos_;  // closing quote
    return out;
  }

  // "(2, 3)", "(4,)", "()"; "(4)" is the int 4 in Python, not a tuple.
  Result<Shape> parse_tuple() {
    ++pos_;  // '('
    Shape dims;
    bool trailing_comma = false;
    skip_space();
    while (!at(')')) {
      OM_ASSIGN_OR_RETURN(int64_t d, parse_int());
      dims.push_back(d);
      skip_space();
      trailing_comma = false;
      if (at(')')) break;
      OM_RETURN_IF_ERROR(expect(','));
      trailing_comma = true;
      skip_space();
    }
    OM_RETURN_IF_ERROR(expect(')'));
    if (dims.size() == 1 && !trailing_comma) return error("'(" + std::to_string(dims[0]) + ")' is an integer, not a tuple: a one-element shape is written '(" + std::to_string(dims[0]) + ",)'");
    return dims;
  }

  Result<int64_t> parse_int() {
    const size_t start = pos_;
    int64_t v = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      auto m = checked_mul(v, 10);
      auto a = m ? checked_add(*m, text_[pos_] - '0') : std::nullopt;
      if (!a) return error("a dimension does not fit in 64 bits");
      v = *a;
      ++pos_;
    }
    if (pos_ == start) {
      size_t end = pos_;
      while (end < text_.size() && text_[end] != ',' && text_[end] != ')' && text_[end] != ' ') ++end;
      return error("bad dimension " + quote(text_.substr(pos_, end - pos_)) + ": a shape holds non-negative decimal integers");
    }
    return v;
  }

  std::string_view text_;
  const std::string& what_;
  size_t pos_ = 0;
};

Status HeaderParser::store(const std::string& key, NpyValue value, std::optional<std::string>& descr,
                           std::optional<bool>& fortran, std::optional<Shape>& shape) const {
  const auto fail = [&](const std::string& why) { return error(why); };
  if (key == "descr") {
    if (descr) return fail("key 'descr' given twice");
    if (!std::holds_alternative<std::string>(value)) return fail("'descr' must be a string (structured dtypes are not supported)");
    descr = std::get<std::string>(std::move(value));
  } else if (key == "fortran_order") {
    if (fortran) return fail("key 'fortran_order' given twice");
    if (!std::holds_alternative<bool>(value)) return fail("'fortran_order' must be True or False");
    fortran = std::get<bool>(value);
  } else if (key == "shape") {
    if (shape) return fail("key 'shape' given twice");
    if (!std::holds_alternative<Shape>(value)) return fail("'shape' must be a tuple of integers");
    shape = std::get<Shape>(std::move(value));
  } else {
    return fail("unexpected key " + quote(key) + " (a header has exactly 'descr', 'fortran_order' and 'shape')");
  }
  return Status::ok();
}

}  // namespace

Result<NpyHeaderFields> parse_npy_header(std::string_view text, const std::string& what) {
  return HeaderParser(text, what).parse();
}

}  // namespace onnx_mini
