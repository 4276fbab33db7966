// The two reports of --inspect: text for a person, one JSON object for a script.
#include <cstdio>

#include "core/printable.h"
#include "onnx_run/inspection.h"
#include "onnx_run/json.h"

namespace onnx_mini::onnx_run {
namespace {

std::string type_text(const IoInfo& io) {
  if (!io.has_shape) return io.dtype + "[rank unknown]";
  std::string s = io.dtype + "[";
  for (size_t i = 0; i < io.dims.size(); ++i) s += (i ? ", " : "") + printable(io.dims[i]);
  return s + "]";
}

// 1234567 -> "1.23 M"
std::string human(double v, const char* unit) {
  const char* prefixes[] = {"", "K", "M", "G", "T", "P"};
  int p = 0;
  while (v >= 1000 && p < 5) {
    v /= 1000;
    ++p;
  }
  char buf[48];
  std::snprintf(buf, sizeof buf, p ? "%.3g" : "%.0f", v);
  const std::string suffix = std::string(prefixes[p]) + unit;
  return suffix.empty() ? std::string(buf) : std::string(buf) + " " + suffix;
}

std::string dims_text(const std::map<std::string, int64_t>& dims) {
  if (dims.empty()) return "no symbolic dims";
  std::string s;
  for (const auto& [name, v] : dims) s += (s.empty() ? "" : ", ") + printable(name) + "=" + std::to_string(v);
  return s;
}

std::string io_json(const std::vector<IoInfo>& ios) {
  JsonArray a;
  for (const IoInfo& io : ios) {
    JsonArray dims;
    for (const std::string& d : io.dims) {
      const bool numeric = !d.empty() && d.find_first_not_of("0123456789") == std::string::npos;
      if (numeric) dims.add_json(d);
      else dims.add_string(d);
    }
    JsonObject o;
    o.add_string("name", io.name).add_string("dtype", io.dtype);
    o.add_json("shape", io.has_shape ? dims.str() : "null");
    a.add_json(o.str());
  }
  return a.str();
}

template <typename Map>
std::string int_map_json(const Map& m) {
  JsonObject o;
  for (const auto& [k, v] : m) o.add_int(k, v);
  return o.str();
}

}  // namespace

std::string inspection_text(const Inspection& r) {
  std::string t;
  t += "producer:     " + printable(r.producer.empty() ? "(not recorded)" : r.producer + " " + r.producer_version) + "\n";
  t += "IR version:   " + std::to_string(r.ir_version) + "\n";
  t += "opsets:      ";
  for (const auto& [d, v] : r.opsets) t += std::string(" ") + printable(d) + " " + std::to_string(v);
  t += "\ninputs:\n";
  for (const IoInfo& io : r.inputs) t += "  " + printable(io.name) + ": " + type_text(io) + "\n";
  t += "outputs:\n";
  for (const IoInfo& io : r.outputs) t += "  " + printable(io.name) + ": " + type_text(io) + "\n";
  t += "initializers: " + std::to_string(r.initializers) + " (" + human(static_cast<double>(r.initializer_bytes), "B") + ", " +
       std::to_string(r.parameters) + " parameters)\n";
  t += "nodes:        " + std::to_string(r.nodes) + "\n";
  for (const auto& [op, n] : r.op_histogram) t += "  " + printable(op) + " x" + std::to_string(n) + "\n";
  // The loader's message: names in it are escaped already, one node per line.
  if (!r.unsupported.empty()) t += "unsupported:  " + r.unsupported + "\n";
  if (r.unsupported.empty()) {
    t += "FLOPs/run:    " + human(r.flops, "") + " at " + dims_text(r.dims_used) + " (matrix products 2 per multiply-add, other ops 1 per output element)\n";
    for (const auto& [op, row] : r.flops_by_op) {
      t += "  " + printable(op) + ": " + human(row.flops, "") + " in " + std::to_string(row.nodes) + " node(s)\n";
    }
  }
  if (!r.flops_note.empty()) t += "  note: " + printable(r.flops_note) + "\n";
  if (r.unsupported.empty()) {
    t += "passes (-O1): " + std::to_string(r.rewrites.size()) + " rewrite(s), " + std::to_string(r.nodes) + " -> " +
         std::to_string(r.optimized_nodes) + " nodes\n";
    for (const std::string& line : r.rewrites) t += "  " + printable(line) + "\n";
  }
  return terminal_safe(t);
}

std::string inspection_json(const Inspection& r, const std::string& model) {
  JsonObject j;
  j.add_string("model", model).add_string("producer", r.producer).add_string("producer_version", r.producer_version);
  j.add_int("ir_version", r.ir_version).add_json("opsets", int_map_json(r.opsets));
  j.add_json("inputs", io_json(r.inputs)).add_json("outputs", io_json(r.outputs));
  j.add_int("initializers", r.initializers).add_int("initializer_bytes", r.initializer_bytes).add_int("parameters", r.parameters);
  j.add_int("nodes", r.nodes).add_json("op_histogram", int_map_json(r.op_histogram));
  j.add_bool("supported", r.unsupported.empty());
  if (!r.unsupported.empty()) j.add_string("unsupported", r.unsupported);
  JsonObject by_op;
  for (const auto& [op, row] : r.flops_by_op) by_op.add_json(op, JsonObject().add_int("nodes", row.nodes).add_number("flops", row.flops).str());
  if (r.unsupported.empty()) {
    j.add_number("flops", r.flops).add_json("flops_by_op", by_op.str()).add_json("dims", int_map_json(r.dims_used));
    JsonArray rewrites;
    for (const std::string& line : r.rewrites) rewrites.add_string(line);
    j.add_json("rewrites", rewrites.str()).add_int("optimized_nodes", r.optimized_nodes);
  }
  if (!r.flops_note.empty()) j.add_string("flops_note", r.flops_note);
  return j.str();
}

}  // namespace onnx_mini::onnx_run
