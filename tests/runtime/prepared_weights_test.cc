// What a session does with the weights its kernels pack (runtime/prepared_weights.*):
// an initializer only packed kernels read is let go of (memory the session alone
// owns is freed, file pages are dropped from the process), one that anything else
// reads is kept, a weight shared by two nodes is packed once, and writing the
// model gives the same bytes as a session that packed nothing.
#include <fcntl.h>
#include <unistd.h>

#include <cinttypes>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>

#include <gtest/gtest.h>

#include "graph/onnx_loader.h"
#include "graph/onnx_writer.h"
#include "ops/packed_gemm.h"
#include "runtime/session.h"
#include "tests/testutil/graph_builder.h"
#include "tests/testutil/model_builder.h"

namespace onnx_mini {
namespace {

using testing::GraphBuilder;
using testing::int_attr;
using testing::random_tensor;

class PreparedWeights : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PackedWeights::supported()) GTEST_SKIP() << "this CPU has no AVX-512F: no kernel packs a weight here";
    unsetenv("ONNX_MINI_PACKED_GEMM");
  }
};

// Y = X W^T (+ Y2 = X W^T again when `second` names a second node) with the
// weight W [n, k] handed over as `w`.
Graph linear_graph(Tensor w, int64_t k, bool second = false, bool w_is_output = false) {
  GraphBuilder gb(13);
  gb.input("X", DataType::kFloat, {3, k}).initializer("W", std::move(w));
  gb.node("Gemm", {"X", "W"}, {"Y"}, {{"transB", int_attr(1)}}, "fc1");
  gb.output("Y");
  if (second) {
    gb.node("Gemm", {"X", "W"}, {"Y2"}, {{"transB", int_attr(1)}}, "fc2");
    gb.output("Y2");
  }
  if (w_is_output) gb.output("W");
  return gb.build();
}

// Y[i, j] = sum_p X[i, p] W[j, p] in double.
void expect_linear(const Tensor& y, const Tensor& x, const Tensor& w) {
  const int64_t m = x.dim(0), k = x.dim(1), n = w.dim(0);
  ASSERT_EQ(y.shape(), (Shape{m, n}));
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t p = 0; p < k; ++p) acc += double(x.data<float>()[i * k + p]) * w.data<float>()[j * k + p];
      // float32 sums of k <= 512 products of values in [-1, 1): 1e-5 * k bounds the rounding.
      ASSERT_NEAR(y.data<float>()[i * n + j], acc, 1e-5 * static_cast<double>(k)) << i << "," << j;
    }
  }
}

TEST_F(PreparedWeights, AWeightOnlyPackedKernelsReadIsFreed) {
  Tensor w = random_tensor({64, 48}, 1);
  const Tensor expected_w = w.clone();
  std::weak_ptr<void> storage = w.owner();
  auto session = Session::from_graph(linear_graph(std::move(w), 48));
  ASSERT_TRUE(session.is_ok()) << session.status().message();
  EXPECT_TRUE(storage.expired()) << "the session still holds the original weight";
  const Value& v = (*session)->graph().value((*session)->graph().find_value("W"));
  EXPECT_FALSE(v.initializer.has_value());
  ASSERT_TRUE(v.rebuild_initializer) << "writing the model needs the values back";
  const Tensor rebuilt = v.rebuild_initializer();
  ASSERT_EQ(rebuilt.shape(), expected_w.shape());
  EXPECT_EQ(std::memcmp(rebuilt.raw_data(), expected_w.raw_data(), rebuilt.byte_size()), 0);
  EXPECT_EQ((*session)->prepared_weights().released_initializers, 1);
  EXPECT_EQ((*session)->prepared_weights().released_bytes, 64 * 48 * 4);
  const Tensor x = random_tensor({3, 48}, 2);
  auto out = (*session)->run({{"X", x}});
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  expect_linear(out.value()[0].tensor, x, expected_w);
}

TEST_F(PreparedWeights, ACallersCopyOfTheWeightLivesOn) {
  Tensor w = random_tensor({64, 48}, 1);
  const Graph kept = linear_graph(w, 48);  // the caller keeps this graph (and w)
  auto session = Session::from_graph(kept);
  ASSERT_TRUE(session.is_ok()) << session.status().message();
  const Value& mine = kept.value(kept.find_value("W"));
  ASSERT_TRUE(mine.initializer.has_value());
  EXPECT_EQ(std::memcmp(mine.initializer->raw_data(), w.raw_data(), w.byte_size()), 0) << "the caller's copy changed";
  EXPECT_EQ((*session)->prepared_weights().released_initializers, 1);
}

TEST_F(PreparedWeights, AWeightSomethingElseReadsIsKept) {
  auto session = Session::from_graph(linear_graph(random_tensor({64, 48}, 1), 48, false, /*w_is_output=*/true));
  ASSERT_TRUE(session.is_ok()) << session.status().message();
  EXPECT_EQ((*session)->prepared_weights().packed_weights, 1);
  EXPECT_EQ((*session)->prepared_weights().released_initializers, 0);
  EXPECT_TRUE((*session)->graph().value((*session)->graph().find_value("W")).initializer.has_value());
}

TEST_F(PreparedWeights, AWeightTwoNodesReadIsPackedOnce) {
  Tensor w = random_tensor({64, 48}, 1);
  const Tensor expected_w = w.clone();
  SessionOptions opts;
  opts.opt_level = 0;  // two Gemm nodes as written
  auto session = Session::from_graph(linear_graph(std::move(w), 48, /*second=*/true), opts);
  ASSERT_TRUE(session.is_ok()) << session.status().message();
  EXPECT_EQ((*session)->prepared_weights().packed_weights, 1);
  EXPECT_EQ((*session)->prepared_weights().released_initializers, 1);
  const Tensor x = random_tensor({3, 48}, 2);
  auto out = (*session)->run({{"X", x}});
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  expect_linear(out.value()[0].tensor, x, expected_w);
  expect_linear(out.value()[1].tensor, x, expected_w);
}

TEST_F(PreparedWeights, AWeightReadInTwoLayoutsIsPackedTwiceReleasedOnce) {
  GraphBuilder gb(13);
  gb.input("X", DataType::kFloat, {3, 48}).initializer("W", random_tensor({48, 48}, 1));
  gb.node("Gemm", {"X", "W"}, {"Y"}, {{"transB", int_attr(1)}}, "fc1");
  gb.node("Gemm", {"X", "W"}, {"Y2"}, {{"transB", int_attr(0)}}, "fc2");
  gb.output("Y").output("Y2");
  SessionOptions opts;
  opts.opt_level = 0;
  auto session = Session::from_graph(gb.build(), opts);
  ASSERT_TRUE(session.is_ok()) << session.status().message();
  EXPECT_EQ((*session)->prepared_weights().packed_weights, 2);
  EXPECT_EQ((*session)->prepared_weights().released_initializers, 1);
}

// ---- models read from files ------------------------------------------------

// Whether any page of [p, p + bytes) is mapped into this process
// (/proc/self/pagemap: bit 63 of each page's entry).
bool any_page_present(const void* p, size_t bytes) {
  const long page = sysconf(_SC_PAGESIZE);
  const uintptr_t first = reinterpret_cast<uintptr_t>(p) / page, last = (reinterpret_cast<uintptr_t>(p) + bytes - 1) / page;
  const int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  bool present = false;
  for (uintptr_t pg = first; pg <= last && !present; ++pg) {
    uint64_t entry = 0;
    EXPECT_EQ(pread(fd, &entry, sizeof entry, static_cast<off_t>(pg * sizeof entry)), 8);
    present = (entry >> 63) & 1;
  }
  close(fd);
  return present;
}

// Whether p lies in a mapping of the file at `path` (/proc/self/maps).
bool inside_mapping_of(const void* p, const std::string& path) {
  char resolved[PATH_MAX];
  if (!realpath(path.c_str(), resolved)) return false;
  std::ifstream maps("/proc/self/maps");
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  for (std::string line; std::getline(maps, line);) {
    uintptr_t lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%" SCNxPTR "-%" SCNxPTR, &lo, &hi) != 2) continue;
    if (a >= lo && a < hi && line.size() >= std::strlen(resolved) &&
        line.compare(line.size() - std::strlen(resolved), std::string::npos, resolved) == 0) {
      return true;
    }
  }
  return false;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// A Gemm against a [256, 512] weight (512 KiB: 128 pages) stored as raw_data,
// either in the model file (its offset shifted by `shift` bytes with the
// model's doc string, so both aligned and misaligned payloads occur) or as
// external data at offset 0.
std::string write_model(const std::string& dir, int shift, bool external, const Tensor& w) {
  testing::ModelBuilder b(13);
  b.model().set_doc_string(std::string(static_cast<size_t>(shift), 'd'));
  b.input("X", DataType::kFloat, {2, 512});
  auto* t = b.model().mutable_graph()->add_initializer();
  t->set_name("W");
  t->set_data_type(onnx::TensorProto::FLOAT);
  t->add_dims(256);
  t->add_dims(512);
  const std::string bytes(static_cast<const char*>(w.raw_data()), w.byte_size());
  if (external) {
    std::ofstream(dir + "/w.bin", std::ios::binary) << bytes;
    t->set_data_location(onnx::TensorProto::EXTERNAL);
    auto* e = t->add_external_data();
    e->set_key("location");
    e->set_value("w.bin");
  } else {
    t->set_raw_data(bytes);
  }
  testing::set_attr(b.node("Gemm", {"X", "W"}, {"Y"}, "fc"), "transB", int64_t{1});
  b.output("Y");
  const std::string path = dir + "/model.onnx";
  std::ofstream(path, std::ios::binary) << b.serialize();
  return path;
}

TEST_F(PreparedWeights, FilePagesAreDroppedAndTheSavedModelIsUnchanged) {
  const Tensor w = random_tensor({256, 512}, 5);
  const Tensor x = random_tensor({2, 512}, 6);
  for (bool external : {false, true}) {
    for (int shift : {0, 1, 2, 3}) {
      if (external && shift > 0) continue;
      SCOPED_TRACE(std::string(external ? "external" : "in-file") + " shift " + std::to_string(shift));
      const std::string dir = testing::temp_dir("prepared_weights_" + std::to_string(external) + std::to_string(shift));
      const std::string model = write_model(dir, shift, external, w);
      // The reference: the same model with nothing packed, so nothing let go of.
      setenv("ONNX_MINI_PACKED_GEMM", "0", 1);
      auto plain = Session::load(model);
      unsetenv("ONNX_MINI_PACKED_GEMM");
      ASSERT_TRUE(plain.is_ok()) << plain.status().message();
      auto packed = Session::load(model);
      ASSERT_TRUE(packed.is_ok()) << packed.status().message();
      EXPECT_EQ((*packed)->prepared_weights().released_initializers, 1);
      const Value& v = (*packed)->graph().value((*packed)->graph().find_value("W"));
      if (v.initializer) {
        // Kept as a view of the file: none of its pages resident any more.
        EXPECT_FALSE(any_page_present(v.initializer->raw_data(), v.initializer->byte_size()));
      } else {
        EXPECT_TRUE(v.rebuild_initializer) << "neither a file view nor a way back";
      }
      ASSERT_TRUE(save_onnx_file((*plain)->graph(), dir + "/plain.onnx").is_ok());
      ASSERT_TRUE(save_onnx_file((*packed)->graph(), dir + "/packed.onnx").is_ok());
      EXPECT_EQ(read_file(dir + "/plain.onnx"), read_file(dir + "/packed.onnx")) << "the saved models differ";
      auto out = (*packed)->run({{"X", x}});
      ASSERT_TRUE(out.is_ok()) << out.status().message();
      expect_linear(out.value()[0].tensor, x, w);
    }
  }
}

// Parsing reads the protobuf fields around each payload, and the kernel maps
// whole large folios of the file around such a read: pages of the weights
// themselves became resident before any kernel asked for them (2 MB of the
// large MLP's peak). The loader drops what parsing touched.
TEST_F(PreparedWeights, LoadingLeavesNoPageOfAnInPlaceWeightResident) {
  const Tensor w = random_tensor({256, 512}, 7);
  int views = 0;
  for (int shift : {0, 1, 2, 3}) {  // one of these puts the payload at a float-aligned offset: used in place
    SCOPED_TRACE("shift " + std::to_string(shift));
    const std::string dir = testing::temp_dir("prepared_weights_load_pages" + std::to_string(shift));
    const std::string model = write_model(dir, shift, /*external=*/false, w);
    auto g = load_onnx_file(model);
    ASSERT_TRUE(g.is_ok()) << g.status().message();
    const Value& v = g->value(g->find_value("W"));
    ASSERT_TRUE(v.initializer);
    if (!inside_mapping_of(v.initializer->raw_data(), model)) continue;  // copied into aligned memory
    ++views;
    EXPECT_FALSE(any_page_present(v.initializer->raw_data(), v.initializer->byte_size()));
    EXPECT_EQ(std::memcmp(v.initializer->raw_data(), w.raw_data(), w.byte_size()), 0) << "the dropped pages read back";
  }
  EXPECT_EQ(views, 1);
}

// A session built from another session's graph gets the let-go-of weights back.
TEST_F(PreparedWeights, AGraphTakenFromASessionStillRuns) {
  Tensor w = random_tensor({64, 48}, 1);
  const Tensor expected_w = w.clone();
  auto first = Session::from_graph(linear_graph(std::move(w), 48));
  ASSERT_TRUE(first.is_ok());
  auto second = Session::from_graph((*first)->graph());
  ASSERT_TRUE(second.is_ok()) << second.status().message();
  const Tensor x = random_tensor({3, 48}, 2);
  auto out = (*second)->run({{"X", x}});
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  expect_linear(out.value()[0].tensor, x, expected_w);
}

}  // namespace
}  // namespace onnx_mini
