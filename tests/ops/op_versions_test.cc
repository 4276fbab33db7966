// The registry against the specification's version table (op_versions.txt):
// at every opset from 1 to the newest the loader accepts, each op resolves to
// the newest version the specification defines at that opset (nothing below
// the oldest version onnx-mini runs). A registered op without a line fails, so
// a new op family cannot skip the table; a line without a registered op fails too.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "graph/onnx_loader.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

struct TableRow {
  std::string domain, op;
  std::vector<int> versions;  // ascending
  int first = 0;              // oldest version onnx-mini runs
  int line = 0;
};

std::string table_path() { return std::string(ONNX_MINI_SOURCE_DIR) + "/tests/ops/op_versions.txt"; }

// "OP V1 V2 ... [from N]"; ADD_FAILURE on a malformed line.
std::vector<TableRow> read_table() {
  std::ifstream in(table_path());
  EXPECT_TRUE(in.good()) << "cannot read " << table_path();
  std::vector<TableRow> rows;
  std::string text;
  for (int line = 1; std::getline(in, text); ++line) {
    if (text.empty() || text[0] == '#') continue;
    std::istringstream words(text);
    TableRow row;
    row.line = line;
    std::string name, word;
    words >> name;
    const size_t colon = name.find(':');
    row.domain = colon == std::string::npos ? "" : name.substr(0, colon);
    row.op = colon == std::string::npos ? name : name.substr(colon + 1);
    while (words >> word) {
      if (word == "from") {
        words >> row.first;
        continue;
      }
      row.versions.push_back(std::stoi(word));
    }
    if (row.versions.empty() || !std::is_sorted(row.versions.begin(), row.versions.end())) {
      ADD_FAILURE() << "op_versions.txt:" << line << ": versions must be given in ascending order: " << text;
      continue;
    }
    if (row.first == 0) row.first = row.versions.front();
    rows.push_back(row);
  }
  return rows;
}

// The newest listed version <= opset, or 0.
int spec_version_at(const TableRow& row, int opset) {
  int v = 0;
  for (int since : row.versions) {
    if (since <= opset) v = since;
  }
  return v;
}

// The highest opset to check for a domain: ai.onnx up to what the loader
// accepts, onnx-mini's own domain up to its newest version listed.
int highest_opset(const TableRow& row) { return row.domain.empty() ? kMaxOnnxOpset : row.versions.back(); }

TEST(OpVersions, EveryOpsetResolvesToTheSpecifiedVersion) {
  const OpRegistry& r = default_registry();
  for (const TableRow& row : read_table()) {
    for (int opset = 1; opset <= highest_opset(row); ++opset) {
      const int spec = spec_version_at(row, opset);
      const int want = spec >= row.first ? spec : 0;
      const OpDef* def = r.find(row.op, row.domain, opset);
      const int got = def ? def->since_version : 0;
      EXPECT_EQ(got, want) << row.op << " at opset " << opset << " (op_versions.txt:" << row.line << "; 0 = none)";
    }
  }
}

TEST(OpVersions, EveryRegisteredOpHasALineAndEveryLineAnOp) {
  std::set<std::pair<std::string, std::string>> listed;
  for (const TableRow& row : read_table()) {
    EXPECT_TRUE(listed.insert({row.domain, row.op}).second) << row.op << " is listed twice";
  }
  std::set<std::pair<std::string, std::string>> registered;
  for (const OpDef* d : default_registry().all()) registered.insert({d->domain, d->op_type});
  for (const auto& [domain, op] : registered) {
    EXPECT_TRUE(listed.count({domain, op}))
        << (domain.empty() ? "" : domain + ":") << op << " is registered but has no line in tests/ops/op_versions.txt";
  }
  for (const auto& [domain, op] : listed) {
    EXPECT_TRUE(registered.count({domain, op}))
        << (domain.empty() ? "" : domain + ":") << op << " has a line in tests/ops/op_versions.txt but is not registered";
  }
}

// Every registered definition is one of the listed versions: a definition at a
// version the specification does not have would resolve opsets wrongly.
TEST(OpVersions, NoDefinitionAtAVersionTheSpecificationLacks) {
  std::map<std::pair<std::string, std::string>, std::vector<int>> versions;
  for (const TableRow& row : read_table()) versions[{row.domain, row.op}] = row.versions;
  for (const OpDef* d : default_registry().all()) {
    auto it = versions.find({d->domain, d->op_type});
    if (it == versions.end()) continue;  // reported by the test above
    EXPECT_TRUE(std::count(it->second.begin(), it->second.end(), d->since_version))
        << d->op_type << " is registered at version " << d->since_version << ", not a version of the specification";
  }
}

}  // namespace
}  // namespace onnx_mini
