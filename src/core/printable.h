// Text from a model file (names, op types, domains, metadata) shown to a person.
// A model is untrusted: left raw, an ESC sequence in a node name recolours the
// terminal or sets its title, and a newline lets the model forge whole lines of
// a tool's output ("FAKE: ok"). Every name a message or report prints goes
// through quote() or printable(); the tools pass whole lines through
// terminal_safe() as a last guard.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace onnx_mini {

// `text` with every control character escaped: C0 and DEL as \n, \r, \t or
// \xHH; C1 controls (U+0080..U+009F) and the bidirectional overrides that
// reorder what a terminal shows (U+202A..U+202E, U+2066..U+2069) as \uHHHH;
// bytes that are not valid UTF-8 as \xHH. Printable text, UTF-8 included,
// passes unchanged (a backslash too, so ordinary names read as they are).
std::string printable(std::string_view text);

// 'text', escaped as printable(): how messages name a value, node or op.
std::string quote(std::string_view text);

// A tool's own output: newlines and tabs kept (its lines), every other control
// character escaped as printable() does.
std::string terminal_safe(std::string_view text);

// The character at text[i] for other escapers (JSON): its length in bytes (0
// when text[i] does not start well-formed UTF-8), its code point, and whether a
// terminal would act on it instead of showing it (C0, DEL, C1, bidi controls).
struct Utf8Char {
  size_t length = 0;
  uint32_t code_point = 0;
  bool invisible_control = false;
};
Utf8Char utf8_char_at(std::string_view text, size_t i);

}  // namespace onnx_mini
