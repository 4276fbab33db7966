// DepthToSpace, SpaceToDepth and Tile against naive references written the
// way the specification states them (a reshape, a transpose, a reshape; an
// output coordinate taken modulo the input's), every dtype size, the
// load-time shapes (symbolic batch kept) and errors.
#include <gtest/gtest.h>

#include "tests/testutil/node_model.h"

namespace onnx_mini::testing {
namespace {

// numpy's x.reshape(shape).transpose(perm) of a float tensor, as values.
std::vector<float> reshape_transpose(const Tensor& x, const Shape& shape, const std::vector<size_t>& perm) {
  Shape out_shape;
  for (size_t p : perm) out_shape.push_back(shape[p]);
  std::vector<float> y(static_cast<size_t>(x.num_elements()));
  for (int64_t i = 0; i < x.num_elements(); ++i) {
    const auto o = unravel(i, out_shape);
    std::vector<int64_t> c(shape.size());
    for (size_t a = 0; a < perm.size(); ++a) c[perm[a]] = o[a];
    y[static_cast<size_t>(i)] = x.data<float>()[ravel(c, shape)];
  }
  return y;
}

std::vector<float> reference_depth_to_space(const Tensor& x, int64_t b, const std::string& mode) {
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  if (mode == "DCR") return reshape_transpose(x, {n, b, b, c / (b * b), h, w}, {0, 3, 4, 1, 5, 2});
  return reshape_transpose(x, {n, c / (b * b), b, b, h, w}, {0, 1, 4, 2, 5, 3});
}

std::vector<float> reference_space_to_depth(const Tensor& x, int64_t b) {
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  return reshape_transpose(x, {n, c, h / b, b, w / b, b}, {0, 3, 5, 1, 2, 4});
}

TEST(DepthToSpace, BothModesEveryVersion) {
  const Tensor x = random_tensor({2, 12, 3, 2}, 1);
  for (int opset : {1, 11, 13}) {
    for (const std::string mode : {"DCR", "CRD"}) {
      if (opset < 11 && mode == "CRD") continue;
      SCOPED_TRACE(mode + " opset " + std::to_string(opset));
      NodeModel m("DepthToSpace", opset);
      m.feed(x).attr_int("blocksize", 2);
      if (opset >= 11) m.attr_string("mode", mode);
      auto out = m.run();
      ASSERT_TRUE(out.is_ok()) << out.status().message();
      EXPECT_EQ(out.value()[0].shape(), (Shape{2, 3, 6, 4}));
      EXPECT_EQ(values_of<float>(out.value()[0]), reference_depth_to_space(x, 2, mode));
    }
  }
  // The default mode is DCR; blocksize 3 needs C divisible by 9.
  const Tensor x9 = random_tensor({1, 18, 2, 3}, 2);
  auto out = NodeModel("DepthToSpace", 13).feed(x9).attr_int("blocksize", 3).run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(values_of<float>(out.value()[0]), reference_depth_to_space(x9, 3, "DCR"));
}

TEST(DepthToSpace, OneOutputChannelWorkedByHand) {
  // x = arange(8) as [1, 4, 1, 2], b = 2: one output channel, so both modes read channel i*2 + j.
  const Tensor x = make_tensor({1, 4, 1, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
  auto crd = NodeModel("DepthToSpace", 13).feed(x).attr_int("blocksize", 2).attr_string("mode", "CRD").run();
  auto dcr = NodeModel("DepthToSpace", 13).feed(x).attr_int("blocksize", 2).run();
  ASSERT_TRUE(crd.is_ok() && dcr.is_ok());
  EXPECT_EQ(values_of<float>(crd.value()[0]), (std::vector<float>{0, 2, 1, 3, 4, 6, 5, 7}));
  EXPECT_EQ(values_of<float>(dcr.value()[0]), (std::vector<float>{0, 2, 1, 3, 4, 6, 5, 7}));
}

TEST(SpaceToDepth, AgainstReferenceAndRoundTrip) {
  const Tensor x = random_tensor({2, 3, 4, 6}, 3);
  for (int opset : {1, 13}) {
    auto out = NodeModel("SpaceToDepth", opset).feed(x).attr_int("blocksize", 2).run();
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    EXPECT_EQ(out.value()[0].shape(), (Shape{2, 12, 2, 3}));
    EXPECT_EQ(values_of<float>(out.value()[0]), reference_space_to_depth(x, 2));
    auto back = NodeModel("DepthToSpace", 13).feed(out.value()[0]).attr_int("blocksize", 2).run();
    ASSERT_TRUE(back.is_ok());
    EXPECT_EQ(values_of<float>(back.value()[0]), values_of<float>(x));  // DCR inverts SpaceToDepth
  }
}

TEST(DepthToSpace, OtherElementSizesMoveTheSameWay) {
  const Tensor x = random_tensor({1, 8, 2, 3}, 4);
  const auto want = reference_depth_to_space(x, 2, "CRD");
  std::vector<int64_t> as_int;
  for (int64_t i = 0; i < x.num_elements(); ++i) as_int.push_back(static_cast<int64_t>(x.data<float>()[i] * 1000));
  auto i64 = NodeModel("DepthToSpace", 13).feed(make_tensor<int64_t>(x.shape(), as_int)).attr_int("blocksize", 2)
                 .attr_string("mode", "CRD").run();
  std::vector<uint8_t> as_byte(as_int.begin(), as_int.end());
  auto u8 = NodeModel("DepthToSpace", 13).feed(make_tensor<uint8_t>(x.shape(), as_byte)).attr_int("blocksize", 2)
                .attr_string("mode", "CRD").run();
  ASSERT_TRUE(i64.is_ok() && u8.is_ok()) << i64.status().message() << u8.status().message();
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(values_of<int64_t>(i64.value()[0])[i], static_cast<int64_t>(want[i] * 1000));
    EXPECT_EQ(values_of<uint8_t>(u8.value()[0])[i], static_cast<uint8_t>(static_cast<int64_t>(want[i] * 1000)));
  }
}

TEST(DepthToSpace, LoadTimeShapesAndErrors) {
  auto sym = NodeModel("DepthToSpace", 13).input(In::feed_symbolic(random_tensor({2, 8, 2, 3}, 5)))
                 .attr_int("blocksize", 2).run();
  ASSERT_TRUE(sym.is_ok()) << sym.status().message();
  EXPECT_EQ(sym.value()[0].shape(), (Shape{2, 2, 4, 6}));
  auto bad = NodeModel("DepthToSpace", 13).feed(random_tensor({1, 6, 2, 2}, 6)).attr_int("blocksize", 2).run();
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidModel);
  EXPECT_NE(bad.status().message().find("'n'"), std::string::npos) << bad.status().message();
  EXPECT_NE(bad.status().message().find("channel count 6"), std::string::npos) << bad.status().message();
  auto s2d = NodeModel("SpaceToDepth", 13).feed(random_tensor({1, 1, 4, 5}, 7)).attr_int("blocksize", 2).run();
  ASSERT_FALSE(s2d.is_ok());
  EXPECT_NE(s2d.status().message().find("width 5"), std::string::npos) << s2d.status().message();
  EXPECT_EQ(NodeModel("SpaceToDepth", 13).feed(random_tensor({1, 1, 4, 4}, 7)).run().status().code(),
            ErrorCode::kInvalidModel);  // no blocksize
  EXPECT_EQ(NodeModel("SpaceToDepth", 13).feed(random_tensor({1, 1, 4, 4}, 7)).attr_int("blocksize", 0).run()
                .status().code(), ErrorCode::kInvalidModel);
  EXPECT_EQ(NodeModel("DepthToSpace", 13).feed(random_tensor({4, 4, 4}, 7)).attr_int("blocksize", 2).run()
                .status().code(), ErrorCode::kInvalidModel);  // rank 3
  EXPECT_EQ(NodeModel("DepthToSpace", 13).feed(random_tensor({1, 4, 4, 4}, 7)).attr_int("blocksize", 2)
                .attr_string("mode", "RCD").run().status().code(), ErrorCode::kInvalidModel);
  // A fed input whose channels do not divide: bad input at run time.
  auto fed = NodeModel("DepthToSpace", 13).input(In::feed_symbolic(random_tensor({1, 6, 2, 2}, 6)))
                 .attr_int("blocksize", 2).run();
  EXPECT_EQ(fed.status().code(), ErrorCode::kBadInput);
}

std::vector<float> reference_tile(const Tensor& x, const std::vector<int64_t>& repeats, Shape& out_shape) {
  out_shape.clear();
  for (size_t a = 0; a < repeats.size(); ++a) out_shape.push_back(x.shape()[a] * repeats[a]);
  int64_t total = 1;
  for (int64_t d : out_shape) total *= d;
  std::vector<float> y;
  for (int64_t i = 0; i < total; ++i) {
    auto c = unravel(i, out_shape);
    for (size_t a = 0; a < c.size(); ++a) c[a] %= x.shape()[a];
    y.push_back(x.data<float>()[ravel(c, x.shape())]);
  }
  return y;
}

TEST(Tile, AgainstReferenceEveryRankUpToFour) {
  const std::vector<std::pair<Shape, std::vector<int64_t>>> cases = {
      {{3}, {4}}, {{2, 3}, {1, 1}}, {{2, 3}, {3, 2}}, {{1, 2, 3}, {2, 1, 3}}, {{2, 1, 2, 2}, {1, 3, 2, 1}},
      {{2, 3}, {0, 2}}};
  for (int opset : {6, 13}) {
    for (const auto& [shape, repeats] : cases) {
      SCOPED_TRACE(shape_to_string(shape));
      const Tensor x = random_tensor(shape, 8);
      Shape want_shape;
      const auto want = reference_tile(x, repeats, want_shape);
      for (bool constant : {true, false}) {
        NodeModel m("Tile", opset);
        m.feed(x);
        if (constant) m.init(ints(repeats)); else m.feed(ints(repeats));
        auto out = m.run();
        ASSERT_TRUE(out.is_ok()) << out.status().message();
        EXPECT_EQ(out.value()[0].shape(), want_shape);
        EXPECT_EQ(values_of<float>(out.value()[0]), want);
      }
    }
  }
}

TEST(Tile, EveryElementSize) {
  auto b = NodeModel("Tile", 13).feed(make_tensor<bool>({2}, {true, false})).init(ints({3})).run();
  ASSERT_TRUE(b.is_ok()) << b.status().message();
  EXPECT_EQ(values_of<bool>(b.value()[0]), (std::vector<bool>{true, false, true, false, true, false}));
  auto i16 = NodeModel("Tile", 13).feed(make_tensor<int16_t>({1, 2}, {-5, 7})).init(ints({2, 2})).run();
  ASSERT_TRUE(i16.is_ok());
  EXPECT_EQ(values_of<int16_t>(i16.value()[0]), (std::vector<int16_t>{-5, 7, -5, 7, -5, 7, -5, 7}));
  auto d = NodeModel("Tile", 13).feed(make_tensor<double>({2, 1}, {1.5, -2.5})).init(ints({1, 2})).run();
  ASSERT_TRUE(d.is_ok());
  EXPECT_EQ(values_of<double>(d.value()[0]), (std::vector<double>{1.5, 1.5, -2.5, -2.5}));
  auto s = NodeModel("Tile", 13).feed(make_tensor<int32_t>({}, {9})).init(make_tensor<int64_t>({0}, {})).run();
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  EXPECT_EQ(values_of<int32_t>(s.value()[0]), (std::vector<int32_t>{9}));
}

TEST(Tile, LoadTimeShapesAndErrors) {
  const Tensor x = random_tensor({2, 3}, 9);
  auto sym = NodeModel("Tile", 13).input(In::feed_symbolic(x)).init(ints({1, 2})).run();
  ASSERT_TRUE(sym.is_ok()) << sym.status().message();
  EXPECT_EQ(sym.value()[0].shape(), (Shape{2, 6}));
  auto length = NodeModel("Tile", 13).feed(x).init(ints({2})).run();
  ASSERT_FALSE(length.is_ok());
  EXPECT_EQ(length.status().code(), ErrorCode::kInvalidModel);
  EXPECT_NE(length.status().message().find("'n'"), std::string::npos) << length.status().message();
  EXPECT_NE(length.status().message().find("1 values for input rank 2"), std::string::npos)
      << length.status().message();
  auto negative = NodeModel("Tile", 13).feed(x).init(ints({1, -1})).run();
  ASSERT_FALSE(negative.is_ok());
  EXPECT_EQ(negative.status().code(), ErrorCode::kInvalidModel);
  EXPECT_NE(negative.status().message().find("-1 for axis 1 is negative"), std::string::npos)
      << negative.status().message();
  EXPECT_EQ(NodeModel("Tile", 13).feed(x).feed(ints({1, -1})).run().status().code(), ErrorCode::kBadInput);
  EXPECT_EQ(NodeModel("Tile", 13).feed(x).init(make_tensor<int32_t>({2}, {1, 1})).run().status().code(),
            ErrorCode::kInvalidModel);
  EXPECT_EQ(NodeModel("Tile", 13).feed(x).feed(ints({1 << 30, 1 << 30})).run().status().code(),
            ErrorCode::kResourceLimit);
  EXPECT_EQ(NodeModel("Tile", 1).feed(x).init(ints({2})).run().status().code(), ErrorCode::kUnsupported);
}

}  // namespace
}  // namespace onnx_mini::testing
