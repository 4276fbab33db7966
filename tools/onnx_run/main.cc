// onnx-run: run an ONNX model, check it against reference outputs, time it.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>

#include "core/atomic_file.h"
#include "core/printable.h"
#include "graph/onnx_writer.h"
#include "graph/passes/expand_fused_ops.h"
#include "graph/passes/pass_manager.h"
#include "ops/registry.h"
#include "runtime/io/output_file_names.h"
#include "runtime/io/tensor_file.h"
#include "runtime/session.h"
#include "onnx_run/check.h"
#include "onnx_run/check_all.h"
#include "onnx_run/check_outputs.h"
#include "onnx_run/inputs.h"
#include "onnx_run/inspect.h"
#include "onnx_run/json.h"
#include "onnx_run/observers.h"
#include "onnx_run/options.h"
#include "onnx_run/run_report.h"
#include "onnx_run/tensor_dumps.h"
#include "onnx_run/timing.h"

namespace onnx_mini::onnx_run {
namespace {

namespace fs = std::filesystem;

// Messages carry names from the model: terminal_safe is the last guard against
// control sequences in them (each name is escaped where it is quoted, too).
int fail(const Status& s, bool json) {
  std::cerr << terminal_safe("onnx-run: error: " + s.message()) << "\n";
  if (json) {
    // A script reading stdout gets an object there too, not an empty stream.
    std::cout << JsonObject()
                     .add_json("error", JsonObject()
                                            .add_int("exit_code", static_cast<int>(s.code()))
                                            .add_string("kind", error_code_name(s.code()))
                                            .add_string("message", s.message())
                                            .str())
                     .str()
              << "\n";
  }
  return static_cast<int>(s.code());
}

bool asks_for_json(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--json") return true;
  }
  return false;
}

void list_ops() {
  std::vector<const OpDef*> defs = default_registry().all();
  for (const OpDef* d : defs) std::cout << d->domain << "\t" << d->op_type << "\t" << d->since_version << "\n";
}

SessionOptions session_options(const Options& o) {
  SessionOptions so;
  so.threads = o.threads;
  so.opt_level = o.opt_level;
  so.max_memory_bytes = o.max_memory;
  so.max_loop_iterations = o.max_loop_iterations;
  if (o.explain) {
    so.explain = [&o](const std::string& line) { (o.json ? std::cerr : std::cout) << terminal_safe("rewrite: " + line) << "\n"; };
  } else if (o.verbose) {
    so.explain = [](const std::string& line) { std::cerr << terminal_safe("onnx-run: pass: " + line) << "\n"; };
  }
  return so;
}

// --verbose: what loading did, on stderr (the report on stdout stays as it is).
void describe_load(const Session& session, const Options& o, double load_ms) {
  const Graph& g = session.graph();
  int64_t initializers = 0, initializer_bytes = 0;
  for (size_t v = 0; v < g.num_values(); ++v) {
    const Value& val = g.value(static_cast<ValueId>(v));
    if (!val.initializer) continue;
    ++initializers;
    initializer_bytes += val.initializer->num_elements() * static_cast<int64_t>(dtype_size(val.initializer->dtype()));
  }
  std::string opsets;
  for (const auto& [domain, version] : g.opset_imports()) opsets += " " + (domain.empty() ? std::string("ai.onnx") : domain) + " " + std::to_string(version);
  std::ostringstream s;
  s << "onnx-run: loaded " << o.model << " in " << load_ms << " ms: IR version " << g.ir_version << ", producer "
    << quote(g.producer_name) << ", opsets" << opsets << "\n";
  s << "onnx-run: graph after the passes (-O" << o.opt_level << "): " << g.num_live_nodes() << " nodes, "
    << session.input_ids().size() << " fed inputs, " << session.output_ids().size() << " outputs, " << initializers
    << " constants held (" << initializer_bytes << " bytes)\n";
  std::cerr << terminal_safe(s.str());
}

// --portable: a copy of the optimized graph with every com.onnx_mini op
// expanded back to standard ONNX ops (the session keeps running its own graph).
Result<Graph> portable_graph(const Session& session, const Options& o, const SessionOptions& so) {
  Graph g = session.graph();
  // The session let go of the weights its packed kernels read; the expansion
  // passes look at constants, so the copy gets them back (the session keeps
  // its packed form).
  restore_released_initializers(g);
  PassContext pc;
  pc.log = so.explain;
  std::vector<std::unique_ptr<Pass>> passes;
  passes.push_back(make_expand_fused_ops());
  OM_RETURN_IF_ERROR(run_passes(g, passes, pc).with_context(o.model + ": --portable: "));
  return g;
}

Status save_optimized(const Session& session, const Options& o, const SessionOptions& so) {
  if (o.portable) {
    OM_ASSIGN_OR_RETURN(Graph g, portable_graph(session, o, so));
    OM_RETURN_IF_ERROR(save_onnx_file(g, o.save_optimized));
  } else {
    OM_RETURN_IF_ERROR(save_onnx_file(session.graph(), o.save_optimized));
  }
  if (!o.json) {
    std::cout << terminal_safe(std::string("saved optimized model") + (o.portable ? " (portable: standard ONNX ops only)" : "") +
                               " to " + o.save_optimized)
              << "\n";
  }
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

// Passes every node to each observer given.
class FanOutObserver final : public RunObserver {
 public:
  explicit FanOutObserver(std::vector<RunObserver*> observers) : observers_(std::move(observers)) {}
  void after_node(const Node& node, const std::vector<const Tensor*>& outputs, double seconds) override {
    for (RunObserver* o : observers_) o->after_node(node, outputs, seconds);
  }

 private:
  std::vector<RunObserver*> observers_;
};

// --stats and --dump-all describe the model's own node outputs, so they come
// from one run of the graph as loaded (after fusion an activation is hidden
// inside its FusedGemm). That session is loaded, run and freed before the
// optimized one is loaded, so the two never hold the weights at the same time;
// the inputs it was fed are the ones the optimized session gets.
Result<std::vector<NamedTensor>> run_as_loaded(const Options& o, const SessionOptions& so, RunReport& report) {
  SessionOptions as_loaded = so;
  as_loaded.opt_level = 0;
  as_loaded.explain = nullptr;
  OM_ASSIGN_OR_RETURN(std::unique_ptr<Session> plain, Session::load(o.model, as_loaded));
  OM_RETURN_IF_ERROR(check_dim_names(*plain, o));
  OM_ASSIGN_OR_RETURN(std::vector<NamedTensor> inputs, prepare_inputs(*plain, o));
  std::vector<RunObserver*> observers;
  if (o.stats) observers.push_back(&report.stats);
  std::optional<DumpObserver> dump;
  if (!o.dump_all.empty()) {
    OM_RETURN_IF_ERROR(make_folder(o.dump_all, "--dump-all"));
    observers.push_back(&dump.emplace(plain->graph(), o.dump_all));
  }
  FanOutObserver fan_out(observers);
  plain->set_observer(&fan_out);
  std::vector<Tensor> ignored;
  OM_RETURN_IF_ERROR(plain->run(inputs, ignored));
  if (dump) {
    OM_RETURN_IF_ERROR(dump->status());
    report.dumped = dump->take_dumped();
  }
  return inputs;
}

// --profile without --repeat: one more run, observed.
Status profile_one_run(Session& session, const std::vector<NamedTensor>& inputs, RunReport& report) {
  session.set_observer(&report.profile);
  Status r = session.run(inputs, report.outputs);
  session.set_observer(nullptr);
  return r;
}

// --profile-file: the trace of the profiled runs, through the atomic writer.
Status write_profile_file(const std::string& path, const ProfileObserver& profile) {
  OM_ASSIGN_OR_RETURN(AtomicFileWriter w, AtomicFileWriter::create(path));
  OM_RETURN_IF_ERROR(w.write(profile.trace_json()));
  return w.commit().with_context("--profile-file: ");
}

// --output-dir: one .npy per output (tensor_dumps.h's naming rule);
// report.output_files says which is which.
Status write_outputs(const Session& session, const std::string& dir, RunReport& report) {
  std::vector<std::string> names;
  std::vector<const Tensor*> tensors;
  for (size_t i = 0; i < report.outputs.size(); ++i) {
    names.push_back(session.value(session.output_ids()[i]).name);
    tensors.push_back(&report.outputs[i]);
  }
  OM_ASSIGN_OR_RETURN(report.output_files, write_tensor_folder(dir, "--output-dir", names, tensors, "output"));
  return Status::ok();
}

// --save-inputs: every input the run is fed, given or generated.
Status save_inputs(const std::vector<NamedTensor>& inputs, const std::string& dir, RunReport& report) {
  std::vector<std::string> names;
  std::vector<const Tensor*> tensors;
  for (const NamedTensor& in : inputs) {
    names.push_back(in.name);
    tensors.push_back(&in.tensor);
  }
  OM_ASSIGN_OR_RETURN(std::vector<std::string> files, write_tensor_folder(dir, "--save-inputs", names, tensors, "input"));
  for (size_t i = 0; i < files.size(); ++i) report.input_files.push_back({names[i], files[i]});
  return Status::ok();
}

// The exit code, or the error that stopped the run.
Result<int> run_tool(const Options& o) {
  if (o.inspect) {
    OM_ASSIGN_OR_RETURN(std::string report, inspect_model(o));
    std::cout << report << "\n";
    return 0;
  }
  const SessionOptions so = session_options(o);
  if (!o.check_all.empty()) return check_all(o, so);
  RunReport report;
  report.profile.record_trace(!o.profile_file.empty());
  std::optional<std::vector<NamedTensor>> inputs_as_loaded;
  if (o.stats || !o.dump_all.empty()) {
    OM_ASSIGN_OR_RETURN(inputs_as_loaded, run_as_loaded(o, so, report));
  }
  const auto load_start = std::chrono::steady_clock::now();
  OM_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::load(o.model, so));
  // Read, parse, validate, optimize, plan and prepare kernels (weights packed):
  // everything before the first run.
  report.load_ms = ms_since(load_start);
  if (o.verbose) describe_load(*session, o, report.load_ms);
  OM_RETURN_IF_ERROR(check_dim_names(*session, o));
  if (!o.save_optimized.empty()) OM_RETURN_IF_ERROR(save_optimized(*session, o, so));
  if (o.check) return check_and_report(*session, o);
  std::vector<NamedTensor> inputs;
  if (inputs_as_loaded) {
    inputs = std::move(*inputs_as_loaded);
  } else {
    OM_ASSIGN_OR_RETURN(inputs, prepare_inputs(*session, o));
  }
  if (!o.save_inputs.empty()) OM_RETURN_IF_ERROR(save_inputs(inputs, o.save_inputs, report));
  OM_RETURN_IF_ERROR(session->run(inputs, report.outputs));
  if (o.repeat > 0) {
    OM_ASSIGN_OR_RETURN(report.latency, time_runs(*session, inputs, o, report.outputs, o.profile ? &report.profile : nullptr));
  } else if (o.profile) {
    OM_RETURN_IF_ERROR(profile_one_run(*session, inputs, report));
  }
  if (!o.profile_file.empty()) OM_RETURN_IF_ERROR(write_profile_file(o.profile_file, report.profile));
  if (!o.output_dir.empty()) OM_RETURN_IF_ERROR(write_outputs(*session, o.output_dir, report));
  if (!o.check_outputs.empty()) {
    OM_ASSIGN_OR_RETURN(report.check, check_outputs(*session, report.outputs, o));
  }
  if (o.json) {
    print_json_report(*session, o, report);
  } else {
    print_text_report(*session, o, report);
  }
  // The shell's convention for a run ended by Ctrl-C, after its partial report.
  if (report.latency.interrupted) return 128 + SIGINT;
  return report.check && !report.check->pass() ? static_cast<int>(ErrorCode::kCheckMismatch) : 0;
}

}  // namespace
}  // namespace onnx_mini::onnx_run

int main(int argc, char** argv) {
  using namespace onnx_mini::onnx_run;
  // A SIGINT/SIGTERM/SIGHUP during --output-dir or --save-optimized leaves no temporary.
  onnx_mini::remove_temporaries_on_signals();
  auto options = parse_options(argc, argv);
  if (!options.is_ok()) return fail(options.status(), asks_for_json(argc, argv));
  if (options->help) {
    std::cout << usage_text();
    return 0;
  }
  if (options->version) {
    std::cout << "onnx-run (onnx-mini " ONNX_MINI_VERSION ")\n";
    return 0;
  }
  if (options->list_ops) {
    list_ops();
    return 0;
  }
  try {
    auto code = run_tool(options.value());
    return code.is_ok() ? code.value() : fail(code.status(), options->json);
  } catch (const std::bad_alloc&) {
    return fail(onnx_mini::resource_limit("out of memory"), options->json);
  }
}
