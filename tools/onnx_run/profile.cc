#include "onnx_run/profile.h"

#include <algorithm>
#include <cstdio>

#include "core/printable.h"
#include "onnx_run/json.h"

namespace onnx_mini::onnx_run {
namespace {

double total_of(const std::vector<OpTime>& rows) {
  double total = 0;
  for (const auto& r : rows) total += r.total_s;
  return total;
}

}  // namespace

void ProfileObserver::after_node(const Node& node, const std::vector<const Tensor*>&, double seconds) {
  auto key = std::make_pair(node.name, node.op_type);
  auto it = index_.find(key);
  if (it == index_.end()) {
    it = index_.emplace(key, rows_.size()).first;
    rows_.push_back(OpTime{node.name, node.op_type, 0, 0});
  }
  rows_[it->second].calls += 1;
  rows_[it->second].total_s += seconds;
  if (trace_) {
    // Called right after the node: it started `seconds` ago.
    const double end_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - origin_).count();
    events_.push_back({it->second, end_us - seconds * 1e6, seconds * 1e6});
  }
}

std::vector<OpTime> ProfileObserver::sorted() const {
  std::vector<OpTime> rows = rows_;
  std::stable_sort(rows.begin(), rows.end(), [](const OpTime& a, const OpTime& b) { return a.total_s > b.total_s; });
  return rows;
}

std::vector<OpTypeTime> ProfileObserver::by_op_type() const {
  std::map<std::string, OpTypeTime> by_op;
  for (const OpTime& r : rows_) {
    OpTypeTime& t = by_op[r.op];
    t.op = r.op;
    t.nodes += 1;
    t.calls += r.calls;
    t.total_s += r.total_s;
  }
  std::vector<OpTypeTime> out;
  for (auto& [op, t] : by_op) out.push_back(t);
  std::stable_sort(out.begin(), out.end(), [](const OpTypeTime& a, const OpTypeTime& b) { return a.total_s > b.total_s; });
  return out;
}

// Microseconds with two decimals: a 0.4 us node shows as 0.40, not 0.000 ms.
std::string ProfileObserver::table() const {
  auto rows = sorted();
  const double total = total_of(rows);
  std::string out;
  char buf[512];
  std::snprintf(buf, sizeof buf, "%-16s %-28s %8s %14s %12s %7s\n", "op", "node", "calls", "total_us", "mean_us", "share");
  out += buf;
  for (const auto& r : rows) {
    std::snprintf(buf, sizeof buf, "%-16s %-28s %8lld %14.2f %12.2f %6.1f%%\n", printable(r.op).c_str(),
                  (r.node.empty() ? std::string("(unnamed)") : printable(r.node)).c_str(), static_cast<long long>(r.calls),
                  r.total_s * 1e6, r.calls ? r.total_s * 1e6 / static_cast<double>(r.calls) : 0.0,
                  total > 0 ? 100.0 * r.total_s / total : 0.0);
    out += buf;
  }
  out += "\nper op type:\n";
  std::snprintf(buf, sizeof buf, "%-16s %8s %8s %14s %7s\n", "op", "nodes", "calls", "total_us", "share");
  out += buf;
  for (const auto& t : by_op_type()) {
    std::snprintf(buf, sizeof buf, "%-16s %8lld %8lld %14.2f %6.1f%%\n", printable(t.op).c_str(), static_cast<long long>(t.nodes),
                  static_cast<long long>(t.calls), t.total_s * 1e6, total > 0 ? 100.0 * t.total_s / total : 0.0);
    out += buf;
  }
  std::snprintf(buf, sizeof buf, "%-16s %8s %8s %14.2f\n", "total", "", "", total * 1e6);
  return out + buf;
}

std::string ProfileObserver::json() const {
  auto rows = sorted();
  const double total = total_of(rows);
  JsonArray out;
  for (const auto& r : rows) {
    JsonObject row;
    row.add_string("op", r.op).add_string("node", r.node).add_int("calls", r.calls);
    row.add_number("total_us", r.total_s * 1e6);
    row.add_number("mean_us", r.calls ? r.total_s * 1e6 / static_cast<double>(r.calls) : 0);
    row.add_number("share", total > 0 ? r.total_s / total : 0);
    out.add_json(row.str());
  }
  return out.str();
}

std::string ProfileObserver::op_type_json() const {
  const double total = total_of(rows_);
  JsonArray out;
  for (const auto& t : by_op_type()) {
    out.add_json(JsonObject()
                     .add_string("op", t.op)
                     .add_int("nodes", t.nodes)
                     .add_int("calls", t.calls)
                     .add_number("total_us", t.total_s * 1e6)
                     .add_number("share", total > 0 ? t.total_s / total : 0)
                     .str());
  }
  return out.str();
}

std::string ProfileObserver::trace_json() const {
  std::string out = "{\"traceEvents\": [";
  char buf[96];
  for (size_t i = 0; i < events_.size(); ++i) {
    const TraceEvent& e = events_[i];
    const OpTime& r = rows_[e.row];
    const std::string name = r.node.empty() ? r.op : r.node;
    std::snprintf(buf, sizeof buf, ", \"ts\": %.3f, \"dur\": %.3f, \"pid\": 1, \"tid\": 1}", e.start_us, e.duration_us);
    out += (i ? ",\n" : "\n") + std::string("{\"name\": ") + json_string(name) + ", \"cat\": " + json_string(r.op) +
           ", \"ph\": \"X\", \"args\": {\"op\": " + json_string(r.op) + "}" + buf;
  }
  return out + "\n], \"displayTimeUnit\": \"ms\"}\n";
}

}  // namespace onnx_mini::onnx_run
