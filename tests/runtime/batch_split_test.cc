// Runs of N images made image by image (runtime/batch_split.h): which graphs
// qualify, and that a split run answers exactly as the whole batch does, on
// one and several threads, with bad input still an error and a kept output
// never overwritten.
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/session.h"
#include "tests/testutil/model_builder.h"
#include "tests/testutil/tensors.h"

namespace onnx_mini {
namespace {

using testing::ModelBuilder;
using testing::random_tensor;
using testing::set_attr;

std::string model_path(const std::string& name) { return testing::source_dir() + "/models/cnn/" + name + "/model.onnx"; }

// split: ONNX_MINI_SPLIT_BATCH at load ("1": split whatever the image size, as
// the shipped models' images are small; "0": never; "": the default rule).
std::unique_ptr<Session> load(const std::string& path, int threads, const char* split) {
  if (*split) setenv("ONNX_MINI_SPLIT_BATCH", split, 1);
  SessionOptions options;
  options.threads = threads;
  auto session = Session::load(path, options);
  unsetenv("ONNX_MINI_SPLIT_BATCH");
  EXPECT_TRUE(session.is_ok()) << session.status().message();
  return session.is_ok() ? std::move(session).value() : nullptr;
}

// Random inputs of `batch` images shaped as the session declares them.
std::vector<NamedTensor> image_inputs(const Session& s, int64_t batch, uint64_t seed) {
  std::vector<NamedTensor> inputs;
  for (ValueId v : s.input_ids()) {
    Shape shape{batch};
    for (size_t d = 1; d < s.value(v).info.dims.size(); ++d) shape.push_back(s.value(v).info.dims[d].value);
    inputs.push_back({s.value(v).name, random_tensor(shape, seed++, -1.f, 1.f)});
  }
  return inputs;
}

TEST(BatchSplit, TheShippedImageCnnsRunImageByImageTheTextCnnDoesNot) {
  for (const char* name : {"lenet5", "conv_autoencoder", "small_resnet_bn", "depthwise_separable",
                           "depthwise_separable_opset14"}) {
    auto s = load(model_path(name), 1, "1");
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->batch_split().per_image) << name << ": " << s->batch_split().why_not;
    EXPECT_EQ(s->batch_split().batch, "batch") << name;
  }
  // An embedding lookup (Gather) and a Transpose: not ops known to keep images apart.
  auto text = load(model_path("text_cnn1d"), 1, "1");
  ASSERT_TRUE(text);
  EXPECT_FALSE(text->batch_split().per_image);
  EXPECT_NE(text->batch_split().why_not.find("Gather"), std::string::npos) << text->batch_split().why_not;
}

// By default only graphs with a value of 1 MB or more per image split: the
// shipped models' images are small enough to fit the caches as a batch.
TEST(BatchSplit, ByDefaultOnlyLargeImagesSplit) {
  auto small = load(model_path("small_resnet_bn"), 1, "");
  ASSERT_TRUE(small);
  EXPECT_FALSE(small->batch_split().per_image);
  EXPECT_NE(small->batch_split().why_not.find("small"), std::string::npos) << small->batch_split().why_not;
  // A 3x3 conv to 16 channels at 160x160: 1.6 MB per image.
  for (int64_t side : {160, 120}) {
    ModelBuilder b(13);
    b.input("X", DataType::kFloat, {-1, 3, side, side});
    b.initializer("W", {16, 3, 3, 3}, std::vector<float>(16 * 27, 0.01f));
    set_attr(b.node("Conv", {"X", "W"}, {"Y"}), "pads", std::vector<int64_t>{1, 1, 1, 1});
    b.output("Y", DataType::kFloat);
    auto s = testing::make_session(b.model());
    ASSERT_TRUE(s.is_ok()) << s.status().message();
    // 16 x 120 x 120 floats are 0.9 MB: under the bound.
    EXPECT_EQ(s.value()->batch_split().per_image, side == 160) << side << ": " << s.value()->batch_split().why_not;
  }
}

// Each image's run computes the same sums in the same order as the batched
// run does for that image (the kernels split work over pixels and channels,
// never over the reduction), so the outputs are equal bit for bit; the same
// holds on 1, 2 and 3 threads, where each thread runs its own images alone.
TEST(BatchSplit, SplitRunsEqualTheWholeBatchBitForBit) {
  for (const char* name : {"lenet5", "conv_autoencoder", "small_resnet_bn", "depthwise_separable_opset14"}) {
    auto whole = load(model_path(name), 2, "0");
    ASSERT_TRUE(whole);
    for (int threads : {1, 2, 3}) {
      auto split = load(model_path(name), threads, "1");
      ASSERT_TRUE(split);
      for (int64_t batch : {1, 2, 5}) {
        const auto inputs = image_inputs(*split, batch, 40 + static_cast<uint64_t>(batch));
        std::vector<Tensor> expected, got;
        ASSERT_TRUE(whole->run(inputs, expected).is_ok());
        Status st = split->run(inputs, got);
        ASSERT_TRUE(st.is_ok()) << st.message();
        ASSERT_EQ(got.size(), expected.size());
        for (size_t o = 0; o < got.size(); ++o) {
          ASSERT_EQ(got[o].shape(), expected[o].shape()) << name;
          EXPECT_EQ(std::memcmp(got[o].raw_data(), expected[o].raw_data(), got[o].byte_size()), 0)
              << name << ", batch " << batch << ", threads " << threads << ", output " << o;
        }
      }
    }
  }
}

TEST(BatchSplit, BadInputIsTheSameErrorAsForTheWholeBatch) {
  auto split = load(model_path("lenet5"), 2, "1");
  auto whole = load(model_path("lenet5"), 2, "0");
  ASSERT_TRUE(split && whole);
  const std::string name = split->value(split->input_ids()[0]).name;
  std::vector<std::vector<NamedTensor>> bad = {
      {{name, random_tensor({4, 1, 28, 27}, 1)}},                        // a declared dimension differs
      {{name, Tensor::allocate(DataType::kInt64, {4, 1, 28, 28})}},     // dtype
      {{"nope", random_tensor({4, 1, 28, 28}, 2)}},                       // unknown name
      {{name, random_tensor({4, 1, 28, 28}, 3)}, {name, random_tensor({4, 1, 28, 28}, 4)}}};  // twice
  for (const auto& inputs : bad) {
    std::vector<Tensor> a, b;
    Status s = split->run(inputs, a), w = whole->run(inputs, b);
    EXPECT_EQ(s.is_ok(), w.is_ok());
    EXPECT_EQ(s.message(), w.message());
  }
}

// The split path writes into the caller's output tensors of the last run when
// nobody else holds them; a copy kept by the caller gets a fresh tensor.
TEST(BatchSplit, KeptOutputIsNotOverwritten) {
  auto split = load(model_path("lenet5"), 2, "1");
  ASSERT_TRUE(split);
  std::vector<Tensor> outputs;
  ASSERT_TRUE(split->run(image_inputs(*split, 3, 7), outputs).is_ok());
  const void* reused = outputs[0].raw_data();
  ASSERT_TRUE(split->run(image_inputs(*split, 3, 8), outputs).is_ok());
  EXPECT_EQ(outputs[0].raw_data(), reused);
  Tensor kept = outputs[0];
  std::vector<float> before(kept.data<float>(), kept.data<float>() + kept.num_elements());
  ASSERT_TRUE(split->run(image_inputs(*split, 3, 9), outputs).is_ok());
  EXPECT_NE(kept.raw_data(), outputs[0].raw_data());
  EXPECT_EQ(std::memcmp(kept.raw_data(), before.data(), kept.byte_size()), 0);
}

// Graphs that mix the images of a batch (or may) run whole; each names why
// (an output whose first dimension is no longer the batch is caught first).
TEST(BatchSplit, GraphsThatMixImagesRunWhole) {
  struct Case {
    const char* what;
    std::function<void(ModelBuilder&)> build;
    const char* why;
  };
  const std::vector<Case> cases = {
      {"Concat along the batch",
       [](ModelBuilder& b) { set_attr(b.node("Concat", {"X", "X"}, {"Y"}), "axis", int64_t{0}); }, "batch"},
      {"Flatten from axis 0", [](ModelBuilder& b) { set_attr(b.node("Flatten", {"X"}, {"Y"}), "axis", int64_t{0}); },
       "output Y does not carry the batch"},
      {"Softmax over the batch",
       [](ModelBuilder& b) { set_attr(b.node("Softmax", {"X"}, {"Y"}), "axis", int64_t{0}); }, "normalizes"},
      {"a constant spanning the batch",
       [](ModelBuilder& b) {
         b.initializer("C", {2, 4}, {1, 2, 3, 4, 5, 6, 7, 8});
         b.node("Add", {"X", "C"}, {"Y"});
       },
       "output Y does not carry the batch"},
      {"a reduction, then Relu",
       [](ModelBuilder& b) {
         set_attr(b.node("ReduceMean", {"X"}, {"R"}), "axes", std::vector<int64_t>{1});
         b.node("Relu", {"R"}, {"Y"});
       },
       "not known"},
  };
  for (const Case& c : cases) {
    ModelBuilder b(13);
    b.input("X", DataType::kFloat, {-1, 4});
    c.build(b);
    b.output("Y", DataType::kFloat);
    auto s = testing::make_session(b.model());
    ASSERT_TRUE(s.is_ok()) << c.what << ": " << s.status().message();
    EXPECT_FALSE(s.value()->batch_split().per_image) << c.what;
    EXPECT_NE(s.value()->batch_split().why_not.find(c.why), std::string::npos)
        << c.what << ": " << s.value()->batch_split().why_not;
  }
  // A batch fixed in the model: no symbolic dimension to split along.
  ModelBuilder fixed(13);
  fixed.input("X", DataType::kFloat, {3, 4});
  fixed.node("Relu", {"X"}, {"Y"});
  fixed.output("Y", DataType::kFloat);
  auto s = testing::make_session(fixed.model());
  ASSERT_TRUE(s.is_ok());
  EXPECT_FALSE(s.value()->batch_split().per_image);
  // The same Relu on a symbolic batch has no convolution: an MLP's rows share
  // their weights' reads, so they run whole too.
  ModelBuilder symbolic(13);
  symbolic.input("X", DataType::kFloat, {-1, 4});
  symbolic.node("Relu", {"X"}, {"Y"});
  symbolic.output("Y", DataType::kFloat);
  auto t = testing::make_session(symbolic.model());
  ASSERT_TRUE(t.is_ok());
  EXPECT_FALSE(t.value()->batch_split().per_image);
  EXPECT_NE(t.value()->batch_split().why_not.find("no convolution"), std::string::npos);
}

}  // namespace
}  // namespace onnx_mini
