// Einsum's equation, parsed once at load, and the plan it is lowered to.
//
// Equation: comma-separated operand terms, then optionally "->" and the output
// term. A term is letters (a-z, A-Z) and at most one "...". Spaces are ignored.
// - A letter repeated in one operand takes that operand's diagonal ("ii->i").
// - A letter absent from the output is summed away.
// - "..." stands for the operand's dims that the letters do not name; the
//   ellipsis dims of all operands broadcast against each other, right-aligned
//   (numpy's rule), and appear in the output where its "..." is.
// - Implicit output (no "->"): the ellipsis dims, then every letter that
//   appears exactly once in the whole equation, in ASCII order (uppercase
//   first), as numpy.einsum.
// As numpy.einsum (the specification's reference), a dim of size 1 broadcasts
// against the same label's dim in another operand; a repeated letter within
// one operand needs equal dims.
//
// Plan (EinsumPlan, built once the operands' ranks are known: at load for
// every shipped model): every label (each letter, each ellipsis dim) gets an
// id; operands with repeated or purely local labels are first reduced (their
// diagonal taken, their summed labels added up); then the operands are
// contracted pairwise from the left, each contraction being a batched GEMM
// [batch, M, K] x [batch, K, N] -> [batch, M, N] whose labels sort into those
// four groups (K: labels no later operand nor the output needs). A final
// reduce puts the labels in output order when the last contraction does not
// already produce it. One operand alone is one reduce (transpose, sum,
// diagonal, trace).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace onnx_mini {

// Letters are their ASCII codes; ellipsis dim j (of kMaxEllipsisDims, counted
// right-aligned) is kEllipsisBase + j.
inline constexpr int kEllipsisMark = -1;  // "..." in a parsed term
inline constexpr int kEllipsisBase = 128;
inline constexpr int kMaxEllipsisDims = 16;
inline constexpr int kMaxLabels = kEllipsisBase + kMaxEllipsisDims;

struct EinsumEquation {
  std::vector<std::vector<int>> inputs;  // letters and kEllipsisMark, in order
  std::vector<int> output;               // explicit, or the implicit one
  bool has_ellipsis = false;             // in any term
};

// Parses and checks `equation` for `num_inputs` operands (errors: invalid model).
Result<EinsumEquation> parse_einsum(const std::string& equation, size_t num_inputs);

// An operand's labels, one per dim, with "..." expanded for its rank (invalid
// model when the rank does not fit the term).
Result<std::vector<int>> expand_term(const std::vector<int>& term, int64_t rank, int ellipsis_dims);

// Reduce: dst (labels `out`, dims of src per label, contiguous) = sum over the
// labels of src not in `out`; src's repeated labels walk its diagonal.
struct EinsumReduce {
  int src = 0, dst = 0;  // term ids
};

// Contract: dst [batch..., M..., N...] = sum over K of a [batch, M, K] * b [batch, K, N].
struct EinsumContract {
  int a = 0, b = 0, dst = 0;  // term ids
  std::vector<int> batch, m, n, k;  // labels of each group, in the order dst and the GEMM use
};

struct EinsumStep {
  bool contract = false;
  EinsumReduce reduce;
  EinsumContract contraction;
};

struct EinsumPlan {
  // Term t < num_inputs is input t (its labels may repeat); later terms are
  // intermediates with distinct labels, the last one the output.
  std::vector<std::vector<int>> terms;
  int num_inputs = 0;
  std::vector<EinsumStep> steps;
  int ellipsis_dims = 0;
};

// Lowers `eq` for operands of these ranks.
Result<EinsumPlan> plan_einsum(const EinsumEquation& eq, const std::vector<int64_t>& ranks);

}  // namespace onnx_mini
