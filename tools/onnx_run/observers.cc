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

}  // namespace onnx_mini::onnx_run
