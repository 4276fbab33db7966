// Per-node observers: --stats (activation statistics) and --profile (time per op).
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

struct OpTime {
  std::string node, op;
  int64_t calls = 0;
  double total_s = 0;
};

class ProfileObserver final : public RunObserver {
 public:
  void after_node(const Node& node, const std::vector<const Tensor*>& outputs, double seconds) override;
  void reset() { rows_.clear(); index_.clear(); }
  // Rows sorted by share of the total, largest first.
  std::vector<OpTime> sorted() const;
  std::string table() const;
  std::string json() const;

 private:
  std::vector<OpTime> rows_;
  std::map<std::pair<std::string, std::string>, size_t> index_;  // by node identity (name, op)
};

// Statistics of one tensor (floats; other dtypes converted to double).
OutputStats compute_stats(const Tensor& t);

}  // namespace onnx_mini::onnx_run
