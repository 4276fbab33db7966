// onnx-run: run an ONNX model, check it against reference outputs, time it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "core/atomic_file.h"
#include "core/printable.h"
#include "graph/onnx_writer.h"
#include "ops/registry.h"
#include "runtime/io/output_file_names.h"
#include "runtime/io/tensor_file.h"
#include "runtime/session.h"
#include "onnx_run/check.h"
#include "onnx_run/inputs.h"
#include "onnx_run/json.h"
#include "onnx_run/observers.h"
#include "onnx_run/options.h"

namespace onnx_mini::onnx_run {
namespace {

namespace fs = std::filesystem;

// Messages carry names from the model: terminal_safe is the last guard against
// control sequences in them (each name is escaped where it is quoted, too).
int fail(const Status& s) {
  std::cerr << terminal_safe("onnx-run: error: " + s.message()) << "\n";
  return static_cast<int>(s.code());
}

void list_ops() {
  std::vector<const OpDef*> defs = default_registry().all();
  for (const OpDef* d : defs) std::cout << d->domain << "\t" << d->op_type << "\t" << d->since_version << "\n";
}

struct Latency {
  double median_ms = 0, p10_ms = 0, p90_ms = 0;
  int runs = 0;
};

Latency summarize(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) { return ms[static_cast<size_t>(q * static_cast<double>(ms.size() - 1) + 0.5)]; };
  return Latency{at(0.5), at(0.1), at(0.9), static_cast<int>(ms.size())};
}

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// What a run (not --check) found, for the report.
struct RunReport {
  double load_ms = 0;
  std::vector<Tensor> outputs;
  std::vector<std::string> output_files;  // --output-dir: the file of each output
  StatsObserver stats;
  ProfileObserver profile;
  Latency latency;
};

SessionOptions session_options(const Options& o) {
  SessionOptions so;
  so.threads = o.threads;
  so.opt_level = o.opt_level;
  so.max_memory_bytes = o.max_memory;
  if (o.explain) {
    so.explain = [&o](const std::string& line) { (o.json ? std::cerr : std::cout) << terminal_safe("rewrite: " + line) << "\n"; };
  }
  return so;
}

Status save_optimized(const Session& session, const Options& o) {
  OM_RETURN_IF_ERROR(save_onnx_file(session.graph(), o.save_optimized));
  if (!o.json) std::cout << terminal_safe("saved optimized model to " + o.save_optimized) << "\n";
  return Status::ok();
}

// --check: runs every test_data_set_*/ folder; the exit code says whether all matched.
Result<int> check_and_report(Session& session, const Options& o) {
  std::string dir = o.check_dir;
  if (dir.empty()) dir = std::filesystem::path(o.model).parent_path().string();
  if (dir.empty()) dir = ".";
  OM_ASSIGN_OR_RETURN(CheckReport report, run_checks(session, dir, o));
  const bool all = report.passed == report.sets;
  if (o.json) {
    JsonObject json;
    json.add_string("model", o.model).add_json("check", report.json).add_int("passed", report.passed).add_int("sets", report.sets);
    std::cout << json.str() << "\n";
  } else {
    std::ostringstream summary;
    summary << (all ? "PASS" : "FAIL") << ": " << report.passed << " of " << report.sets << " test data sets match (atol "
            << o.atol << ", rtol " << o.rtol << ")\n";
    std::cout << terminal_safe(report.text + summary.str());
  }
  return all ? 0 : static_cast<int>(ErrorCode::kCheckMismatch);
}

// Stats describe the model's own node outputs, so they come from the graph as
// loaded (after fusion an activation would be hidden inside its FusedGemm).
Status collect_stats(const Options& o, const SessionOptions& so, const std::vector<NamedTensor>& inputs, StatsObserver& stats) {
  SessionOptions as_loaded = so;
  as_loaded.opt_level = 0;
  as_loaded.explain = nullptr;
  OM_ASSIGN_OR_RETURN(std::unique_ptr<Session> plain, Session::load(o.model, as_loaded));
  plain->set_observer(&stats);
  std::vector<Tensor> ignored;
  return plain->run(inputs, ignored);
}

// Warm-up: at least 3 runs and kWarmUp of wall time. Caches and page faults
// settle within a run or two; the time bound is for threads: OpenBLAS's workers
// spin for ~0.1 s after they start (OPENBLAS_THREAD_TIMEOUT, 2^28 cycles) and,
// while they do, the scheduler may seat the runtime's worker on the main
// thread's CPU, which makes the first runs at --threads 2 as slow as one thread.
// A long-running process never sees that window.
Status warm_up(Session& session, const std::vector<NamedTensor>& inputs, std::vector<Tensor>& outputs) {
  constexpr auto kWarmUp = std::chrono::milliseconds(250);
  const auto warm_until = std::chrono::steady_clock::now() + kWarmUp;
  for (int i = 0; i < 3 || std::chrono::steady_clock::now() < warm_until; ++i) {
    OM_RETURN_IF_ERROR(session.run(inputs, outputs));
  }
  return Status::ok();
}

// --repeat N: N timed runs after the warm-up (profiled with --profile).
Status time_runs(Session& session, const std::vector<NamedTensor>& inputs, const Options& o, RunReport& report) {
  OM_RETURN_IF_ERROR(warm_up(session, inputs, report.outputs));
  if (o.profile) session.set_observer(&report.profile);
  std::vector<double> ms;
  ms.reserve(static_cast<size_t>(o.repeat));
  for (int i = 0; i < o.repeat; ++i) {
    const auto start = std::chrono::steady_clock::now();
    OM_RETURN_IF_ERROR(session.run(inputs, report.outputs));
    ms.push_back(ms_since(start));
  }
  session.set_observer(nullptr);
  report.latency = summarize(ms);
  return Status::ok();
}

// --profile without --repeat: one more run, observed.
Status profile_one_run(Session& session, const std::vector<NamedTensor>& inputs, RunReport& report) {
  session.set_observer(&report.profile);
  Status r = session.run(inputs, report.outputs);
  session.set_observer(nullptr);
  return r;
}

// The folder --output-dir names, created when absent.
Status make_output_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!ec && !fs::is_directory(dir, ec)) ec = std::make_error_code(std::errc::file_exists);
  if (!ec) return Status::ok();
  return Status(write_error_code(ec.value()), "--output-dir '" + dir + "': cannot create the folder: " + ec.message());
}

// --output-dir: one .npy per output, named by unique_file_names (sanitised,
// numbered on collisions); report.output_files says which is which.
Status write_outputs(const Session& session, const std::string& dir, RunReport& report) {
  OM_RETURN_IF_ERROR(make_output_dir(dir));
  std::vector<std::string> names;
  for (ValueId id : session.output_ids()) names.push_back(session.value(id).name);
  report.output_files.clear();
  for (const std::string& file : unique_file_names(names, ".npy")) report.output_files.push_back(dir + "/" + file);
  for (size_t i = 0; i < report.outputs.size(); ++i) {
    OM_RETURN_IF_ERROR(write_npy(report.output_files[i], report.outputs[i]).with_context("output " + quote(names[i]) + ": "));
  }
  return Status::ok();
}

std::string json_values(const Tensor& t, int count) {
  JsonArray values;
  const int64_t n = std::min<int64_t>(t.num_elements(), count);
  for (int64_t i = 0; i < n; ++i) values.add_number(value_at(t, i));
  return values.str();
}

std::string json_output(const std::string& name, const Tensor& t, const std::string& file, int print_values) {
  JsonArray shape;
  for (int64_t d : t.shape()) shape.add_int(d);
  JsonObject out;
  out.add_string("name", name).add_string("dtype", dtype_name(t.dtype())).add_json("shape", shape.str());
  if (!file.empty()) out.add_string("file", file);
  out.add_json("values", json_values(t, print_values));
  return out.str();
}

void print_json_report(const Session& session, const Options& o, const RunReport& report) {
  JsonArray outputs;
  for (size_t i = 0; i < report.outputs.size(); ++i) {
    const std::string file = i < report.output_files.size() ? report.output_files[i] : "";
    outputs.add_json(json_output(session.value(session.output_ids()[i]).name, report.outputs[i], file, o.print_values));
  }
  JsonObject json;
  json.add_string("model", o.model).add_json("outputs", outputs.str()).add_number("load_ms", report.load_ms);
  if (o.repeat > 0) {
    json.add_number("median_ms", report.latency.median_ms).add_number("p10_ms", report.latency.p10_ms);
    json.add_number("p90_ms", report.latency.p90_ms).add_int("runs", report.latency.runs);
  }
  if (o.profile) json.add_json("profile", report.profile.json());
  if (o.stats) json.add_json("stats", report.stats.json());
  std::cout << json.str() << "\n";
}

void print_text_report(const Session& session, const Options& o, const RunReport& report) {
  std::string text;
  for (size_t i = 0; i < report.outputs.size(); ++i) {
    const Tensor& t = report.outputs[i];
    text += printable(session.value(session.output_ids()[i]).name) + ": " + describe(t) + " " +
            leading_values(t, o.print_values) + "\n";
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
    std::snprintf(buf, sizeof buf, "latency over %d runs: median %.4f ms, p10 %.4f ms, p90 %.4f ms\n", report.latency.runs,
                  report.latency.median_ms, report.latency.p10_ms, report.latency.p90_ms);
    text += buf;
  }
  std::cout << terminal_safe(text);
}

// The exit code, or the error that stopped the run.
Result<int> run_tool(const Options& o) {
  const SessionOptions so = session_options(o);
  RunReport report;
  const auto load_start = std::chrono::steady_clock::now();
  OM_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::load(o.model, so));
  // Read, parse, validate, optimize, plan and prepare kernels (weights packed):
  // everything before the first run.
  report.load_ms = ms_since(load_start);
  if (!o.save_optimized.empty()) OM_RETURN_IF_ERROR(save_optimized(*session, o));
  if (o.check) return check_and_report(*session, o);
  OM_ASSIGN_OR_RETURN(std::vector<NamedTensor> inputs, prepare_inputs(*session, o));
  if (o.stats) OM_RETURN_IF_ERROR(collect_stats(o, so, inputs, report.stats));
  OM_RETURN_IF_ERROR(session->run(inputs, report.outputs));
  if (o.repeat > 0) {
    OM_RETURN_IF_ERROR(time_runs(*session, inputs, o, report));
  } else if (o.profile) {
    OM_RETURN_IF_ERROR(profile_one_run(*session, inputs, report));
  }
  if (!o.output_dir.empty()) OM_RETURN_IF_ERROR(write_outputs(*session, o.output_dir, report));
  if (o.json) {
    print_json_report(*session, o, report);
  } else {
    print_text_report(*session, o, report);
  }
  return 0;
}

}  // namespace
}  // namespace onnx_mini::onnx_run

int main(int argc, char** argv) {
  using namespace onnx_mini::onnx_run;
  // A SIGINT/SIGTERM/SIGHUP during --output-dir or --save-optimized leaves no temporary.
  onnx_mini::remove_temporaries_on_signals();
  auto options = parse_options(argc, argv);
  if (!options.is_ok()) {
    std::cerr << "onnx-run: " << options.status().message() << "\n";
    return static_cast<int>(onnx_mini::ErrorCode::kUsage);
  }
  if (options->help) {
    std::cout << usage_text();
    return 0;
  }
  if (options->list_ops) {
    list_ops();
    return 0;
  }
  try {
    auto code = run_tool(options.value());
    return code.is_ok() ? code.value() : fail(code.status());
  } catch (const std::bad_alloc&) {
    std::cerr << "onnx-run: error: out of memory\n";
    return static_cast<int>(onnx_mini::ErrorCode::kResourceLimit);
  }
}
