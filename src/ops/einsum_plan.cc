#include "ops/einsum_plan.h"

#include <algorithm>
#include <array>

namespace onnx_mini {
namespace {

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// One term ("bij", "...ii", ""): letters and at most one ellipsis.
Result<std::vector<int>> parse_term(const std::string& text, const std::string& where) {
  std::vector<int> term;
  bool ellipsis = false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (is_letter(text[i])) {
      term.push_back(text[i]);
    } else if (text.compare(i, 3, "...") == 0) {
      if (ellipsis) return invalid_model(where + " has more than one '...'");
      ellipsis = true;
      term.push_back(kEllipsisMark);
      i += 2;
    } else {
      return invalid_model(where + " has '" + std::string(1, text[i]) +
                           "': a term holds only letters a-z, A-Z and one '...'");
    }
  }
  return term;
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> parts(1);
  for (char c : s) {
    if (c == ',') parts.emplace_back();
    else parts.back() += c;
  }
  return parts;
}

// numpy's implicit output: the ellipsis, then letters used exactly once, in ASCII order.
std::vector<int> implicit_output(const EinsumEquation& eq) {
  std::array<int, kEllipsisBase> count{};
  for (const auto& term : eq.inputs) {
    for (int l : term) {
      if (l != kEllipsisMark) ++count[static_cast<size_t>(l)];
    }
  }
  std::vector<int> out;
  if (eq.has_ellipsis) out.push_back(kEllipsisMark);
  for (int l = 0; l < kEllipsisBase; ++l) {
    if (count[static_cast<size_t>(l)] == 1) out.push_back(l);
  }
  return out;
}

Status check_output(const EinsumEquation& eq) {
  std::array<bool, kEllipsisBase> seen_in_inputs{}, seen_in_output{};
  bool input_ellipsis = false;
  for (const auto& term : eq.inputs) {
    for (int l : term) {
      if (l == kEllipsisMark) input_ellipsis = true;
      else seen_in_inputs[static_cast<size_t>(l)] = true;
    }
  }
  for (int l : eq.output) {
    if (l == kEllipsisMark) {
      if (!input_ellipsis) return invalid_model("the output has '...' but no operand has");
      continue;
    }
    const std::string letter(1, static_cast<char>(l));
    if (!seen_in_inputs[static_cast<size_t>(l)]) return invalid_model("output label '" + letter + "' is in no operand");
    if (seen_in_output[static_cast<size_t>(l)]) return invalid_model("output label '" + letter + "' appears twice");
    seen_in_output[static_cast<size_t>(l)] = true;
  }
  return Status::ok();
}

}  // namespace

Result<EinsumEquation> parse_einsum(const std::string& equation, size_t num_inputs) {
  std::string eq;
  for (char c : equation) {
    if (c != ' ') eq += c;
  }
  const std::string where = "equation '" + equation + "'";
  const size_t arrow = eq.find("->");
  if (arrow != std::string::npos && eq.find("->", arrow + 1) != std::string::npos) {
    return invalid_model(where + " has more than one '->'");
  }
  EinsumEquation parsed;
  const std::vector<std::string> terms = split_commas(eq.substr(0, arrow));
  if (terms.size() != num_inputs) {
    return invalid_model(where + " has " + std::to_string(terms.size()) + " operand terms for " +
                         std::to_string(num_inputs) + " inputs");
  }
  for (size_t i = 0; i < terms.size(); ++i) {
    OM_ASSIGN_OR_RETURN(std::vector<int> term, parse_term(terms[i], where + ", operand " + std::to_string(i)));
    parsed.has_ellipsis = parsed.has_ellipsis || std::count(term.begin(), term.end(), kEllipsisMark) > 0;
    parsed.inputs.push_back(std::move(term));
  }
  if (arrow == std::string::npos) {
    parsed.output = implicit_output(parsed);
    return parsed;
  }
  OM_ASSIGN_OR_RETURN(parsed.output, parse_term(eq.substr(arrow + 2), where + ", output"));
  Status ok = check_output(parsed);
  if (!ok.is_ok()) return invalid_model(where + ": " + ok.message());
  return parsed;
}

Result<std::vector<int>> expand_term(const std::vector<int>& term, int64_t rank, int ellipsis_dims) {
  const bool has_ellipsis = std::count(term.begin(), term.end(), kEllipsisMark) > 0;
  const int64_t letters = static_cast<int64_t>(term.size()) - (has_ellipsis ? 1 : 0);
  if (has_ellipsis ? rank < letters : rank != letters) {
    return invalid_model("rank " + std::to_string(rank) + " does not fit a term of " + std::to_string(letters) +
                         " letters" + (has_ellipsis ? " and '...'" : ""));
  }
  const int64_t own = rank - letters;  // this operand's ellipsis dims
  if (own > ellipsis_dims) return internal_error("ellipsis wider than the equation's");
  std::vector<int> labels;
  for (int l : term) {
    if (l != kEllipsisMark) {
      labels.push_back(l);
      continue;
    }
    for (int64_t j = ellipsis_dims - own; j < ellipsis_dims; ++j) labels.push_back(kEllipsisBase + static_cast<int>(j));
  }
  return labels;
}

}  // namespace onnx_mini

// ---- Lowering -------------------------------------------------------------

namespace onnx_mini {
namespace {

bool contains(const std::vector<int>& v, int l) { return std::find(v.begin(), v.end(), l) != v.end(); }

std::vector<int> distinct(const std::vector<int>& labels) {
  std::vector<int> out;
  for (int l : labels) {
    if (!contains(out, l)) out.push_back(l);
  }
  return out;
}

// Sorts `labels` by their position in `order` (labels absent from it keep their place after).
void sort_by(std::vector<int>& labels, const std::vector<int>& order) {
  auto pos = [&](int l) { return std::find(order.begin(), order.end(), l) - order.begin(); };
  std::stable_sort(labels.begin(), labels.end(), [&](int x, int y) { return pos(x) < pos(y); });
}

std::vector<int> concat(std::initializer_list<const std::vector<int>*> parts) {
  std::vector<int> out;
  for (const auto* p : parts) out.insert(out.end(), p->begin(), p->end());
  return out;
}

class Lowering {
 public:
  Lowering(EinsumPlan& plan, std::vector<int> output) : plan_(plan), output_(std::move(output)) {}

  // Whether label l is in the output or in an input other than `except` from `first` on.
  bool needed(int l, size_t first, size_t except) const {
    if (contains(output_, l)) return true;
    for (size_t j = first; j < static_cast<size_t>(plan_.num_inputs); ++j) {
      if (j != except && contains(plan_.terms[j], l)) return true;
    }
    return false;
  }

  int add_term(std::vector<int> labels) {
    plan_.terms.push_back(std::move(labels));
    return static_cast<int>(plan_.terms.size()) - 1;
  }

  void reduce(int src, int dst) { plan_.steps.push_back({.contract = false, .reduce = {src, dst}, .contraction = {}}); }

  // Input i with its diagonals taken and its purely local labels summed away
  // (the input itself when it has neither).
  int prepared_input(size_t i) {
    const std::vector<int>& labels = plan_.terms[i];
    std::vector<int> kept;
    for (int l : distinct(labels)) {
      if (needed(l, 0, i)) kept.push_back(l);
    }
    if (kept.size() == labels.size()) return static_cast<int>(i);
    const int dst = add_term(std::move(kept));
    reduce(static_cast<int>(i), dst);
    return dst;
  }

  // Contracts terms a and b (input `next` is b); the last contraction orders
  // its groups as the output does.
  int contract(int a, int b, size_t next, bool last) {
    EinsumContract c;
    const std::vector<int> la = plan_.terms[static_cast<size_t>(a)], lb = plan_.terms[static_cast<size_t>(b)];
    for (int l : la) {
      const bool later = needed(l, next + 1, next);
      if (contains(lb, l)) (later ? c.batch : c.k).push_back(l);
      else c.m.push_back(l);
    }
    for (int l : lb) {
      if (!contains(la, l)) c.n.push_back(l);
    }
    if (last) {
      sort_by(c.batch, output_);
      sort_by(c.m, output_);
      sort_by(c.n, output_);
      if (concat({&c.batch, &c.n, &c.m}) == output_ && c.m != c.n) {
        std::swap(a, b);
        std::swap(c.m, c.n);
      }
    }
    // K in A's order, unless only B's order makes B usable in place.
    const std::vector<int>& la2 = plan_.terms[static_cast<size_t>(a)];
    const std::vector<int>& lb2 = plan_.terms[static_cast<size_t>(b)];
    if (!in_place(la2, c.batch, c.m, c.k)) {
      std::vector<int> k_b = c.k;
      sort_by(k_b, lb2);
      if (in_place(lb2, c.batch, k_b, c.n)) c.k = k_b;
    }
    c.a = a;
    c.b = b;
    c.dst = add_term(concat({&c.batch, &c.m, &c.n}));
    plan_.steps.push_back({.contract = true, .reduce = {}, .contraction = c});
    return c.dst;
  }

  // [batch, x, y] or [batch, y, x] exactly.
  static bool in_place(const std::vector<int>& labels, const std::vector<int>& batch, const std::vector<int>& x,
                       const std::vector<int>& y) {
    return labels == concat({&batch, &x, &y}) || labels == concat({&batch, &y, &x});
  }

 private:
  EinsumPlan& plan_;
  std::vector<int> output_;
};

Result<int> ellipsis_width(const EinsumEquation& eq, const std::vector<int64_t>& ranks) {
  int widest = 0;
  for (size_t i = 0; i < eq.inputs.size(); ++i) {
    const auto& term = eq.inputs[i];
    if (!contains(term, kEllipsisMark)) continue;
    const int64_t own = ranks[i] - static_cast<int64_t>(term.size() - 1);
    if (own < 0) {
      return invalid_model("operand " + std::to_string(i) + " has rank " + std::to_string(ranks[i]) + ", fewer than its " +
                           std::to_string(term.size() - 1) + " letters");
    }
    if (own > kMaxEllipsisDims) {
      return unsupported("operand " + std::to_string(i) + " has " + std::to_string(own) + " dims under '...' (at most " +
                         std::to_string(kMaxEllipsisDims) + ")");
    }
    widest = std::max(widest, static_cast<int>(own));
  }
  return widest;
}

}  // namespace

Result<EinsumPlan> plan_einsum(const EinsumEquation& eq, const std::vector<int64_t>& ranks) {
  EinsumPlan plan;
  plan.num_inputs = static_cast<int>(eq.inputs.size());
  OM_ASSIGN_OR_RETURN(plan.ellipsis_dims, ellipsis_width(eq, ranks));
  for (size_t i = 0; i < eq.inputs.size(); ++i) {
    auto labels = expand_term(eq.inputs[i], ranks[i], plan.ellipsis_dims);
    if (!labels.is_ok()) return invalid_model("operand " + std::to_string(i) + ": " + labels.status().message());
    plan.terms.push_back(std::move(labels).value());
  }
  const bool output_ellipsis = contains(eq.output, kEllipsisMark);
  if (!output_ellipsis && plan.ellipsis_dims > 0) {
    return invalid_model("the operands have " + std::to_string(plan.ellipsis_dims) +
                         " dims under '...' but the output has no '...' to put them in");
  }
  const int64_t out_rank = static_cast<int64_t>(eq.output.size()) - (output_ellipsis ? 1 - plan.ellipsis_dims : 0);
  OM_ASSIGN_OR_RETURN(std::vector<int> output, expand_term(eq.output, out_rank, plan.ellipsis_dims));
  Lowering lower(plan, output);
  if (plan.num_inputs == 1) {
    lower.reduce(0, lower.add_term(output));
    return plan;
  }
  int current = lower.prepared_input(0);
  for (size_t i = 1; i < eq.inputs.size(); ++i) {
    current = lower.contract(current, lower.prepared_input(i), i, i + 1 == eq.inputs.size());
  }
  if (plan.terms[static_cast<size_t>(current)] != output) lower.reduce(current, lower.add_term(output));
  return plan;
}

}  // namespace onnx_mini
