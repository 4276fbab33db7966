#include "onnx_run/check.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <unordered_map>
#include <unordered_set>

#include "core/printable.h"
#include "runtime/io/tensor_file.h"
#include "onnx_run/compare.h"
#include "onnx_run/json.h"
#include "onnx_run/tensor_values.h"

namespace onnx_mini::onnx_run {
namespace fs = std::filesystem;
namespace {

// Files named PREFIX_N.pb in numeric order of N. N is compared as digits
// (fewer significant digits first, then by text), so any length is ordered
// without converting it to a number that could overflow.
std::vector<fs::path> numbered_files(const fs::path& dir, const std::string& prefix) {
  std::vector<std::pair<std::pair<size_t, std::string>, fs::path>> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind(prefix + "_", 0) != 0 || e.path().extension() != ".pb") continue;
    std::string num = name.substr(prefix.size() + 1, name.size() - prefix.size() - 4);
    if (num.empty() || num.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string significant = num.substr(std::min(num.find_first_not_of('0'), num.size() - 1));
    found.push_back({{significant.size(), significant}, e.path()});
  }
  std::sort(found.begin(), found.end());
  std::vector<fs::path> out;
  for (auto& f : found) out.push_back(f.second);
  return out;
}

}  // namespace

double value_at(const Tensor& t, int64_t i) { return element_as_double(t, i); }

std::string leading_values(const Tensor& t, int count) {
  std::string out;
  int64_t n = std::min<int64_t>(t.num_elements(), count);
  for (int64_t i = 0; i < n; ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s%.6g", i ? " " : "", value_at(t, i));
    out += buf;
  }
  if (t.num_elements() > n) out += " ...";
  return out;
}

namespace {

std::string fmt(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// The test_data_set_*/ folders of dir, in name order.
Result<std::vector<fs::path>> test_data_sets(const std::string& dir) {
  std::vector<fs::path> sets;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0) sets.push_back(e.path());
  }
  if (ec) return usage_error("--check: cannot read folder '" + dir + "': " + ec.message());
  if (sets.empty()) return usage_error("--check: no test_data_set_*/ folder in '" + dir + "'");
  std::sort(sets.begin(), sets.end());
  return sets;
}

// input_N.pb files of one set, fed by their tensor's name, or else by position
// onto the inputs without an initializer default (the ONNX test layout).
Result<std::vector<NamedTensor>> read_set_inputs(const Session& session, const fs::path& set, const Options& options) {
  std::vector<ValueId> positional;
  for (ValueId id : session.input_ids()) {
    if (!session.value(id).initializer) positional.push_back(id);
  }
  std::unordered_set<std::string> input_names;
  for (ValueId id : session.input_ids()) input_names.insert(session.value(id).name);
  std::vector<NamedTensor> inputs;
  auto input_files = numbered_files(set, "input");
  for (size_t i = 0; i < input_files.size(); ++i) {
    auto read = read_tensor_file(input_files[i].string());
    if (!read.is_ok()) return read.status().with_context(options.model + ": test input: ");
    TensorFile f = std::move(read).value();
    std::string name = f.name;
    if (!input_names.count(name)) {
      if (i >= positional.size()) return bad_input(input_files[i].string() + ": more input files than model inputs");
      name = session.value(positional[i]).name;
    }
    inputs.push_back({name, std::move(f.tensor)});
  }
  return inputs;
}

// The model output a reference file is for: by the tensor's name, else by position.
Result<size_t> output_index(const std::unordered_map<std::string, size_t>& output_by_name, const TensorFile& ref,
                            size_t position, const fs::path& file, size_t num_outputs) {
  size_t index = position;
  if (auto it = output_by_name.find(ref.name); !ref.name.empty() && it != output_by_name.end()) index = it->second;
  if (index >= num_outputs) return bad_input(file.string() + ": more output files than model outputs");
  return index;
}

// "worst [3] got 1 expected 1.1 abs 0.1 rel 0.09", or what kept the comparison from happening.
std::string comparison_detail(const Comparison& c) {
  if (!c.problem.empty()) return c.problem;
  if (c.worst_index < 0) return "empty";
  std::string detail = "worst [" + std::to_string(c.worst_index) + "] got " + c.got_text + " expected " +
                       c.expected_text + " abs " + fmt(c.abs_err) + " rel " + fmt(c.rel_err);
  if (!c.pass) detail += " (" + std::to_string(c.mismatches) + " elements outside tolerance)";
  return detail;
}

// Runs one set and compares every output_N.pb; adds the set's text and JSON to the report.
Status check_set(Session& session, const fs::path& set, const Options& options, CheckReport& report,
                 JsonArray& set_json) {
  ++report.sets;
  OM_ASSIGN_OR_RETURN(std::vector<NamedTensor> inputs, read_set_inputs(session, set, options));
  std::vector<Tensor> outputs;
  OM_RETURN_IF_ERROR(session.run(inputs, outputs));

  auto output_files = numbered_files(set, "output");
  if (output_files.empty()) return bad_input(set.string() + ": no output_N.pb files");
  std::unordered_map<std::string, size_t> output_by_name;
  for (size_t k = 0; k < session.output_ids().size(); ++k) output_by_name.emplace(session.value(session.output_ids()[k]).name, k);
  bool set_pass = true;
  std::string lines;
  JsonArray outputs_json;
  for (size_t i = 0; i < output_files.size(); ++i) {
    auto read = read_tensor_file(output_files[i].string());
    if (!read.is_ok()) return read.status().with_context(options.model + ": reference output: ");
    TensorFile ref = std::move(read).value();
    OM_ASSIGN_OR_RETURN(size_t index, output_index(output_by_name, ref, i, output_files[i], outputs.size()));
    const std::string& out_name = session.value(session.output_ids()[index]).name;
    OM_ASSIGN_OR_RETURN(Comparison c, compare_tensors(outputs[index], ref.tensor, options.atol, options.rtol));
    set_pass = set_pass && c.pass;
    const std::string detail = comparison_detail(c);
    lines += "    " + printable(out_name) + ": " + describe(outputs[index]) + " " + leading_values(outputs[index], options.print_values) +
             "\n      " + (c.pass ? "ok" : "MISMATCH") + ", " + detail + "\n";
    outputs_json.add_json(JsonObject().add_string("name", out_name).add_bool("pass", c.pass).add_string("detail", detail).str());
  }
  if (set_pass) ++report.passed;
  report.text += std::string(set_pass ? "PASS " : "FAIL ") + set.filename().string() + "\n" + lines;
  set_json.add_json(JsonObject()
                        .add_string("set", set.filename().string())
                        .add_bool("pass", set_pass)
                        .add_json("outputs", outputs_json.str())
                        .str());
  return Status::ok();
}

}  // namespace

Result<CheckReport> run_checks(Session& session, const std::string& dir, const Options& options) {
  OM_ASSIGN_OR_RETURN(std::vector<fs::path> sets, test_data_sets(dir));
  CheckReport report;
  JsonArray set_json;
  for (const fs::path& set : sets) OM_RETURN_IF_ERROR(check_set(session, set, options, report, set_json));
  report.json = set_json.str();
  return report;
}

}  // namespace onnx_mini::onnx_run
