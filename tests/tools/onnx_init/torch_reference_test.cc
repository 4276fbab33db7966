// Our samplers against torch.nn.init itself: moments recorded by
// scripts/torch_init_reference.py (data/torch_init_moments.txt) for the same schemes,
// shapes and a few seeds. The generators differ, so two independent samples of one
// distribution are compared: their means differ by at most 5*sigma*sqrt(2/n), their
// variances by 5*sqrt(2*(mu4 - sigma^4)/n); both must also match the theory.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/tools/onnx_init/sample_stats.h"
#include "onnx_init/init_schemes.h"
#include "onnx_init/parse_util.h"

namespace onnx_mini::init {
namespace {

using testing::moments_of;

struct ReferenceRow {
  std::string scheme;
  Shape shape;
  uint64_t seed = 0;
  size_t count = 0;
  double mean = 0, std = 0, min = 0, max = 0;
};

std::vector<ReferenceRow> read_reference() {
  std::ifstream in(ONNX_INIT_TEST_DATA_DIR "/torch_init_moments.txt");
  EXPECT_TRUE(in) << "missing " ONNX_INIT_TEST_DATA_DIR "/torch_init_moments.txt";
  std::vector<ReferenceRow> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    ReferenceRow r;
    std::string shape;
    fields >> r.scheme >> shape >> r.seed >> r.count >> r.mean >> r.std >> r.min >> r.max;
    EXPECT_TRUE(fields) << "bad line: " << line;
    for (const auto& d : split(shape, 'x')) r.shape.push_back(parse_int64(d, "dim").value());
    rows.push_back(r);
  }
  return rows;
}

// The distribution a reference row's scheme describes for its shape.
Distribution distribution_of(const ReferenceRow& row) {
  if (row.scheme.rfind("default_bias:", 0) == 0) {
    return torch_default_bias(parse_int64(row.scheme.substr(13), "fan_in").value());
  }
  const InitScheme scheme = parse_init_scheme(row.scheme).value();
  std::optional<Fans> fans;
  if (needs_fans(scheme)) fans = torch_fans(row.shape).value();
  return resolve(scheme, fans).value();
}

TEST(TorchReference, FileCoversEverySchemeForTwoAndFourDimensionalShapes) {
  const auto rows = read_reference();
  EXPECT_GE(rows.size(), 60u);
  size_t four_d = 0;
  for (const auto& r : rows) four_d += r.shape.size() == 4;
  EXPECT_GE(four_d, 20u);
}

TEST(TorchReference, MomentsAgreeWithTorchNnInit) {
  for (const ReferenceRow& row : read_reference()) {
    SCOPED_TRACE(row.scheme + " " + shape_to_string(row.shape) + " seed " + std::to_string(row.seed));
    const Distribution d = distribution_of(row);
    std::vector<float> ours(static_cast<size_t>(num_elements(row.shape)));
    ASSERT_EQ(ours.size(), row.count);
    Pcg32 rng(row.seed);
    fill(d, rng, ours);
    const auto m = moments_of(ours);
    const size_t n = row.count;

    if (d.kind == Distribution::Kind::kConstant) {
      EXPECT_EQ(m.min, row.min);
      EXPECT_EQ(m.max, row.max);
      EXPECT_EQ(m.mean, row.mean);
      continue;
    }
    const bool uniform = d.kind == Distribution::Kind::kUniform;
    const double sigma = uniform ? (d.p2 - d.p1) / std::sqrt(12.0) : d.p2;
    const double mu = uniform ? (d.p1 + d.p2) / 2 : d.p1;
    const double kurtosis = uniform ? testing::kUniformKurtosis : testing::kNormalKurtosis;
    // Two independent samples: the standard error of their difference is sqrt(2) times one's.
    EXPECT_NEAR(m.mean, row.mean, std::sqrt(2.0) * testing::mean_bound(sigma, n));
    EXPECT_NEAR(m.variance, row.std * row.std, std::sqrt(2.0) * testing::variance_bound(sigma, kurtosis, n));
    // And torch's own sample must fit the distribution we derived from the scheme,
    // which checks our reading of the formulas independently of our sampler.
    EXPECT_NEAR(row.mean, mu, testing::mean_bound(sigma, n));
    EXPECT_NEAR(row.std * row.std, sigma * sigma, testing::variance_bound(sigma, kurtosis, n));
    if (uniform) {
      // Both samplers stay inside the same bounds and reach close to them.
      const double edge = testing::uniform_edge_fraction(n) * (d.p2 - d.p1);
      for (double v : {m.min, row.min}) EXPECT_GE(v, d.p1 - 1e-7 * std::fabs(d.p1));
      for (double v : {m.max, row.max}) EXPECT_LE(v, d.p2 + 1e-7 * std::fabs(d.p2));
      EXPECT_LE(m.min, d.p1 + edge);
      EXPECT_GE(m.max, d.p2 - edge);
    }
  }
}

}  // namespace
}  // namespace onnx_mini::init
