// Per-node observer for --stats (activation statistics); --profile's is in onnx_run/profile.h.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "runtime/session.h"

namespace onnx_mini::onnx_run {

struct OutputStats {
  std::string node, op, output;
  std::string dtype, shape;
  int64_t count = 0, zeros = 0, nans = 0, infs = 0;
  double mean = 0, std = 0, min = 0, max = 0;
};

class StatsObserver final : public RunObserver {
 public:
  void after_node(const Node& node, const std::vector<const Tensor*>& outputs, double seconds) override;
  const std::vector<OutputStats>& rows() const { return rows_; }
  std::string table() const;
  std::string json() const;

 private:
  std::vector<OutputStats> rows_;
};

// Statistics of one tensor (floats; other dtypes converted to double).
OutputStats compute_stats(const Tensor& t);

}  // namespace onnx_mini::onnx_run
