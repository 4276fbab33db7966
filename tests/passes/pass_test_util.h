// The pass-test helpers moved to tests/testutil/graph_builder.h. This forwarding
// header keeps fused_gemm_kernel_test.cc building until it moves to tests/ops/.
#pragma once

#include "tests/testutil/graph_builder.h"
