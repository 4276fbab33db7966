// onnx-run --check-all DIR: onnx_test_runner's workflow. Every DIR/*/ folder
// holding a model.onnx is a case: loaded, then checked against its own
// test_data_set_*/ folders as --check does. One line per case, then
// "N passed, N failed". A case that cannot load or run counts as failed, with
// the reason on its line; the other cases still run.
#pragma once

#include "core/status.h"
#include "runtime/session.h"
#include "onnx_run/options.h"

namespace onnx_mini::onnx_run {

// The exit code: 0 when every case passed, 1 (check mismatch) otherwise; an
// error only when DIR cannot be read or holds no case.
Result<int> check_all(const Options& options, const SessionOptions& session_options);

}  // namespace onnx_mini::onnx_run
