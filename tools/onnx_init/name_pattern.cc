#include "onnx_init/name_pattern.h"

#include <memory>
#include <optional>

namespace onnx_mini::init {

namespace {

constexpr size_t kMaxPatternBytes = 4096;
constexpr int kMaxRepeat = 1000;
constexpr size_t kMaxStates = 100'000;
constexpr int kMaxNesting = 100;  // parentheses: bounds the parser's and compiler's recursion

using ByteSet = std::bitset<256>;

// The parsed pattern. Recursion over it (parse, compile) is bounded by the
// pattern's nesting, never by the name being matched.
struct Node {
  enum class Kind { kEmpty, kSet, kLineStart, kLineEnd, kConcat, kAlternate, kRepeat } kind = Kind::kEmpty;
  ByteSet set;                                  // kSet
  std::vector<std::unique_ptr<Node>> children;  // kConcat, kAlternate; kRepeat: one
  int min = 0, max = -1;                        // kRepeat; max -1: unbounded
};

ByteSet range_set(int lo, int hi) {
  ByteSet s;
  for (int c = lo; c <= hi; ++c) s.set(static_cast<size_t>(c));
  return s;
}

ByteSet class_digit() { return range_set('0', '9'); }
ByteSet class_word() { return range_set('a', 'z') | range_set('A', 'Z') | class_digit() | range_set('_', '_'); }
ByteSet class_space() {
  ByteSet s;
  for (char c : {' ', '\t', '\n', '\r', '\v', '\f'}) s.set(static_cast<unsigned char>(c));
  return s;
}

class Parser {
 public:
  explicit Parser(std::string_view p) : p_(p) {}

  Result<std::unique_ptr<Node>> parse() {
    OM_ASSIGN_OR_RETURN(auto n, alternation(0));
    if (pos_ < p_.size()) return error("unmatched ')'");
    return n;
  }

 private:
  Status error(const std::string& why) const {
    return usage_error("bad --match pattern '" + std::string(p_) + "': " + why + " at offset " + std::to_string(pos_));
  }
  bool at_end() const { return pos_ >= p_.size(); }
  char peek() const { return p_[pos_]; }

  Result<std::unique_ptr<Node>> alternation(int depth) {
    if (depth > kMaxNesting) return error("groups nested more than " + std::to_string(kMaxNesting) + " deep");
    auto alt = std::make_unique<Node>();
    alt->kind = Node::Kind::kAlternate;
    OM_ASSIGN_OR_RETURN(auto first, concatenation(depth));
    alt->children.push_back(std::move(first));
    while (!at_end() && peek() == '|') {
      ++pos_;
      OM_ASSIGN_OR_RETURN(auto next, concatenation(depth));
      alt->children.push_back(std::move(next));
    }
    if (alt->children.size() == 1) return std::move(alt->children[0]);
    return alt;
  }

  Result<std::unique_ptr<Node>> concatenation(int depth) {
    auto cat = std::make_unique<Node>();
    cat->kind = Node::Kind::kConcat;
    while (!at_end() && peek() != '|' && peek() != ')') {
      OM_ASSIGN_OR_RETURN(auto atom_node, atom(depth));
      OM_ASSIGN_OR_RETURN(auto repeated, quantifiers(std::move(atom_node)));
      cat->children.push_back(std::move(repeated));
    }
    return cat;
  }

  Result<std::unique_ptr<Node>> quantifiers(std::unique_ptr<Node> operand) {
    while (!at_end() && (peek() == '*' || peek() == '+' || peek() == '?' || peek() == '{')) {
      if (operand->kind == Node::Kind::kLineStart || operand->kind == Node::Kind::kLineEnd) {
        return error("nothing to repeat");
      }
      int min = 0, max = -1;
      const char q = p_[pos_++];
      if (q == '+') min = 1;
      if (q == '?') max = 1;
      if (q == '{') OM_RETURN_IF_ERROR(counted(min, max));
      if (!at_end() && peek() == '?') ++pos_;  // lazy: the same names match
      auto rep = std::make_unique<Node>();
      rep->kind = Node::Kind::kRepeat;
      rep->min = min;
      rep->max = max;
      rep->children.push_back(std::move(operand));
      operand = std::move(rep);
    }
    return operand;
  }

  // After '{': "m}", "m,}" or "m,n}".
  Status counted(int& min, int& max) {
    OM_ASSIGN_OR_RETURN(min, number());
    max = min;
    if (!at_end() && peek() == ',') {
      ++pos_;
      max = -1;
      if (!at_end() && peek() != '}') {
        OM_ASSIGN_OR_RETURN(max, number());
      }
    }
    if (at_end() || peek() != '}') return error("a counted repeat is {m}, {m,} or {m,n} (a literal brace is \\{)");
    ++pos_;
    if (max >= 0 && max < min) return error("{m,n} with n < m");
    return Status::ok();
  }

  Result<int> number() {
    int v = 0;
    const size_t start = pos_;
    while (!at_end() && peek() >= '0' && peek() <= '9') {
      v = v * 10 + (p_[pos_++] - '0');
      if (v > kMaxRepeat) return error("a repeat count above " + std::to_string(kMaxRepeat));
    }
    if (pos_ == start) return error("a counted repeat is {m}, {m,} or {m,n} (a literal brace is \\{)");
    return v;
  }

  Result<std::unique_ptr<Node>> atom(int depth) {
    auto n = std::make_unique<Node>();
    const char c = p_[pos_++];
    switch (c) {
      case '(': {
        if (!at_end() && peek() == '?') {
          if (pos_ + 1 < p_.size() && p_[pos_ + 1] == ':') {
            pos_ += 2;
          } else {
            return error("lookaround and other (? groups are not supported");
          }
        }
        OM_ASSIGN_OR_RETURN(auto inner, alternation(depth + 1));
        if (at_end() || peek() != ')') return error("missing ')'");
        ++pos_;
        return inner;
      }
      case '[': {
        OM_ASSIGN_OR_RETURN(n->set, bracket());
        n->kind = Node::Kind::kSet;
        return n;
      }
      case '.':
        n->kind = Node::Kind::kSet;
        n->set.set();
        n->set.reset('\n');
        n->set.reset('\r');
        return n;
      case '^': n->kind = Node::Kind::kLineStart; return n;
      case '$': n->kind = Node::Kind::kLineEnd; return n;
      case '*': case '+': case '?': case '{': --pos_; return error("nothing to repeat");
      case '\\': {
        OM_ASSIGN_OR_RETURN(n->set, escape());
        n->kind = Node::Kind::kSet;
        return n;
      }
      default:
        n->kind = Node::Kind::kSet;
        n->set.set(static_cast<unsigned char>(c));
        return n;
    }
  }

  // After '\': the set it stands for.
  Result<ByteSet> escape() {
    if (at_end()) return error("a pattern cannot end with '\\'");
    const char c = p_[pos_++];
    switch (c) {
      case 'd': return class_digit();
      case 'D': return ~class_digit();
      case 'w': return class_word();
      case 'W': return ~class_word();
      case 's': return class_space();
      case 'S': return ~class_space();
      case 't': return range_set('\t', '\t');
      case 'n': return range_set('\n', '\n');
      case 'r': return range_set('\r', '\r');
      default: break;
    }
    if (std::string_view("\\.()[]{}|*+?^$/-").find(c) != std::string_view::npos) {
      return range_set(static_cast<unsigned char>(c), static_cast<unsigned char>(c));
    }
    --pos_;
    return error(std::string("unsupported escape '\\") + c + "' (back-references and \\b are not supported)");
  }

  // After '[': up to and including ']'.
  Result<ByteSet> bracket() {
    ByteSet set;
    const bool negate = !at_end() && peek() == '^';
    if (negate) ++pos_;
    // As in ECMAScript, "[]" matches nothing and "[^]" any byte.
    while (!at_end() && peek() != ']') {
      OM_ASSIGN_OR_RETURN(auto lo, bracket_item());
      if (pos_ + 1 < p_.size() && peek() == '-' && p_[pos_ + 1] != ']' && lo.second >= 0) {
        ++pos_;
        OM_ASSIGN_OR_RETURN(auto hi, bracket_item());
        if (hi.second < 0 || hi.second < lo.second) return error("a bad range in [...]");
        set |= range_set(lo.second, hi.second);
      } else {
        set |= lo.first;
      }
    }
    if (at_end()) return error("missing ']'");
    ++pos_;
    return negate ? ~set : set;
  }

  // One member of a bracket: its set, and its byte when it is a single one (for ranges), else -1.
  Result<std::pair<ByteSet, int>> bracket_item() {
    const char c = p_[pos_++];
    if (c != '\\') return std::pair{range_set(static_cast<unsigned char>(c), static_cast<unsigned char>(c)), static_cast<int>(static_cast<unsigned char>(c))};
    const char e = at_end() ? '\0' : peek();
    OM_ASSIGN_OR_RETURN(ByteSet s, escape());
    const bool single = s.count() == 1 && std::string_view("dDwWsS").find(e) == std::string_view::npos;
    int byte = -1;
    for (int b = 0; single && b < 256; ++b) {
      if (s.test(static_cast<size_t>(b))) byte = b;
    }
    return std::pair{s, byte};
  }

  std::string_view p_;
  size_t pos_ = 0;
};

}  // namespace

// Thompson's construction: each node becomes a fragment with one entry and a
// list of dangling exits, patched to whatever follows.
class PatternCompiler {
 public:
  explicit PatternCompiler(NamePattern& out) : out_(out) {}

  Status compile(const Node& root) {
    OM_ASSIGN_OR_RETURN(Fragment f, fragment(root));
    const int match = emit({NamePattern::Inst::Op::kMatch});
    patch(f.exits, match);
    out_.start_ = f.start;
    return Status::ok();
  }

 private:
  // An exit is an instruction index and which of its fields to set (next or alt).
  struct Exit {
    int inst;
    bool alt;
  };
  struct Fragment {
    int start;
    std::vector<Exit> exits;
  };

  int emit(NamePattern::Inst inst) {
    out_.program_.push_back(inst);
    return static_cast<int>(out_.program_.size()) - 1;
  }
  void patch(const std::vector<Exit>& exits, int target) {
    for (const Exit& e : exits) (e.alt ? out_.program_[e.inst].alt : out_.program_[e.inst].next) = target;
  }
  Status check_size() const {
    if (out_.program_.size() > kMaxStates) {
      return usage_error("bad --match pattern: it needs more than " + std::to_string(kMaxStates) + " states (a large {m,n}?)");
    }
    return Status::ok();
  }

  Result<Fragment> fragment(const Node& n) {
    OM_RETURN_IF_ERROR(check_size());
    using Op = NamePattern::Inst::Op;
    switch (n.kind) {
      case Node::Kind::kEmpty: {
        const int j = emit({Op::kJump});
        return Fragment{j, {{j, false}}};
      }
      case Node::Kind::kSet: {
        out_.sets_.push_back(n.set);
        const int b = emit({Op::kByte, static_cast<int>(out_.sets_.size()) - 1});
        return Fragment{b, {{b, false}}};
      }
      case Node::Kind::kLineStart:
      case Node::Kind::kLineEnd: {
        const int a = emit({n.kind == Node::Kind::kLineStart ? Op::kLineStart : Op::kLineEnd});
        return Fragment{a, {{a, false}}};
      }
      case Node::Kind::kConcat: return concat(n.children);
      case Node::Kind::kAlternate: return alternate(n.children);
      case Node::Kind::kRepeat: return repeat(*n.children[0], n.min, n.max);
    }
    return internal_error("unknown pattern node");
  }

  Result<Fragment> concat(const std::vector<std::unique_ptr<Node>>& parts) {
    if (parts.empty()) return fragment(Node{});
    OM_ASSIGN_OR_RETURN(Fragment whole, fragment(*parts[0]));
    for (size_t i = 1; i < parts.size(); ++i) {
      OM_ASSIGN_OR_RETURN(Fragment next, fragment(*parts[i]));
      patch(whole.exits, next.start);
      whole.exits = std::move(next.exits);
    }
    return whole;
  }

  Result<Fragment> alternate(const std::vector<std::unique_ptr<Node>>& options) {
    OM_ASSIGN_OR_RETURN(Fragment whole, fragment(*options[0]));
    for (size_t i = 1; i < options.size(); ++i) {
      OM_ASSIGN_OR_RETURN(Fragment other, fragment(*options[i]));
      const int split = emit({NamePattern::Inst::Op::kSplit, -1, whole.start, other.start});
      whole.start = split;
      whole.exits.insert(whole.exits.end(), other.exits.begin(), other.exits.end());
    }
    return whole;
  }

  // x{min,max}: min copies, then (max - min) optional ones, or a star when unbounded.
  Result<Fragment> repeat(const Node& x, int min, int max) {
    using Op = NamePattern::Inst::Op;
    const int entry = emit({Op::kJump});
    std::vector<Exit> exits{{entry, false}};
    for (int i = 0; i < min; ++i) {
      OM_ASSIGN_OR_RETURN(Fragment copy, fragment(x));
      patch(exits, copy.start);
      exits = std::move(copy.exits);
    }
    if (max < 0) {
      OM_ASSIGN_OR_RETURN(Fragment body, fragment(x));
      const int split = emit({Op::kSplit, -1, body.start, -1});
      patch(exits, split);
      patch(body.exits, split);
      return Fragment{entry, {{split, true}}};
    }
    std::vector<Exit> skips;
    for (int i = min; i < max; ++i) {
      OM_ASSIGN_OR_RETURN(Fragment copy, fragment(x));
      const int split = emit({Op::kSplit, -1, copy.start, -1});
      patch(exits, split);
      skips.push_back({split, true});
      exits = std::move(copy.exits);
    }
    exits.insert(exits.end(), skips.begin(), skips.end());
    return Fragment{entry, exits};
  }

  NamePattern& out_;
};

Result<NamePattern> NamePattern::compile(std::string_view pattern) {
  if (pattern.size() > kMaxPatternBytes) {
    return usage_error("bad --match pattern: longer than " + std::to_string(kMaxPatternBytes) + " bytes");
  }
  OM_ASSIGN_OR_RETURN(std::unique_ptr<Node> root, Parser(pattern).parse());
  NamePattern compiled;
  OM_RETURN_IF_ERROR(PatternCompiler(compiled).compile(*root));
  return compiled;
}

bool NamePattern::search(std::string_view name) const {
  // The states live before byte i (`current`) and after it (`next`), each added
  // with its epsilon closure through an explicit stack; `seen` marks states
  // already in the list being built (by generation, so it is never cleared).
  const size_t n = program_.size();
  std::vector<int> current, next, stack;
  std::vector<size_t> seen(n, 0);
  size_t generation = 0;
  bool matched = false;
  auto add_closure = [&](std::vector<int>& list, int state, size_t pos) {
    stack.push_back(state);
    while (!stack.empty()) {
      const int s = stack.back();
      stack.pop_back();
      if (s < 0 || seen[static_cast<size_t>(s)] == generation) continue;
      seen[static_cast<size_t>(s)] = generation;
      const Inst& inst = program_[static_cast<size_t>(s)];
      switch (inst.op) {
        case Inst::Op::kByte: list.push_back(s); break;
        case Inst::Op::kMatch: matched = true; break;
        case Inst::Op::kJump: stack.push_back(inst.next); break;
        case Inst::Op::kSplit: stack.push_back(inst.alt); stack.push_back(inst.next); break;
        case Inst::Op::kLineStart: if (pos == 0) stack.push_back(inst.next); break;
        case Inst::Op::kLineEnd: if (pos == name.size()) stack.push_back(inst.next); break;
      }
    }
  };
  ++generation;
  add_closure(current, start_, 0);
  for (size_t i = 0; i < name.size() && !matched; ++i) {
    ++generation;
    next.clear();
    const auto byte = static_cast<unsigned char>(name[i]);
    for (int s : current) {
      const Inst& inst = program_[static_cast<size_t>(s)];
      if (sets_[static_cast<size_t>(inst.set)].test(byte)) add_closure(next, inst.next, i + 1);
    }
    add_closure(next, start_, i + 1);  // a match may start at any position (a search)
    current.swap(next);
  }
  return matched;
}

}  // namespace onnx_mini::init
