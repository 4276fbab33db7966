// onnx-run: run an ONNX model, check it against reference outputs, time it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "graph/onnx_writer.h"
#include "ops/registry.h"
#include "runtime/io/tensor_file.h"
#include "runtime/session.h"
#include "onnx_run/check.h"
#include "onnx_run/inputs.h"
#include "onnx_run/json.h"
#include "onnx_run/observers.h"
#include "onnx_run/options.h"

namespace onnx_mini::onnx_run {
namespace {

int fail(const Status& s) {
  std::cerr << "onnx-run: error: " << s.message() << "\n";
  return static_cast<int>(s.code());
}

std::string json_values(const Tensor& t, int count) {
  std::string out = "[";
  int64_t n = std::min<int64_t>(t.num_elements(), count);
  for (int64_t i = 0; i < n; ++i) {
    double v = 0;
    dispatch_dtype(t.dtype(), [&](auto tag) { v = static_cast<double>(t.data<decltype(tag)>()[i]); });
    out += (i ? ", " : "") + json_number(v);
  }
  return out + "]";
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

int run_tool(const Options& o) {
  SessionOptions so;
  so.threads = o.threads;
  so.opt_level = o.opt_level;
  so.max_memory_bytes = o.max_memory;
  if (o.explain) so.explain = [&o](const std::string& line) { (o.json ? std::cerr : std::cout) << "rewrite: " << line << "\n"; };
  const auto load_start = std::chrono::steady_clock::now();
  auto loaded = Session::load(o.model, so);
  if (!loaded.is_ok()) return fail(loaded.status());
  // Read, parse, validate, optimize, plan and prepare kernels (weights packed):
  // everything before the first run.
  const double load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - load_start).count();
  Session& session = *loaded.value();

  if (!o.save_optimized.empty()) {
    Status s = save_onnx_file(session.graph(), o.save_optimized);
    if (!s.is_ok()) return fail(s);
    if (!o.json) std::cout << "saved optimized model to " << o.save_optimized << "\n";
  }

  std::string json = "{\"model\": " + json_string(o.model);
  if (o.check) {
    std::string dir = o.check_dir;
    if (dir.empty()) dir = std::filesystem::path(o.model).parent_path().string();
    if (dir.empty()) dir = ".";
    auto report = run_checks(session, dir, o);
    if (!report.is_ok()) return fail(report.status());
    bool all = report->passed == report->sets;
    if (o.json) {
      std::cout << json << ", \"check\": " << report->json << ", \"passed\": " << report->passed
                << ", \"sets\": " << report->sets << "}\n";
    } else {
      std::cout << report->text << (all ? "PASS" : "FAIL") << ": " << report->passed << " of " << report->sets
                << " test data sets match (atol " << o.atol << ", rtol " << o.rtol << ")\n";
    }
    return all ? 0 : static_cast<int>(ErrorCode::kCheckMismatch);
  }

  auto inputs = prepare_inputs(session, o);
  if (!inputs.is_ok()) return fail(inputs.status());
  StatsObserver stats;
  if (o.stats) {
    // Stats describe the model's own node outputs, so they come from the graph as
    // loaded (after fusion an activation would be hidden inside its FusedGemm).
    SessionOptions as_loaded = so;
    as_loaded.opt_level = 0;
    as_loaded.explain = nullptr;
    auto plain = Session::load(o.model, as_loaded);
    if (!plain.is_ok()) return fail(plain.status());
    plain.value()->set_observer(&stats);
    std::vector<Tensor> ignored;
    Status st = plain.value()->run(inputs.value(), ignored);
    if (!st.is_ok()) return fail(st);
  }
  std::vector<Tensor> outputs;
  Status s = session.run(inputs.value(), outputs);
  if (!s.is_ok()) return fail(s);

  ProfileObserver profile;
  Latency latency;
  if (o.repeat > 0) {
    // Warm-up: at least 3 runs and kWarmUp of wall time. Caches and page faults
    // settle within a run or two; the time bound is for threads: OpenBLAS's
    // workers spin for ~0.1 s after they start (OPENBLAS_THREAD_TIMEOUT, 2^28
    // cycles) and, while they do, the scheduler may seat the runtime's worker on
    // the main thread's CPU, which makes the first runs at --threads 2 as slow
    // as one thread. A long-running process never sees that window.
    constexpr auto kWarmUp = std::chrono::milliseconds(250);
    const auto warm_until = std::chrono::steady_clock::now() + kWarmUp;
    for (int i = 0; i < 3 || std::chrono::steady_clock::now() < warm_until; ++i) {
      Status w = session.run(inputs.value(), outputs);
      if (!w.is_ok()) return fail(w);
    }
    if (o.profile) session.set_observer(&profile);
    std::vector<double> ms;
    ms.reserve(static_cast<size_t>(o.repeat));
    for (int i = 0; i < o.repeat; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      Status r = session.run(inputs.value(), outputs);
      auto t1 = std::chrono::steady_clock::now();
      if (!r.is_ok()) return fail(r);
      ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    session.set_observer(nullptr);
    latency = summarize(ms);
  } else if (o.profile) {
    session.set_observer(&profile);
    Status r = session.run(inputs.value(), outputs);
    if (!r.is_ok()) return fail(r);
    session.set_observer(nullptr);
  }

  if (!o.output_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o.output_dir, ec);
    for (size_t i = 0; i < outputs.size(); ++i) {
      std::string name = session.value(session.output_ids()[i]).name;
      std::replace(name.begin(), name.end(), '/', '_');
      Status w = write_npy(o.output_dir + "/" + name + ".npy", outputs[i]);
      if (!w.is_ok()) return fail(w);
    }
  }

  if (o.json) {
    json += ", \"outputs\": [";
    for (size_t i = 0; i < outputs.size(); ++i) {
      const Tensor& t = outputs[i];
      std::string shape = "[";
      for (size_t d = 0; d < t.shape().size(); ++d) shape += (d ? ", " : "") + std::to_string(t.shape()[d]);
      json += std::string(i ? ", " : "") + "{\"name\": " + json_string(session.value(session.output_ids()[i]).name) +
              ", \"dtype\": " + json_string(dtype_name(t.dtype())) + ", \"shape\": " + shape +
              "], \"values\": " + json_values(t, o.print_values) + "}";
    }
    json += "]";
    json += ", \"load_ms\": " + json_number(load_ms);
    if (o.repeat > 0) {
      json += ", \"median_ms\": " + json_number(latency.median_ms) + ", \"p10_ms\": " + json_number(latency.p10_ms) +
              ", \"p90_ms\": " + json_number(latency.p90_ms) + ", \"runs\": " + std::to_string(latency.runs);
    }
    if (o.profile) json += ", \"profile\": " + profile.json();
    if (o.stats) json += ", \"stats\": " + stats.json();
    std::cout << json << "}\n";
    return 0;
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& t = outputs[i];
    std::cout << session.value(session.output_ids()[i]).name << ": " << describe(t) << " "
              << leading_values(t, o.print_values) << "\n";
  }
  if (o.stats) std::cout << "\nstats (one run of the graph as loaded, -O0):\n" << stats.table();
  if (o.profile) std::cout << "\nprofile" << (o.repeat > 0 ? " (timed runs)" : " (one run)") << ":\n" << profile.table();
  if (o.repeat > 0) {
    std::printf("load (read, validate, optimize, plan, prepare kernels): %.1f ms\n", load_ms);
    std::printf("latency over %d runs: median %.4f ms, p10 %.4f ms, p90 %.4f ms\n", latency.runs, latency.median_ms,
                latency.p10_ms, latency.p90_ms);
  }
  return 0;
}

}  // namespace
}  // namespace onnx_mini::onnx_run

int main(int argc, char** argv) {
  using namespace onnx_mini::onnx_run;
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
    return run_tool(options.value());
  } catch (const std::bad_alloc&) {
    std::cerr << "onnx-run: error: out of memory\n";
    return static_cast<int>(onnx_mini::ErrorCode::kResourceLimit);
  }
}
