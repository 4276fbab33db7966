// onnx-run MODEL --inspect: what a model is, without running it (what people
// open Netron or `polygraphy inspect model` for). From the file itself:
// producer, IR version, opsets, inputs and outputs with dtypes and (symbolic)
// shapes, initializer count and bytes, parameters, op-type histogram. From the
// loaded graph, when onnx-mini supports it: estimated FLOPs per run at the
// --dim values (default 1), and what the passes (-O1) would rewrite. Nodes
// onnx-mini cannot run are listed instead of failing the inspection.
#pragma once

#include <string>

#include "core/status.h"
#include "onnx_run/options.h"

namespace onnx_mini::onnx_run {

// The report, text or (options.json) one JSON object; errors only for a file
// that is not a readable ONNX model.
Result<std::string> inspect_model(const Options& options);

}  // namespace onnx_mini::onnx_run
