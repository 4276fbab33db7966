// Escaping untrusted text (names from a model) before it reaches a terminal.
#include "core/printable.h"

#include <gtest/gtest.h>

#include <string>

namespace onnx_mini {
namespace {

// No byte a terminal would act on: C0, DEL, a raw C1 byte, or the UTF-8 of a
// C1 control (0xC2 0x80..0x9F).
bool inert(const std::string& s, bool allow_newlines) {
  for (size_t i = 0; i < s.size(); ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (allow_newlines && (b == '\n' || b == '\t')) continue;
    if (b < 0x20 || b == 0x7F) return false;
    if (b == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9F) return false;
  }
  return true;
}

TEST(PrintableTest, OrdinaryNamesAreUnchanged) {
  for (const char* name : {"/mlp/mlp.0/Gemm", "fc1.weight", "x:0", "a\\b", "名前", "café", ""}) {
    EXPECT_EQ(printable(name), name);
  }
  EXPECT_EQ(quote("fc1"), "'fc1'");
}

TEST(PrintableTest, ControlCharactersAreEscaped) {
  EXPECT_EQ(printable("a\nFAKE: ok"), "a\\nFAKE: ok");
  EXPECT_EQ(printable("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
  EXPECT_EQ(printable("\x1b]0;title\x07"), "\\x1b]0;title\\x07");
  EXPECT_EQ(printable(std::string("nul\0byte", 8)), "nul\\x00byte");
  EXPECT_EQ(printable("tab\there\rcr\x7f"), "tab\\there\\rcr\\x7f");
  EXPECT_EQ(quote("x\ny"), "'x\\ny'");
}

TEST(PrintableTest, C1ControlsBidiOverridesAndInvalidUtf8AreEscaped) {
  EXPECT_EQ(printable("\xc2\x9b" "31m"), "\\u009b31m");         // CSI as UTF-8
  EXPECT_EQ(printable("\x9b" "31m"), "\\x9b31m");               // a raw 8-bit CSI byte: not UTF-8
  EXPECT_EQ(printable("abc\xe2\x80\xae" "txt"), "abc\\u202etxt");  // right-to-left override
  EXPECT_EQ(printable("\xc0\x8a"), "\\xc0\\x8a");               // an overlong newline
  EXPECT_EQ(printable("\xed\xa0\x80"), "\\xed\\xa0\\x80");      // a surrogate
  EXPECT_EQ(printable("\xe2\x82"), "\\xe2\\x82");               // a truncated sequence
  EXPECT_EQ(printable("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // past U+10FFFF
}

TEST(PrintableTest, EveryByteValueComesOutInert) {
  for (int b = 0; b < 256; ++b) {
    const std::string alone(1, static_cast<char>(b));
    const std::string after_c2 = std::string("\xc2").append(alone);
    for (const std::string& s : {alone, after_c2}) {
      EXPECT_TRUE(inert(printable(s), false)) << "byte " << b;
      EXPECT_TRUE(inert(terminal_safe(s), true)) << "byte " << b;
    }
  }
}

TEST(PrintableTest, TerminalSafeKeepsTheToolsOwnLines) {
  EXPECT_EQ(terminal_safe("line 1\n\tline 2\n"), "line 1\n\tline 2\n");
  EXPECT_EQ(terminal_safe("title\x1b]0;x\x07\r"), "title\\x1b]0;x\\x07\\r");
}

}  // namespace
}  // namespace onnx_mini
