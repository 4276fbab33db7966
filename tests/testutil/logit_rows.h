// Rows of float logits for the dense sweeps of Softmax / LogSoftmax
// (tests/ops/softmax_sweep_test.cc) and the loss kernels
// (tests/ops/loss_sweep_test.cc), seeded so a failure reproduces, in families
// aimed at the kernels' weak points:
// - confident: one class ahead of the others by a gap swept from 0 to 110 in
//   steps of 1/128, so the other terms e^-gap pass from 1 to below float's
//   range (the maximum's probability ~ 1 - rest, its log ~ -rest), at offsets
//   0 and -1e4 (x - max must not lose digits), 2, 16 and 1000 classes;
// - far_below: -1e4 - U(0, 50) and the row [-657.74, -723.5246 x 15] with its
//   gap swept around 65.8 (where an independent sweep measured 1.34 and 1.52
//   ULP);
// - random: normal logits of spread 1, 5 and 30, 3 to 100 classes, and rows
//   of 3000 classes (longer than one chunk of ops/exp_sum.h);
// - bits: rows of 8 random finite float bit patterns (huge, tiny, denormal);
// - specials: every pair of the edge values (±0, ±1e-30, ±FLT_MAX, ±Inf, NaN,
//   denormals, ...) as a 2-class row.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "tests/testutil/accuracy.h"

namespace onnx_mini::testing {

struct LogitRows {
  std::string family;
  int64_t classes = 0;
  std::vector<float> x;  // rows() * classes values, row-major
  int64_t rows() const { return classes ? static_cast<int64_t>(x.size()) / classes : 0; }
  const float* row(int64_t r) const { return x.data() + r * classes; }
};

// The first maximum's position (the class a confident-correct label picks),
// 0 when the row has none above -inf.
inline int64_t argmax(const float* row, int64_t classes) {
  int64_t arg = 0;
  for (int64_t c = 1; c < classes; ++c) arg = row[c] > row[arg] ? c : arg;
  return arg;
}

inline std::vector<LogitRows> sweep_logit_rows() {
  std::vector<LogitRows> out;
  std::mt19937 rng(20240611);  // fixed seed: failures must reproduce
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  // confident: the leader's position moves with the row; the others trail by
  // gap plus a small random spread.
  for (int64_t classes : {2, 16, 1000}) {
    for (float offset : {0.0f, -1e4f}) {
      LogitRows r{"confident", classes, {}};
      const double step = classes == 1000 ? 1.0 / 8 : 1.0 / 128;
      for (double gap = 0; gap <= 110; gap += step) {
        const int64_t leader = static_cast<int64_t>(r.rows() % classes);
        for (int64_t c = 0; c < classes; ++c) {
          r.x.push_back(c == leader ? offset : static_cast<float>(offset - gap - (c ? unit(rng) * 0.01 : 0.0)));
        }
      }
      out.push_back(std::move(r));
    }
  }
  for (int64_t classes : {10, 100, 1000}) {
    LogitRows r{"far_below", classes, {}};
    for (int64_t i = 0; i < 200000 / classes; ++i) {
      for (int64_t c = 0; c < classes; ++c) r.x.push_back(static_cast<float>(-1e4 - 50 * unit(rng)));
    }
    out.push_back(std::move(r));
  }
  LogitRows sce{"far_below", 16, {}};
  for (int i = -2048; i < 2048; ++i) {
    sce.x.push_back(-657.74f);
    for (int c = 1; c < 16; ++c) sce.x.push_back(-723.5246f + static_cast<float>(i) / 256);
  }
  out.push_back(std::move(sce));
  for (int64_t classes : {3, 5, 37, 100, 3000}) {
    for (double spread : {1.0, 5.0, 30.0}) {
      LogitRows r{"random", classes, {}};
      std::normal_distribution<double> normal(0.0, spread);
      for (int64_t i = 0; i < (classes == 3000 ? 60000 : 150000); ++i) r.x.push_back(static_cast<float>(normal(rng)));
      r.x.resize(static_cast<size_t>(r.rows() * classes));
      out.push_back(std::move(r));
    }
  }
  LogitRows bits{"bits", 8, {}};
  while (bits.x.size() < 160000) {
    const float v = std::bit_cast<float>(static_cast<uint32_t>(rng()));
    if (std::isfinite(v)) bits.x.push_back(v);
  }
  out.push_back(std::move(bits));
  const std::vector<float> grid = sweep_grid<float>();
  const std::vector<float> edges(grid.begin(), grid.begin() + 57);  // the edge values and NaN
  LogitRows specials{"specials", 2, {}};
  for (float a : edges) {
    for (float b : edges) {
      specials.x.push_back(a);
      specials.x.push_back(b);
    }
  }
  out.push_back(std::move(specials));
  return out;
}

}  // namespace onnx_mini::testing
