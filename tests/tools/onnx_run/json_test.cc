// onnx-run's JSON writer: the one layout every --json report uses, escaping, and
// the numbers JSON cannot hold.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "onnx_run/json.h"

namespace onnx_mini::onnx_run {
namespace {

TEST(JsonTest, ObjectsAndArraysUseOneLayout) {
  EXPECT_EQ(JsonObject().str(), "{}");
  EXPECT_EQ(JsonArray().str(), "[]");
  JsonArray shape;
  shape.add_int(2).add_int(3);
  JsonObject o;
  o.add_string("name", "y").add_json("shape", shape.str()).add_bool("pass", false).add_int("runs", -4);
  o.add_number("ms", 0.25);
  EXPECT_EQ(o.str(), R"({"name": "y", "shape": [2, 3], "pass": false, "runs": -4, "ms": 0.25})");
  JsonArray nested;
  nested.add_json(o.str()).add_string("x").add_number(1e-30);
  EXPECT_EQ(nested.str(), R"([{"name": "y", "shape": [2, 3], "pass": false, "runs": -4, "ms": 0.25}, "x", 1e-30])");
}

TEST(JsonTest, StringsAreEscaped) {
  EXPECT_EQ(json_string("a\"b\\c\n\t\x01"), R"("a\"b\\c\n\t\u0001")");
  JsonObject o;
  o.add_string("node \"1\"", "/mlp/0");
  EXPECT_EQ(o.str(), R"({"node \"1\"": "/mlp/0"})");
}

// Names from a model are arbitrary bytes: the JSON must still be valid (UTF-8)
// and hold nothing a terminal acts on when the report is shown raw.
TEST(JsonTest, NamesFromAModelStayValidInertJson) {
  EXPECT_EQ(json_string("\x1b[31m"), R"("\u001b[31m")");
  EXPECT_EQ(json_string("del\x7f"), R"("del\u007f")");
  EXPECT_EQ(json_string("\xc2\x9b" "2J"), R"("\u009b2J")");          // C1 CSI, as UTF-8
  EXPECT_EQ(json_string("a\xe2\x80\xae" "b"), R"("a\u202eb")");    // right-to-left override
  EXPECT_EQ(json_string("bad\xff\xc0"), R"("bad\\xff\\xc0")");  // not UTF-8: written as text
  EXPECT_EQ(json_string("名前 café"), "\"名前 café\"");             // UTF-8 passes
}

TEST(JsonTest, NumbersKeepNineDigitsAndNonFiniteBecomeStrings) {
  EXPECT_EQ(json_number(0.1f), "0.100000001");  // float32 round-trips with 9 significant digits
  EXPECT_EQ(json_number(std::nan("")), "\"NaN\"");
  EXPECT_EQ(json_number(std::numeric_limits<double>::infinity()), "\"Infinity\"");
  EXPECT_EQ(json_number(-std::numeric_limits<double>::infinity()), "\"-Infinity\"");
}

}  // namespace
}  // namespace onnx_mini::onnx_run
