// `onnx-init reinit --match PATTERN`: which initializer names a pattern selects.
//
// Names come from untrusted models (up to 64 KiB each, the loader's limit) and
// std::regex's backtracking recursion overflowed the stack on a 50,000-character
// name. This matcher compiles the pattern to a Thompson NFA and runs it over the
// name once, carrying the set of live states: time O(name length x pattern
// size), memory O(pattern size), stack depth independent of the name.
//
// Syntax: the regular-expression core of ECMAScript (std::regex's default),
// searched anywhere in the name like std::regex_search, on bytes:
//   literal characters; `.` (any byte but \n and \r); `[abc]`, `[a-z]`, `[^...]`;
//   escapes \. \\ \( \) \[ \] \{ \} \| \* \+ \? \^ \$ \/ \- and \d \D \w \W \s \S
//   (also inside brackets), \t \n \r;
//   `^` and `$` (start and end of the name); `( )` and `(?: )` groups; `|`;
//   `*`, `+`, `?`, `{m}`, `{m,}`, `{m,n}` (m, n <= 1000), each optionally lazy (`*?`:
//   the same selection, since only whether a name matches counts).
// Refused with a usage error: back-references (\1), lookaround ((?= (?! (?<),
// word boundaries (\b \B), other escapes, and patterns over 4096 bytes or whose
// NFA would exceed 100,000 states (a large {m,n} copies its operand m..n times).
#pragma once

#include <bitset>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace onnx_mini::init {

class NamePattern {
 public:
  static Result<NamePattern> compile(std::string_view pattern);
  // Whether some substring of `name` matches (std::regex_search's question).
  bool search(std::string_view name) const;

  // One NFA instruction; public for the compiler in the .cc.
  struct Inst {
    enum class Op { kByte, kSplit, kJump, kLineStart, kLineEnd, kMatch } op;
    int set = -1;        // kByte: index into sets_
    int next = -1;       // kByte, kJump, assertions: the following instruction
    int alt = -1;        // kSplit: the second branch
  };

 private:
  NamePattern() = default;
  std::vector<Inst> program_;
  std::vector<std::bitset<256>> sets_;
  int start_ = 0;
  friend class PatternCompiler;
};

}  // namespace onnx_mini::init
