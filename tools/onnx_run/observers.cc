#include "onnx_run/observers.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/printable.h"
#include "onnx_run/json.h"
#include "onnx_run/tensor_values.h"

namespace onnx_mini::onnx_run {

OutputStats compute_stats(const Tensor& t) {
  OutputStats s;
  s.dtype = dtype_name(t.dtype());
  s.shape = shape_to_string(t.shape());
  s.count = t.num_elements();
  double sum = 0, sum_sq = 0;
  double mn = std::numeric_limits<double>::infinity(), mx = -mn;
  int64_t finite = 0;
  for (int64_t i = 0; i < s.count; ++i) {
    const double v = element_as_double(t, i);
    if (v == 0) ++s.zeros;
    if (std::isnan(v)) { ++s.nans; continue; }
    if (std::isinf(v)) { ++s.infs; continue; }
    ++finite;
    sum += v;
    sum_sq += v * v;
    mn = std::min(mn, v);
    mx = std::max(mx, v);
  }
  if (finite > 0) {
    s.mean = sum / static_cast<double>(finite);
    s.std = std::sqrt(std::max(0.0, sum_sq / static_cast<double>(finite) - s.mean * s.mean));
    s.min = mn;
    s.max = mx;
  } else {
    s.mean = s.std = s.min = s.max = std::nan("");
  }
  return s;
}

void StatsObserver::after_node(const Node& node, const std::vector<const Tensor*>& outputs, double) {
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (!outputs[i] || !outputs[i]->defined()) continue;
    OutputStats s = compute_stats(*outputs[i]);
    s.node = node.name;
    s.op = node.op_type;
    s.output = std::to_string(i);
    rows_.push_back(std::move(s));
  }
}

std::string StatsObserver::table() const {
  std::string out;
  char buf[512];
  std::snprintf(buf, sizeof buf, "%-28s %-12s %-18s %12s %12s %12s %12s %9s %6s %6s\n", "node", "op", "shape", "mean",
                "std", "min", "max", "zeros", "nan", "inf");
  out += buf;
  for (const auto& r : rows_) {
    std::string name = r.node.empty() ? "(unnamed)" : printable(r.node);
    if (r.output != "0") name += ":" + r.output;
    std::snprintf(buf, sizeof buf, "%-28s %-12s %-18s %12.5g %12.5g %12.5g %12.5g %9lld %6lld %6lld\n", name.c_str(),
                  printable(r.op).c_str(), r.shape.c_str(), r.mean, r.std, r.min, r.max, static_cast<long long>(r.zeros),
                  static_cast<long long>(r.nans), static_cast<long long>(r.infs));
    out += buf;
  }
  return out;
}

std::string StatsObserver::json() const {
  JsonArray rows;
  for (const auto& r : rows_) {
    JsonObject row;
    row.add_string("node", r.node).add_string("op", r.op).add_json("output", r.output);  // an index: a number
    row.add_string("dtype", r.dtype).add_string("shape", r.shape);
    row.add_number("mean", r.mean).add_number("std", r.std).add_number("min", r.min).add_number("max", r.max);
    row.add_int("zeros", r.zeros).add_int("nan", r.nans).add_int("inf", r.infs);
    rows.add_json(row.str());
  }
  return rows.str();
}

void ProfileObserver::after_node(const Node& node, const std::vector<const Tensor*>&, double seconds) {
  auto key = std::make_pair(node.name, node.op_type);
  auto it = index_.find(key);
  if (it == index_.end()) {
    it = index_.emplace(key, rows_.size()).first;
    rows_.push_back(OpTime{node.name, node.op_type, 0, 0});
  }
  rows_[it->second].calls += 1;
  rows_[it->second].total_s += seconds;
}

std::vector<OpTime> ProfileObserver::sorted() const {
  std::vector<OpTime> rows = rows_;
  std::stable_sort(rows.begin(), rows.end(), [](const OpTime& a, const OpTime& b) { return a.total_s > b.total_s; });
  return rows;
}

std::string ProfileObserver::table() const {
  auto rows = sorted();
  double total = 0;
  for (const auto& r : rows) total += r.total_s;
  std::string out;
  char buf[512];
  std::snprintf(buf, sizeof buf, "%-16s %-28s %8s %12s %12s %7s\n", "op", "node", "calls", "total_ms", "mean_us", "share");
  out += buf;
  for (const auto& r : rows) {
    std::snprintf(buf, sizeof buf, "%-16s %-28s %8lld %12.3f %12.2f %6.1f%%\n", printable(r.op).c_str(),
                  (r.node.empty() ? std::string("(unnamed)") : printable(r.node)).c_str(), static_cast<long long>(r.calls), r.total_s * 1e3,
                  r.calls ? r.total_s * 1e6 / static_cast<double>(r.calls) : 0.0, total > 0 ? 100.0 * r.total_s / total : 0.0);
    out += buf;
  }
  return out;
}

std::string ProfileObserver::json() const {
  auto rows = sorted();
  double total = 0;
  for (const auto& r : rows) total += r.total_s;
  JsonArray out;
  for (const auto& r : rows) {
    JsonObject row;
    row.add_string("op", r.op).add_string("node", r.node).add_int("calls", r.calls);
    row.add_number("total_ms", r.total_s * 1e3);
    row.add_number("mean_us", r.calls ? r.total_s * 1e6 / static_cast<double>(r.calls) : 0);
    row.add_number("share", total > 0 ? r.total_s / total : 0);
    out.add_json(row.str());
  }
  return out.str();
}

}  // namespace onnx_mini::onnx_run
