#include "onnx_init/cli.h"

#include <map>
#include <optional>
#include <ostream>
#include <set>

#include "core/printable.h"
#include "onnx_init/mlp_builder.h"
#include "onnx_init/model_file.h"
#include "onnx_init/parse_util.h"
#include "onnx_init/reinit.h"

namespace onnx_mini::init {

namespace {

constexpr const char* kUsage = R"(usage:
  onnx-init mlp --layers N0,N1,...,Nk -o OUT.onnx [options]
  onnx-init reinit IN.onnx -o OUT.onnx [--init SCHEME] [--match PATTERN] [--bias BIAS] [--seed N]

Create a multi-layer perceptron, or re-draw the weights of an existing model, with
torch.nn.init's schemes. The same --seed gives a byte-identical file.

mlp options:
  --layers N0,...,Nk     widths: input, hidden..., output (each >= 1)
  --activation ACT       between hidden layers (default relu): identity, relu, leaky_relu[:ALPHA],
                         sigmoid, tanh, elu[:ALPHA], selu, celu[:ALPHA], softplus, softsign, gelu,
                         hardsigmoid[:ALPHA,BETA] (PyTorch's 1/6,0.5), hardswish, mish
  --head H               none (default), softmax, log_softmax, sigmoid
  --loss L               cross_entropy (head none), nll (head log_softmax), mse, l1,
                         bce (head sigmoid), bce_with_logits (head none); adds input
                         'labels' (int64 [batch]) or 'targets' (float [batch, Nk]) and output 'loss'
  --reduction R          mean (default), sum, none
  --layer-type T         gemm (default; Gemm transB=1, weight [out,in]) or matmul (MatMul weight [in,out] + Add)
  --opset N              7..17 (default 13)
common options:
  --init SCHEME          weights (default: nn.Linear's, kaiming_uniform:2.23606797749979,fan_in,leaky_relu)
                         zeros | ones | constant:VAL | normal:MEAN,STD | uniform:A,B |
                         xavier_normal[:GAIN] | xavier_uniform[:GAIN] |
                         kaiming_normal[:A,MODE,NONLINEARITY] | kaiming_uniform[:A,MODE,NONLINEARITY]
                         MODE fan_in|fan_out; NONLINEARITY linear, sigmoid, tanh, relu, leaky_relu, selu, ...
  --bias BIAS            default (nn.Linear's uniform(+-1/sqrt(fan_in))), keep (reinit only), or a scheme
  --seed N               unsigned 64-bit seed (default 0)
  --match PATTERN        reinit: only initializers whose name contains a match of PATTERN, a
                         regular expression (ECMAScript's core: . [] [^] \d \w \s ^ $ () (?:) | * + ?
                         {m,n}; no back-references or lookaround), run in time linear in the name
  -o, --output PATH      where to write the model (written to a temporary file, then renamed; a
                         symbolic link, device or folder at PATH is refused)
)";

// Options after the subcommand: "--name value" or "--name=value", each at most once.
struct ParsedArgs {
  std::map<std::string, std::string> options;
  std::vector<std::string> positional;
};

Result<ParsedArgs> parse_args(const std::vector<std::string>& args, const std::set<std::string>& known) {
  ParsedArgs parsed;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg.empty() || arg[0] != '-' || arg == "-") {
      parsed.positional.push_back(arg);
      continue;
    }
    std::optional<std::string> value;
    if (const size_t eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    if (arg == "-o") arg = "--output";
    if (!known.count(arg)) return usage_error("unknown option '" + arg + "' for " + args[0]);
    if (!value) {
      if (i + 1 >= args.size()) return usage_error("option " + arg + " needs a value");
      value = args[++i];
    }
    if (!parsed.options.emplace(arg, *value).second) return usage_error("option " + arg + " given twice");
  }
  return parsed;
}

std::optional<std::string> get(const ParsedArgs& p, const std::string& name) {
  const auto it = p.options.find(name);
  if (it == p.options.end()) return std::nullopt;
  return it->second;
}

// The recipe part of the command line: everything but the output path, which names
// where the model went, not how it was made (and would make same-seed files differ).
std::string recipe_command(const std::vector<std::string>& args) {
  std::string text = "onnx-init";
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "-o" || args[i] == "--output") {
      ++i;
      continue;
    }
    if (args[i].rfind("--output=", 0) == 0 || args[i].rfind("-o=", 0) == 0) continue;
    const bool plain = args[i].find_first_of(" \t'\"\\$`") == std::string::npos && !args[i].empty();
    text += " " + (plain ? args[i] : "'" + args[i] + "'");
  }
  return text;
}

// Stores a parsed value into `field`, or passes the parse error on.
template <typename T>
Status assign(Result<T> parsed, T& field) {
  if (!parsed.is_ok()) return parsed.status();
  field = std::move(parsed).value();
  return Status::ok();
}

Status parse_common(const ParsedArgs& p, InitScheme& weight_init, BiasInit& bias_init, uint64_t& seed) {
  if (auto v = get(p, "--init")) OM_RETURN_IF_ERROR(assign(parse_init_scheme(*v), weight_init));
  if (auto v = get(p, "--bias")) OM_RETURN_IF_ERROR(assign(parse_bias_init(*v), bias_init));
  if (auto v = get(p, "--seed")) OM_RETURN_IF_ERROR(assign(parse_uint64(*v, "--seed"), seed));
  return Status::ok();
}

Status run_mlp(const std::vector<std::string>& args, std::ostream& out) {
  OM_ASSIGN_OR_RETURN(const ParsedArgs p,
                      parse_args(args, {"--layers", "--activation", "--head", "--loss", "--reduction",
                                        "--layer-type", "--opset", "--init", "--bias", "--seed", "--output"}));
  if (!p.positional.empty()) return usage_error("mlp takes no positional argument, got '" + p.positional[0] + "'");
  const auto output = get(p, "--output");
  const auto layers = get(p, "--layers");
  if (!layers) return usage_error("mlp needs --layers, e.g. --layers 784,128,10");
  if (!output) return usage_error("mlp needs -o OUT.onnx");

  MlpOptions o;
  for (const auto& width : split(*layers, ',')) {
    OM_ASSIGN_OR_RETURN(const int64_t w, parse_int64(width, "--layers width"));
    o.layers.push_back(w);
  }
  if (auto v = get(p, "--activation")) OM_RETURN_IF_ERROR(assign(parse_activation(*v), o.activation));
  if (auto v = get(p, "--head")) OM_RETURN_IF_ERROR(assign(parse_head(*v), o.head));
  if (auto v = get(p, "--loss")) OM_RETURN_IF_ERROR(assign(parse_loss(*v), o.loss));
  if (auto v = get(p, "--reduction")) {
    if (o.loss == Loss::kNone) return usage_error("--reduction applies to a loss: add --loss");
    OM_RETURN_IF_ERROR(assign(parse_reduction(*v), o.reduction));
  }
  if (auto v = get(p, "--layer-type")) OM_RETURN_IF_ERROR(assign(parse_layer_type(*v), o.layer_type));
  if (auto v = get(p, "--opset")) {
    int64_t opset = 0;
    OM_RETURN_IF_ERROR(assign(parse_int64(*v, "--opset"), opset));
    if (opset < kMinOpset || opset > kMaxOpset) {
      return usage_error("--opset " + *v + " is outside the supported range " + std::to_string(kMinOpset) + ".." +
                         std::to_string(kMaxOpset));
    }
    o.opset = static_cast<int>(opset);
  }
  OM_RETURN_IF_ERROR(parse_common(p, o.weight_init, o.bias_init, o.seed));
  o.command_line = recipe_command(args);
  OM_ASSIGN_OR_RETURN(const onnx::ModelProto model, build_mlp(o));
  OM_RETURN_IF_ERROR(write_model_file_atomically(model, *output));
  out << terminal_safe("wrote " + *output) << " (" << o.layers.size() - 1 << " layers, opset " << o.opset << ", weights "
      << to_string(o.weight_init) << ", seed " << o.seed << ")\n";
  return Status::ok();
}

Status run_reinit(const std::vector<std::string>& args, std::ostream& out) {
  OM_ASSIGN_OR_RETURN(const ParsedArgs p, parse_args(args, {"--init", "--bias", "--seed", "--match", "--output"}));
  if (p.positional.size() != 1) return usage_error("reinit needs exactly one input model: reinit IN.onnx -o OUT.onnx");
  const auto output = get(p, "--output");
  if (!output) return usage_error("reinit needs -o OUT.onnx");

  ReinitOptions o;
  o.weight_init = torch_linear_weight_default();
  OM_RETURN_IF_ERROR(parse_common(p, o.weight_init, o.bias_init, o.seed));
  o.match = get(p, "--match");
  o.command_line = recipe_command(args);
  OM_ASSIGN_OR_RETURN(onnx::ModelProto model, read_model_file(p.positional[0]));
  OM_ASSIGN_OR_RETURN(const ReinitReport report, reinit_model(model, o));
  OM_RETURN_IF_ERROR(write_model_file_atomically(model, *output));
  // Report lines quote names from the model (escaped where they are built).
  for (const auto& line : report.changed) out << terminal_safe("re-initialized " + line) << "\n";
  for (const auto& line : report.unchanged) out << terminal_safe("kept " + line) << "\n";
  out << terminal_safe("wrote " + *output) << "\n";
  return Status::ok();
}

}  // namespace

int run_onnx_init(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    err << kUsage;
    return static_cast<int>(ErrorCode::kUsage);
  }
  const std::string& command = args[0];
  if (command == "--help" || command == "-h" || command == "help") {
    out << kUsage;
    return 0;
  }
  if (command == "--version") {
    out << kToolVersion << "\n";
    return 0;
  }
  for (const auto& arg : args) {
    if (arg == "--help" || arg == "-h") {
      out << kUsage;
      return 0;
    }
  }
  Status status;
  if (command == "mlp") {
    status = run_mlp(args, out);
  } else if (command == "reinit") {
    status = run_reinit(args, out);
  } else {
    status = usage_error("unknown command '" + command + "' (choose mlp or reinit; --help for usage)");
  }
  if (status.is_ok()) return 0;
  // Messages quote names from the input model: terminal_safe is the last guard.
  err << terminal_safe("onnx-init: error: " + status.message()) << "\n";
  return static_cast<int>(status.code());
}

}  // namespace onnx_mini::init
