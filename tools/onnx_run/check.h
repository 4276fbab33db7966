// --check: runs the test_data_set_*/ folders of the ONNX node-test layout.
#pragma once

#include <string>

#include "runtime/session.h"
#include "onnx_run/json.h"
#include "onnx_run/options.h"

namespace onnx_mini::onnx_run {

struct CheckReport {
  int sets = 0, passed = 0;
  std::string text;  // human-readable lines
  std::string json;  // JSON array of per-set results
};

// Element i of a tensor of any dtype, as a double.
double value_at(const Tensor& t, int64_t i);

// "0.1 0.2 0.3 ..." : the first `count` values of a tensor.
std::string leading_values(const Tensor& t, int count);

// Where a reference came from, for the report.
struct CheckedOutput {
  std::string reference;  // its file (and member)
  int64_t elements = 0;   // filled in by check_one_output
};

// Compares one output with its reference; appends its text lines and JSON
// object (structured fields: worst_index, got, expected, abs_err, rel_err,
// mismatches, or problem). Returns whether it passed.
Result<bool> check_one_output(const std::string& name, const Tensor& got, const Tensor& expected, const CheckedOutput& where,
                              const Options& options, std::string& lines, JsonArray& outputs_json);

// Errors are for unreadable data (exit 5) or a failed run; mismatches are in the report.
Result<CheckReport> run_checks(Session& session, const std::string& dir, const Options& options);

}  // namespace onnx_mini::onnx_run
