// Inputs for a run: read from files (--input) or generated from a seed.
#pragma once

#include <vector>

#include "runtime/session.h"
#include "onnx_run/options.h"

namespace onnx_mini::onnx_run {

// Every input the caller must feed: from --input files, else generated.
// Inputs with an initializer default are left to the default unless given.
Result<std::vector<NamedTensor>> prepare_inputs(const Session& session, const Options& options);

// Every --dim names a symbolic dim of a model input; a usage error lists the
// model's symbolic dims otherwise.
Status check_dim_names(const Session& session, const Options& options);

// Seeded values independent of the platform's <random> distributions:
// float uniform in [-1, 1), integers 0, bools a fair coin.
Tensor generate_tensor(DataType dtype, const Shape& shape, uint64_t seed);

}  // namespace onnx_mini::onnx_run
