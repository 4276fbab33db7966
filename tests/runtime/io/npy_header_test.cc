// .npy headers parsed as the Python dict literal they are, as numpy does.
#include "runtime/io/npy_header.h"

#include <gtest/gtest.h>

#include <string>

#include "runtime/io/tensor_file.h"

namespace onnx_mini {
namespace {

// A version-1 .npy file: magic, header padded to 64 bytes, then `data`.
std::string npy_file(std::string header, const std::string& data) {
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  return out + header + data;
}

TEST(NpyHeaderTest, ReadsWhatNumpyWrites) {
  // np.save's headers for float32 [2, 3], int64 [4] and a bool scalar.
  auto a = parse_npy_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }          \n", "a.npy");
  ASSERT_TRUE(a.is_ok()) << a.status().message();
  EXPECT_EQ(a->descr, "<f4");
  EXPECT_FALSE(a->fortran_order);
  EXPECT_EQ(a->shape, (Shape{2, 3}));
  auto b = parse_npy_header("{'descr': '<i8', 'fortran_order': False, 'shape': (4,), }", "b.npy");
  ASSERT_TRUE(b.is_ok()) << b.status().message();
  EXPECT_EQ(b->shape, (Shape{4}));
  auto c = parse_npy_header("{'descr': '|b1', 'fortran_order': True, 'shape': (), }", "c.npy");
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  EXPECT_TRUE(c->fortran_order);
  EXPECT_EQ(c->shape, Shape{});
  // Other literal spellings Python reads the same: double quotes, key order, no trailing comma.
  auto d = parse_npy_header("{\"shape\":(5 ,),\"fortran_order\":False,\"descr\":\"<f8\"}", "d.npy");
  ASSERT_TRUE(d.is_ok()) << d.status().message();
  EXPECT_EQ(d->descr, "<f8");
  EXPECT_EQ(d->shape, (Shape{5}));
}

TEST(NpyHeaderTest, ADecoyStringCannotChangeTheOrderOrTheByteOrder) {
  // The old reader searched the text for 'fortran_order' and found it inside the decoy string.
  auto fortran = parse_npy_header("{'descr': '<f4', 'x': \"'fortran_order': False, \", 'fortran_order': True, 'shape': (2, 3), }", "f.npy");
  ASSERT_FALSE(fortran.is_ok());
  EXPECT_EQ(fortran.status().code(), ErrorCode::kBadInput);
  EXPECT_NE(fortran.status().message().find("f.npy: malformed .npy: unexpected key 'x'"), std::string::npos)
      << fortran.status().message();
  auto descr = parse_npy_header("{'x': \"'descr': '<f4', \", 'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", "d.npy");
  ASSERT_FALSE(descr.is_ok());
  EXPECT_NE(descr.status().message().find("unexpected key 'x'"), std::string::npos) << descr.status().message();
  // Without an extra key, a decoy cannot hide inside a value: 'descr' is what it is.
  auto in_value = parse_npy_header("{'descr': \"'descr': '<f4'\", 'fortran_order': False, 'shape': (2,), }", "v.npy");
  ASSERT_TRUE(in_value.is_ok());
  EXPECT_EQ(in_value->descr, "'descr': '<f4'") << "then refused as an unknown dtype by the reader";
}

TEST(NpyHeaderTest, RefusesEverythingElse) {
  const std::pair<const char*, const char*> cases[] = {
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), ", "unterminated"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)", "unterminated"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'extra': 1}", "a value must be"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'extra': 'x'}", "unexpected key 'extra'"},
      {"{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': (2,)}", "key 'descr' given twice"},
      {"{'descr': '<f4', 'shape': (2,)}", "needs the keys"},
      {"{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}", "a value must be"},
      {"{'descr': '<f4', 'fortran_order': 'False', 'shape': (2,)}", "'fortran_order' must be True or False"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2)}", "is an integer, not a tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3)}", "bad dimension '-3'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2.5,)}", "expected ','"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", "does not fit in 64 bits"},
      {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}", "a value must be"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} trailing", "text after the header dict"},
      {"{'descr': '<f4\\x', 'fortran_order': False, 'shape': (2,)}", "unsupported escape"},
      {"{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}", "expected ','"},
      {"", "unterminated"},
  };
  for (const auto& [header, why] : cases) {
    auto r = parse_npy_header(header, "x.npy");
    ASSERT_FALSE(r.is_ok()) << header;
    EXPECT_EQ(r.status().code(), ErrorCode::kBadInput) << header;
    EXPECT_EQ(r.status().message().rfind("x.npy: malformed .npy: ", 0), 0u) << r.status().message();
    EXPECT_NE(r.status().message().find(why), std::string::npos) << header << " -> " << r.status().message();
  }
}

TEST(NpyHeaderTest, TheFileReaderUsesTheParser) {
  const std::string floats(24, '\0');
  auto decoy = parse_npy(npy_file("{'descr': '<f4', 'x': \"'fortran_order': False, \", 'fortran_order': True, 'shape': (2, 3), }", floats), "m.npy");
  ASSERT_FALSE(decoy.is_ok());
  EXPECT_NE(decoy.status().message().find("unexpected key 'x'"), std::string::npos) << decoy.status().message();
  auto big_endian = parse_npy(npy_file("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", floats), "b.npy");
  ASSERT_FALSE(big_endian.is_ok());
  EXPECT_NE(big_endian.status().message().find("unsupported dtype '>f4'"), std::string::npos) << big_endian.status().message();
  auto good = parse_npy(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", floats), "g.npy");
  ASSERT_TRUE(good.is_ok()) << good.status().message();
  EXPECT_EQ(good->shape(), (Shape{2, 3}));
}

}  // namespace
}  // namespace onnx_mini
