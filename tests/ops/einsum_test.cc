// Einsum against a naive reference written here (every label assignment
// enumerated, products summed in double): the forms attention and bilinear
// layers use at sizes that reach the GEMM paths, a generator of random valid
// equations (diagonals, sums, ellipsis broadcasting, implicit outputs, one to
// three operands), and every error at load (invalid model) and at run (bad input).
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <string>

#include "core/half.h"
#include "runtime/session.h"
#include "tests/testutil/attribute_values.h"
#include "tests/testutil/expect_close.h"
#include "tests/testutil/graph_builder.h"
#include "tests/testutil/node_model.h"

namespace onnx_mini::testing {
namespace {

// ---- Reference ------------------------------------------------------------

struct Reference {
  std::vector<double> values;     // the output, row-major
  std::vector<double> magnitude;  // sum of |products| per output element
  int64_t terms = 0;              // products summed per output element
  Shape shape;
};

// Labels of one term for an operand of `rank`, "..." expanded right-aligned as E
// labels '0'..'0'+E-1 (never letters).
std::string expand(const std::string& term, int64_t rank, int64_t width) {
  const size_t dots = term.find("...");
  if (dots == std::string::npos) return term;
  const int64_t own = rank - static_cast<int64_t>(term.size() - 3);
  std::string e;
  for (int64_t j = width - own; j < width; ++j) e += static_cast<char>('0' + j);
  return term.substr(0, dots) + e + term.substr(dots + 3);
}

template <typename T>
Reference reference(std::string eq, const std::vector<Tensor>& in) {
  eq.erase(std::remove(eq.begin(), eq.end(), ' '), eq.end());
  const size_t arrow = eq.find("->");
  std::vector<std::string> terms(1);
  for (char c : eq.substr(0, arrow)) {
    if (c == ',') terms.emplace_back();
    else terms.back() += c;
  }
  int64_t width = 0;
  for (size_t i = 0; i < terms.size(); ++i) {
    if (terms[i].find("...") != std::string::npos) width = std::max<int64_t>(width, in[i].rank() - static_cast<int64_t>(terms[i].size() - 3));
  }
  std::map<char, int64_t> size;
  std::map<char, int> uses;
  for (size_t i = 0; i < terms.size(); ++i) {
    terms[i] = expand(terms[i], in[i].rank(), width);
    for (size_t a = 0; a < terms[i].size(); ++a) {
      const int64_t d = in[i].shape()[a];
      int64_t& s = size.try_emplace(terms[i][a], d).first->second;
      if (s == 1) s = d;
      ++uses[terms[i][a]];
    }
  }
  std::string out;
  if (arrow != std::string::npos) {
    out = expand(eq.substr(arrow + 2), static_cast<int64_t>(eq.size() - arrow - 2) - 3 + width, width);
  } else {
    for (int64_t j = 0; j < width; ++j) out += static_cast<char>('0' + j);
    for (const auto& [label, n] : uses) {
      if (n == 1 && std::isalpha(static_cast<unsigned char>(label))) out += label;  // std::map: ASCII order
    }
  }
  std::string all = out;
  for (const auto& [label, s] : size) {
    if (all.find(label) == std::string::npos) all += label;
  }
  Reference r;
  for (char l : out) r.shape.push_back(size[l]);
  const int64_t outputs = num_elements(r.shape);
  r.values.assign(static_cast<size_t>(outputs), 0);
  r.magnitude.assign(static_cast<size_t>(outputs), 0);
  Shape all_shape;
  for (char l : all) all_shape.push_back(size[l]);
  r.terms = outputs ? num_elements(all_shape) / outputs : 0;
  for (int64_t i = 0; i < num_elements(all_shape); ++i) {
    const std::vector<int64_t> at = unravel(i, all_shape);
    double product = 1;
    for (size_t t = 0; t < terms.size(); ++t) {
      std::vector<int64_t> c;
      for (char l : terms[t]) {
        const int64_t d = in[t].shape()[c.size()];
        c.push_back(d == 1 ? 0 : at[all.find(l)]);
      }
      product *= static_cast<double>(in[t].data<T>()[ravel(c, in[t].shape())]);
    }
    std::vector<int64_t> oc(at.begin(), at.begin() + static_cast<std::ptrdiff_t>(out.size()));
    const size_t o = static_cast<size_t>(ravel(oc, r.shape));
    r.values[o] += product;
    r.magnitude[o] += std::abs(product);
  }
  return r;
}

// Float: each product and partial sum rounds once (relative 2^-24): the
// classic bound (terms + operands) * u * sum |products|, doubled for slack.
// Double the same with u = 2^-53.
template <typename T>
void expect_matches(const Tensor& got, const Reference& want, const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape) << what;
  const double u = std::is_same_v<T, float> ? std::ldexp(1.0, -24) : std::ldexp(1.0, -53);
  for (int64_t i = 0; i < got.num_elements(); ++i) {
    const size_t k = static_cast<size_t>(i);
    const double bound = 2 * static_cast<double>(want.terms + 3) * u * want.magnitude[k] + 1e-300;
    ASSERT_LE(std::abs(static_cast<double>(got.data<T>()[i]) - want.values[k]), bound)
        << what << " at " << i << ": got " << got.data<T>()[i] << ", want " << want.values[k];
  }
}

template <typename T>
Tensor random_of(const Shape& shape, uint64_t seed) {
  const Tensor f = random_tensor(shape, seed, -2.f, 2.f);
  Tensor t = Tensor::allocate(dtype_of<T>(), shape);
  for (int64_t i = 0; i < t.num_elements(); ++i) t.data<T>()[i] = static_cast<T>(f.data<float>()[i]);
  return t;
}

template <typename T>
void check_equation(const std::string& eq, const std::vector<Shape>& shapes, uint64_t seed, bool constant = false) {
  std::vector<Tensor> in;
  NodeModel model("Einsum", 12);
  model.attr_string("equation", eq);
  for (size_t i = 0; i < shapes.size(); ++i) {
    in.push_back(random_of<T>(shapes[i], seed + i));
    constant && i > 0 ? model.init(in.back()) : model.feed(in.back());
  }
  auto out = model.run();
  ASSERT_TRUE(out.is_ok()) << eq << ": " << out.status().message();
  expect_matches<T>(out.value()[0], reference<T>(eq, in), eq);
}

// ---- The forms layers use ---------------------------------------------------

struct Form {
  const char* equation;
  std::vector<Shape> shapes;
};

const std::vector<Form> kForms = {
    {"bij,bjk->bik", {{3, 17, 40}, {3, 40, 33}}},             // batched matmul
    {"bij, bjk -> bik", {{5, 2, 3}, {5, 3, 4}}},              // spaces, as the node test writes it
    {"bhqd,bhkd->bhqk", {{2, 4, 16, 32}, {2, 4, 20, 32}}},    // attention scores Q K^T
    {"bhqk,bhkd->bhqd", {{2, 4, 16, 20}, {2, 4, 20, 32}}},    // attention P V
    {"bqhd,bkhd->bhqk", {{2, 16, 4, 8}, {2, 20, 4, 8}}},      // heads not leading: operands permuted
    {"ij,jk", {{35, 64}, {64, 48}}},                          // implicit output: matmul
    {"ij,kj->ik", {{7, 9}, {5, 9}}},                          // nn.Linear: B transposed
    {"ji,jk->ik", {{9, 7}, {9, 5}}},                          // A transposed
    {"ij->ji", {{37, 53}}},                                   // transpose
    {"i,i", {{300}}},                                         // inner product (second shape added below)
    {"ij->i", {{13, 29}}},                                    // row sums
    {"ij->j", {{13, 29}}},                                    // column sums
    {"ij->", {{13, 29}}},                                     // total
    {"ii->i", {{12, 12}}},                                    // diagonal
    {"ii", {{12, 12}}},                                       // trace
    {"...ii->...i", {{3, 5, 5}}},                             // batch diagonal
    {"i,j->ij", {{31}, {47}}},                                // outer product
    {"bn,anm,bm->ba", {{6, 10}, {4, 10, 12}, {6, 12}}},       // bilinear
    {"...ij,...jk->...ik", {{2, 1, 3, 4}, {5, 4, 6}}},        // broadcast batch
    {"bij,bjk->bki", {{3, 8, 9}, {3, 9, 10}}},                // output transposed
    {"ab,cd->", {{3, 4}, {5, 6}}},                            // two sums, then a product
};

template <typename T>
void check_forms(bool constant) {
  for (Form f : kForms) {
    if (std::string(f.equation) == "i,i") f.shapes.push_back({300});
    check_equation<T>(f.equation, f.shapes, 101, constant);
  }
}

TEST(Einsum, LayerFormsFloat) { check_forms<float>(false); }
TEST(Einsum, LayerFormsDouble) { check_forms<double>(false); }
TEST(Einsum, LayerFormsWithConstantOperands) { check_forms<float>(true); }

TEST(Einsum, ExactOnSmallIntegers) {
  // Integers: every product and sum exact in float.
  auto out = NodeModel("Einsum", 12).attr_string("equation", "ij,jk->ik").feed(make_tensor({2, 2}, {1, 2, 3, 4}))
                 .feed(make_tensor({2, 2}, {5, 6, 7, 8})).run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(values_of<float>(out.value()[0]), (std::vector<float>{19, 22, 43, 50}));
  auto trace = NodeModel("Einsum", 12).attr_string("equation", "ii->").feed(make_tensor({2, 2}, {1, 2, 3, 4})).run();
  ASSERT_TRUE(trace.is_ok()) << trace.status().message();
  EXPECT_EQ(trace.value()[0].shape(), Shape{});
  EXPECT_EQ(values_of<float>(trace.value()[0]), (std::vector<float>{5}));
}

TEST(Einsum, Float16ComputesInFloat) {
  // Small integers: exact in float16 and in the float32 the node computes in.
  auto half = [](const Shape& shape, const std::vector<float>& v) {
    Tensor t = Tensor::allocate(DataType::kFloat16, shape);
    for (size_t i = 0; i < v.size(); ++i) t.data<uint16_t>()[i] = float_to_half(v[i]);
    return t;
  };
  auto out = NodeModel("Einsum", 12).attr_string("equation", "ij,jk->ik").feed(half({2, 2}, {1, 2, 3, 4}))
                 .feed(half({2, 2}, {5, 6, 7, 8})).run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  ASSERT_EQ(out.value()[0].dtype(), DataType::kFloat16);
  std::vector<float> y;
  for (int64_t i = 0; i < 4; ++i) y.push_back(half_to_float(out.value()[0].data<uint16_t>()[i]));
  EXPECT_EQ(y, (std::vector<float>{19, 22, 43, 50}));
}

TEST(Einsum, EmptyDimsGiveEmptyOrZeroOutputs) {
  check_equation<float>("ij,jk->ik", {{0, 3}, {3, 4}}, 1);
  check_equation<float>("ij,jk->ik", {{2, 0}, {0, 4}}, 2);  // empty sum: zeros
  check_equation<float>("i->", {{0}}, 3);
  check_equation<float>("ij->ji", {{0, 5}}, 4);
}

TEST(Einsum, SymbolicDimsAreCheckedAtRun) {
  auto out = NodeModel("Einsum", 12).attr_string("equation", "...ij,...jk->...ik")
                 .input(In::feed_symbolic(random_tensor({2, 3, 4}, 5))).input(In::feed_symbolic(random_tensor({2, 4, 5}, 6))).run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(out.value()[0].shape(), (Shape{2, 3, 5}));
}

TEST(Einsum, EllipsisOfUnknownRankPlansAtRun) {
  // Inputs of unknown rank: the plan is made per run, for the ranks fed.
  GraphBuilder b(12);
  b.input("A", DataType::kFloat, {2, 3, 4}).input("B", DataType::kFloat, {4, 5});
  b.node("Einsum", {"A", "B"}, {"Y"}, {{"equation", string_attr("...ij,jk->...ik")}}, "einsum");
  b.output("Y");
  for (ValueId v : b.graph().inputs()) {
    b.graph().value(v).info.has_shape = false;
    b.graph().value(v).info.dims.clear();
  }
  Graph g = b.build();
  auto session = Session::from_graph(std::move(g), SessionOptions{});
  ASSERT_TRUE(session.is_ok()) << session.status().message();
  for (const Shape& a : {Shape{2, 3, 4}, Shape{3, 4}, Shape{2, 1, 3, 4}}) {
    const std::vector<Tensor> in = {random_tensor(a, 7), random_tensor({4, 5}, 8)};
    auto out = (*session)->run({{"A", in[0]}, {"B", in[1]}});
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    expect_matches<float>(out.value()[0].tensor, reference<float>("...ij,jk->...ik", in), shape_to_string(a));
  }
  auto bad = (*session)->run({{"A", random_tensor({4}, 9)}, {"B", random_tensor({4, 5}, 8)}});
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kBadInput) << bad.status().message();
}

// ---- Random equations ---------------------------------------------------------

struct RandomCase {
  std::string equation;
  std::vector<Shape> shapes;
};

// A valid equation over letters of random sizes 1..4: each operand takes
// 0..3 letters (sometimes one twice: a diagonal), sometimes "..." over 0..2
// broadcasting dims (1 or the full size); the output is explicit (a random
// subset of the labels in random order) or implicit.
RandomCase random_case(std::mt19937_64& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  const std::string pool = "abcdeXY";
  std::map<char, int64_t> size;
  for (char c : pool) size[c] = 1 + pick(4);
  const int operands = 1 + pick(3);
  const bool ellipsis = pick(3) == 0;
  const int64_t width = ellipsis ? pick(3) : 0;
  std::vector<int64_t> ellipsis_size;
  for (int64_t j = 0; j < width; ++j) ellipsis_size.push_back(1 + pick(3));
  RandomCase c;
  std::string used;
  for (int i = 0; i < operands; ++i) {
    std::string term;
    for (int n = pick(4); n > 0; --n) term += pool[static_cast<size_t>(pick(static_cast<int>(pool.size())))];
    if (!term.empty() && pick(4) == 0) term += term[0];  // a diagonal
    used += term;
    Shape shape;
    const bool dots = ellipsis && pick(4) != 0;
    const size_t at = term.empty() ? 0 : static_cast<size_t>(pick(static_cast<int>(term.size()) + 1));
    for (size_t a = 0; a <= term.size(); ++a) {
      if (dots && a == at) {
        const int64_t own = width - pick(static_cast<int>(width) + 1);  // right-aligned, maybe fewer dims
        for (int64_t j = width - own; j < width; ++j) shape.push_back(pick(3) == 0 ? 1 : ellipsis_size[static_cast<size_t>(j)]);
      }
      if (a < term.size()) shape.push_back(size[term[a]]);
    }
    if (dots) term.insert(at, "...");
    c.equation += (i ? "," : "") + term;
    c.shapes.push_back(shape);
  }
  if (pick(3) != 0) {  // explicit output
    std::string labels;
    for (char l : used) {
      if (labels.find(l) == std::string::npos && pick(2) == 0) labels += l;
    }
    std::shuffle(labels.begin(), labels.end(), rng);
    const bool any_dots = c.equation.find("...") != std::string::npos;
    if (any_dots) labels.insert(static_cast<size_t>(pick(static_cast<int>(labels.size()) + 1)), "...");
    c.equation += "->" + labels;
  }
  return c;
}

template <typename T>
void check_random_equations(uint64_t seed, int count) {
  std::mt19937_64 rng(seed);
  for (int i = 0; i < count; ++i) {
    const RandomCase c = random_case(rng);
    SCOPED_TRACE("case " + std::to_string(i) + ": " + c.equation);
    check_equation<T>(c.equation, c.shapes, seed + static_cast<uint64_t>(i), i % 2 == 1);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST(Einsum, RandomEquationsFloat) { check_random_equations<float>(2024, 300); }
TEST(Einsum, RandomEquationsDouble) { check_random_equations<double>(77, 150); }

// ---- Errors ---------------------------------------------------------------------

Status einsum_status(const std::string& eq, std::vector<In> inputs) {
  NodeModel model("Einsum", 12);
  if (!eq.empty()) model.attr_string("equation", eq);
  for (In& in : inputs) model.input(std::move(in));
  return model.run().status();
}

void expect_error(const Status& st, ErrorCode code, const std::string& fragment) {
  ASSERT_FALSE(st.is_ok()) << fragment;
  EXPECT_EQ(st.code(), code) << st.message();
  EXPECT_NE(st.message().find(fragment), std::string::npos) << st.message();
}

TEST(Einsum, MalformedEquationsAreInvalidModels) {
  const Tensor m = random_tensor({2, 2}, 1);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"ij,jk", "2 operand terms for 1 inputs"},
      {"i1->i", "'1'"},
      {"i.j->i", "'.'"},
      {"......->", "more than one '...'"},
      {"ij->i->j", "more than one '->'"},
      {"ij->k", "output label 'k' is in no operand"},
      {"ij->ii", "output label 'i' appears twice"},
      {"ij->...", "the output has '...' but no operand has"},
      {"ijk->i", "rank 2 does not fit"},
      {"i->i", "rank 2 does not fit"},
  };
  for (const auto& [eq, fragment] : cases) expect_error(einsum_status(eq, {In::feed(m)}), ErrorCode::kInvalidModel, fragment);
  expect_error(einsum_status("", {In::feed(m)}), ErrorCode::kInvalidModel, "'equation'");
  expect_error(einsum_status("...i->i", {In::feed(random_tensor({3, 2}, 2))}), ErrorCode::kInvalidModel,
               "no '...' to put them in");
}

TEST(Einsum, MismatchedDimsAtLoadAndAtRun) {
  const Tensor a = random_tensor({2, 3}, 1), b = random_tensor({4, 5}, 2);
  // Known at load (fed with fixed dims, or an initializer): invalid model.
  expect_error(einsum_status("ij,jk->ik", {In::feed(a), In::feed(b)}), ErrorCode::kInvalidModel, "does not match");
  expect_error(einsum_status("ij,jk->ik", {In::feed(a), In::init(b)}), ErrorCode::kInvalidModel, "does not match");
  expect_error(einsum_status("ii->i", {In::feed(a)}), ErrorCode::kInvalidModel, "repeated label");
  // Symbolic at load: the fed data is bad input.
  expect_error(einsum_status("ij,jk->ik", {In::feed_symbolic(a), In::feed_symbolic(b)}), ErrorCode::kBadInput,
               "does not match");
  expect_error(einsum_status("ii->i", {In::feed_symbolic(a)}), ErrorCode::kBadInput, "repeated label");
  // A dim of 1 broadcasts, as in numpy.
  check_equation<float>("ij,ij->ij", {{2, 3}, {1, 3}}, 9);
}

TEST(Einsum, UnsupportedTypesAndMixedTypes) {
  const Tensor ints = make_tensor<int32_t>({2}, {1, 2});
  expect_error(einsum_status("i->i", {In::feed(ints)}), ErrorCode::kUnsupported, "int32");
  Tensor d = Tensor::allocate(DataType::kDouble, {2});
  expect_error(einsum_status("i,i", {In::feed(make_tensor({2}, {1, 2})), In::feed(d)}), ErrorCode::kInvalidModel, "double");
}

}  // namespace
}  // namespace onnx_mini::testing
