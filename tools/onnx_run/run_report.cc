#include "onnx_run/run_report.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "core/printable.h"
#include "onnx_run/check.h"
#include "onnx_run/json.h"

namespace onnx_mini::onnx_run {

namespace {

std::string json_values(const Tensor& t, int64_t count) {
  JsonArray values;
  const int64_t n = std::min<int64_t>(t.num_elements(), count);
  for (int64_t i = 0; i < n; ++i) values.add_number(value_at(t, i));
  return values.str();
}

// Up to o.json_values values (all with --all-values); when some are left out,
// how many and how to get them.
std::string json_output(const std::string& name, const Tensor& t, const std::string& file, const Options& o) {
  JsonArray shape;
  for (int64_t d : t.shape()) shape.add_int(d);
  JsonObject out;
  out.add_string("name", name).add_string("dtype", dtype_name(t.dtype())).add_json("shape", shape.str());
  if (!file.empty()) out.add_string("file", file);
  const int64_t shown = o.all_values ? t.num_elements() : std::min(t.num_elements(), o.json_values);
  out.add_json("values", json_values(t, shown));
  if (shown < t.num_elements()) {
    out.add_int("values_left_out", t.num_elements() - shown);
    out.add_string("all_values", "add --all-values for every value, or --output-dir DIR for .npy files");
  }
  return out.str();
}

}  // namespace

void print_json_report(const Session& session, const Options& o, const RunReport& report) {
  JsonArray outputs;
  for (size_t i = 0; i < report.outputs.size(); ++i) {
    const std::string file = i < report.output_files.size() ? report.output_files[i] : "";
    outputs.add_json(json_output(session.value(session.output_ids()[i]).name, report.outputs[i], file, o));
  }
  JsonObject json;
  json.add_string("model", o.model).add_json("outputs", outputs.str()).add_number("load_ms", report.load_ms);
  if (o.repeat > 0) {
    json.add_number("median_ms", report.latency.median_ms).add_number("p10_ms", report.latency.p10_ms);
    json.add_number("p90_ms", report.latency.p90_ms).add_int("runs", report.latency.runs);
    if (report.latency.interrupted) json.add_bool("interrupted", true);
  }
  if (o.profile) json.add_json("profile", report.profile.json()).add_json("profile_by_op", report.profile.op_type_json());
  if (!o.profile_file.empty()) json.add_string("profile_file", o.profile_file);
  if (!o.save_inputs.empty()) {
    JsonArray files;
    for (const auto& [name, file] : report.input_files) files.add_json(JsonObject().add_string("name", name).add_string("file", file).str());
    json.add_json("saved_inputs", files.str());
  }
  if (!o.dump_all.empty()) {
    JsonArray files;
    for (const DumpedValue& d : report.dumped) {
      files.add_json(JsonObject().add_string("value", d.value).add_string("node", d.node).add_string("op", d.op).add_string("file", d.file).str());
    }
    json.add_json("dumped", files.str());
  }
  if (o.stats) json.add_json("stats", report.stats.json());
  if (report.check) {
    json.add_json("check", JsonObject()
                               .add_bool("pass", report.check->pass())
                               .add_int("passed", report.check->passed)
                               .add_int("compared", report.check->compared)
                               .add_number("atol", o.atol)
                               .add_number("rtol", o.rtol)
                               .add_json("outputs", report.check->json)
                               .str());
  }
  std::cout << json.str() << "\n";
}

void print_text_report(const Session& session, const Options& o, const RunReport& report) {
  std::string text;
  for (size_t i = 0; i < report.outputs.size(); ++i) {
    const Tensor& t = report.outputs[i];
    text += printable(session.value(session.output_ids()[i]).name) + ": " + describe(t) + " " +
            leading_values(t, o.all_values ? static_cast<int>(std::min<int64_t>(t.num_elements(), INT32_MAX)) : o.print_values) + "\n";
  }
  for (const auto& [name, file] : report.input_files) text += "wrote input " + quote(name) + " to " + file + "\n";
  for (const DumpedValue& d : report.dumped) {
    text += "dumped " + quote(d.value) + " (" + printable(d.op) + " " + quote(d.node) + ") to " + d.file + "\n";
  }
  if (!o.dump_all.empty()) {
    text += "dumped " + std::to_string(report.dumped.size()) + " node outputs of the graph as loaded (-O0) to " + o.dump_all + "\n";
  }
  for (size_t i = 0; i < report.output_files.size(); ++i) {
    text += "wrote output " + quote(session.value(session.output_ids()[i]).name) + " to " + report.output_files[i] + "\n";
  }
  if (o.stats) text += "\nstats (one run of the graph as loaded, -O0):\n" + report.stats.table();
  if (o.profile) text += "\nprofile" + std::string(o.repeat > 0 ? " (timed runs)" : " (one run)") + ":\n" + report.profile.table();
  if (o.repeat > 0) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "load (read, validate, optimize, plan, prepare kernels): %.1f ms\n", report.load_ms);
    text += buf;
    if (report.latency.interrupted) {
      std::snprintf(buf, sizeof buf, "interrupted after %d of %d runs\n", report.latency.runs, o.repeat);
      text += buf;
    }
    std::snprintf(buf, sizeof buf, "latency over %d runs: median %.4f ms, p10 %.4f ms, p90 %.4f ms\n", report.latency.runs,
                  report.latency.median_ms, report.latency.p10_ms, report.latency.p90_ms);
    text += buf;
  }
  if (!o.profile_file.empty()) text += "wrote the trace (Chrome trace-event JSON) to " + o.profile_file + "\n";
  if (report.check) {
    std::ostringstream summary;
    summary << "\ncheck:\n" << report.check->text << (report.check->pass() ? "PASS" : "FAIL") << ": " << report.check->passed
            << " of " << report.check->compared << " outputs match (atol " << o.atol << ", rtol " << o.rtol << ")\n";
    text += summary.str();
  }
  std::cout << terminal_safe(text);
}

}  // namespace onnx_mini::onnx_run
