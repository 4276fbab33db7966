// --match's matcher: std::regex_search's answers on the ECMAScript core, in
// time linear in the name and with a stack that does not grow with it.
#include "onnx_init/name_pattern.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <chrono>
#include <regex>
#include <string>

namespace onnx_mini::init {
namespace {

bool matches(const std::string& pattern, const std::string& name) {
  auto p = NamePattern::compile(pattern);
  EXPECT_TRUE(p.is_ok()) << pattern << ": " << p.status().message();
  return p.is_ok() && p->search(name);
}

TEST(NamePatternTest, AgreesWithStdRegexSearchOnShortNames) {
  const char* patterns[] = {"fc[12]\\.weight", "^fc2\\.", "bias", ".*bias", "w.*", "a+b", "(a|b)*c", "^$",
                            "x?y{2,3}z", "[^a-c]+$", "\\d+\\.\\w", "^(ab|a)(bc|c)$", "(?:ab)+", "a{0}b", "[]", "[^]",
                            "a{2,}", "[a\\-z]", "\\s|\\S", "(a*)*b", "a|", "()", "\\/mlp\\/", "a.c"};
  const char* names[] = {"fc1.weight", "fc2.weight", "fc3.weight", "fc2.bias", "fc1_weight", "", "ab", "abc", "aab",
                         "ccc", "xyyz", "yyyz", "12.a", "bbbbc", "/mlp/mlp.0/Gemm", "a\nc", "ac", "aaab", "-", "z"};
  for (const char* pattern : patterns) {
    const std::regex reference(pattern, std::regex::ECMAScript);
    auto compiled = NamePattern::compile(pattern);
    ASSERT_TRUE(compiled.is_ok()) << pattern << ": " << compiled.status().message();
    for (const char* name : names) {
      EXPECT_EQ(compiled->search(name), std::regex_search(name, reference)) << "pattern " << pattern << " on '" << name << "'";
    }
  }
}

TEST(NamePatternTest, AClassBesideADashIsAUnion) {
  // ECMAScript (Annex B) reads [\d-z] as digits, '-' and 'z'; libstdc++'s
  // std::regex refuses it, so this one is checked on its own.
  EXPECT_TRUE(matches("^[\\d-z]+$", "1-z9"));
  EXPECT_FALSE(matches("^[\\d-z]+$", "y"));
}

TEST(NamePatternTest, TheReportedPatternsOnHugeNames) {
  // 60 KiB (under the loader's name limit) and 1 MB (above it: the matcher
  // alone must still cope). std::regex overflowed the stack on 50,000 bytes.
  for (size_t size : {size_t{60} << 10, size_t{1} << 20}) {
    const std::string name = std::string(size, 'w') + "bias";
    const auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(matches(".*bias", name));
    EXPECT_TRUE(matches("w.*", name));
    EXPECT_FALSE(matches("a+b", name));
    EXPECT_FALSE(matches("(a|b)*c", name));
    EXPECT_TRUE(matches("(a|b)*c", std::string(size, 'a') + "c"));
    EXPECT_TRUE(matches("^w+bias$", name));
    EXPECT_FALSE(matches("^w+bia$", name));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // Linear time: a few passes over a megabyte take milliseconds; a generous
    // bound that only a blow-up (backtracking, quadratic restarts) would pass.
    EXPECT_LT(seconds, 20.0) << size;
  }
}

TEST(NamePatternTest, RunsOnASmallStack) {
  // The stack needed does not depend on the name: a 1 MB name is searched on a
  // thread with 512 KiB of stack. A matcher that recursed per character (as
  // std::regex does) needs tens of bytes of stack per character, far more
  // than that for 1 MB. (64 KiB was tried first: under ASan the thread's
  // static TLS, which grew with the kernels' thread_local scratch, no longer
  // fits beside it and pthread_create refuses the size with EINVAL.)
  struct Job {
    bool found = false, compiled = false;
  } job;
  pthread_attr_t attr;
  ASSERT_EQ(pthread_attr_init(&attr), 0);
  ASSERT_EQ(pthread_attr_setstacksize(&attr, 512 << 10), 0);
  pthread_t thread;
  auto body = [](void* arg) -> void* {
    auto* j = static_cast<Job*>(arg);
    auto p = NamePattern::compile("(a|b)*c|.*bias");
    j->compiled = p.is_ok();
    if (j->compiled) j->found = p->search(std::string(1 << 20, 'a') + "bias");
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&thread, &attr, body, &job), 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
  EXPECT_TRUE(job.compiled);
  EXPECT_TRUE(job.found);
}

TEST(NamePatternTest, RefusesWhatItDoesNotImplement) {
  const std::pair<const char*, const char*> cases[] = {
      {"fc[", "missing ']'"},
      {"(a", "missing ')'"},
      {"a)", "unmatched ')'"},
      {"*a", "nothing to repeat"},
      {"^*", "nothing to repeat"},
      {"(a)\\1", "unsupported escape '\\1'"},
      {"\\bword", "unsupported escape '\\b'"},
      {"(?=a)", "lookaround"},
      {"a{2,1}", "n < m"},
      {"a{1001}", "above 1000"},
      {"a{x}", "counted repeat"},
      {"(a{1000}){1000}", "more than 100000 states"},
      {"[z-a]", "bad range"},
      {"a\\", "cannot end with"},
  };
  for (const auto& [pattern, why] : cases) {
    auto p = NamePattern::compile(pattern);
    ASSERT_FALSE(p.is_ok()) << pattern;
    EXPECT_EQ(p.status().code(), ErrorCode::kUsage) << pattern;
    EXPECT_NE(p.status().message().find(why), std::string::npos) << pattern << ": " << p.status().message();
  }
  EXPECT_FALSE(NamePattern::compile(std::string(5000, 'a')).is_ok()) << "patterns over 4096 bytes";
  EXPECT_FALSE(NamePattern::compile(std::string(200, '(') + std::string(200, ')')).is_ok()) << "nesting over 100";
}

}  // namespace
}  // namespace onnx_mini::init
