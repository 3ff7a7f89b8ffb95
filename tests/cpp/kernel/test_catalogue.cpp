// The lint catalogue may not drift from WORLD.md's two tables (kept in the repository as
// tests/data/spec/world-lints.md, so this runs on every checkout), the character table of
// docs/lints.md, or docs/lints.md's sections.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "conjure/kernel/gate.hpp"

namespace fs = std::filesystem;

namespace {

struct Row {
  std::string id;
  std::string severity;
};

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) out.push_back(line);
  return out;
}

std::string between_backticks(const std::string& s) {
  auto a = s.find('`');
  auto b = a == std::string::npos ? a : s.find('`', a + 1);
  return b == std::string::npos ? "" : s.substr(a + 1, b - a - 1);
}

// WORLD.md: the structural table rows are "| `id` | fires when |" (all error);
// the advisory table rows are "| `id` | severity | fires when |".
std::vector<Row> spec_rows(const std::string& text) {
  std::vector<Row> rows;
  for (const std::string& line : lines_of(text)) {
    if (line.rfind("| `", 0) != 0) continue;
    std::vector<std::string> cells;
    std::stringstream ss(line.substr(1));
    std::string cell;
    while (std::getline(ss, cell, '|')) cells.push_back(cell);
    std::string id = between_backticks(cells.at(0));
    std::string sev = "error";
    if (cells.size() >= 3) {
      sev = cells[1];
      sev.erase(0, sev.find_first_not_of(' '));
      sev.erase(sev.find_last_not_of(' ') + 1);
    }
    rows.push_back({id, sev});
  }
  return rows;
}

// docs/lints.md's character table: the "| `id` | severity | fires when |" rows
// under "## Character lints".
std::vector<Row> character_rows(const std::string& text) {
  std::string table;
  bool in = false;
  for (const std::string& line : lines_of(text)) {
    if (line.rfind("## ", 0) == 0) in = line == "## Character lints";
    if (in) table += line + "\n";
  }
  return spec_rows(table);
}

// docs/lints.md: a "### `id`" heading per lint, then a "Severity: **sev**" line.
std::vector<Row> doc_rows(const std::string& text) {
  std::vector<Row> rows;
  for (const std::string& line : lines_of(text)) {
    if (line.rfind("### `", 0) == 0) {
      rows.push_back({between_backticks(line), ""});
    } else if (line.rfind("Severity: **", 0) == 0 && !rows.empty() && rows.back().severity.empty()) {
      std::string rest = line.substr(12);
      rows.back().severity = rest.substr(0, rest.find("**"));
    }
  }
  return rows;
}

}  // namespace

TEST(Catalogue, ListsEveryLintOfWorldMdAndTheCharacterTableInOrderWithItsSeverity) {
  fs::path spec = fs::path(CONJURE_SOURCE_DIR) / "tests" / "data" / "spec" / "world-lints.md";
  ASSERT_TRUE(fs::exists(spec)) << spec;
  std::vector<Row> rows = spec_rows(read(spec));
  ASSERT_GE(rows.size(), 20u) << "could not read the lint tables of " << spec;
  std::vector<Row> chars = character_rows(read(fs::path(CONJURE_SOURCE_DIR) / "docs" / "lints.md"));
  ASSERT_GE(chars.size(), 4u) << "could not read the character table of docs/lints.md";
  for (const Row& r : chars) EXPECT_EQ(r.id.rfind("character-", 0), 0u) << r.id;
  rows.insert(rows.end(), chars.begin(), chars.end());
  const auto& cat = conjure::lint_catalogue();
  ASSERT_EQ(cat.size(), rows.size() + 1)
      << "the catalogue is WORLD.md's lints, docs/lints.md's character lints, then plugin-error";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(cat[i].id, rows[i].id) << "row " << i;
    EXPECT_EQ(conjure::severity_name(cat[i].severity), rows[i].severity) << rows[i].id;
    EXPECT_EQ(cat[i].structural, rows[i].severity == "error") << rows[i].id;
  }
  EXPECT_EQ(cat.back().id, "plugin-error");
}

TEST(Catalogue, DocsLintsMdHasASectionPerLintInCatalogueOrder) {
  fs::path docs = fs::path(CONJURE_SOURCE_DIR) / "docs" / "lints.md";
  ASSERT_TRUE(fs::exists(docs)) << docs;
  std::vector<Row> rows = doc_rows(read(docs));
  const auto& cat = conjure::lint_catalogue();
  ASSERT_EQ(rows.size(), cat.size());
  for (std::size_t i = 0; i < cat.size(); ++i) {
    EXPECT_EQ(rows[i].id, cat[i].id) << "section " << i;
    EXPECT_EQ(rows[i].severity, conjure::severity_name(cat[i].severity)) << cat[i].id;
  }
}

TEST(Catalogue, EntriesAreUniqueAndDescribed) {
  const auto& cat = conjure::lint_catalogue();
  for (std::size_t i = 0; i < cat.size(); ++i) {
    EXPECT_FALSE(cat[i].description.empty()) << cat[i].id;
    EXPECT_EQ(cat[i].description.find('\n'), std::string::npos) << cat[i].id;
    for (std::size_t j = i + 1; j < cat.size(); ++j) EXPECT_NE(cat[i].id, cat[j].id);
  }
}
