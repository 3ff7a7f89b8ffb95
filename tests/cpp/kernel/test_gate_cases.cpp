// Runs the table-driven gate cases in tests/data/gate/*.json (the same files
// the Python and HTTP tests read) and checks that every lint has its cases.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "conjure/kernel/gate.hpp"

namespace fs = std::filesystem;
using conjure::Json;

namespace {

const fs::path kGateData = fs::path(CONJURE_TEST_DATA) / "gate";

Json read_json(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return Json::parse(ss.str());
}

bool subset(const Json& want, const Json& got) {
  if (want.is_object()) {
    if (!got.is_object()) return false;
    for (auto it = want.begin(); it != want.end(); ++it) {
      auto g = got.find(it.key());
      if (g == got.end() || !subset(*it, *g)) return false;
    }
    return true;
  }
  return want == got;
}

conjure::Limits limits_of(const Json& spec) {
  conjure::Limits l;
  if (!spec.is_object()) return l;
  for (auto it = spec.begin(); it != spec.end(); ++it) {
    std::size_t v = it->get<std::size_t>();
    const std::string& k = it.key();
    if (k == "max_states") l.max_states = v;
    else if (k == "max_events") l.max_events = v;
    else if (k == "max_prose_chars") l.max_prose_chars = v;
    else if (k == "max_document_bytes") l.max_document_bytes = v;
    else if (k == "max_depth") l.max_depth = v;
    else if (k == "budget_tokens") l.budget_tokens = v;
    else ADD_FAILURE() << "unknown limits key " << k;
  }
  return l;
}

std::vector<fs::path> case_files() {
  std::vector<fs::path> files;
  if (!fs::is_directory(kGateData)) return files;
  for (const auto& entry : fs::directory_iterator(kGateData)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST(GateCases, EveryCaseFileProducesItsExpectedDiagnostics) {
  auto files = case_files();
  ASSERT_FALSE(files.empty()) << "no case files in " << kGateData;
  std::size_t cases = 0;
  for (const fs::path& file : files) {
    Json doc = read_json(file);
    ASSERT_TRUE(doc.contains("cases")) << file;
    for (const Json& c : doc["cases"]) {
      ++cases;
      std::string where = file.filename().string() + ": " + c.value("name", "?");
      conjure::GateOptions opts;
      opts.limits = limits_of(c.value("limits", Json()));
      if (c.contains("characters")) opts.characters = c["characters"].get<std::vector<std::string>>();
      conjure::GateResult r = conjure::run_gate(c.at("world"), opts);
      Json got = Json::array();
      for (const auto& d : r.diagnostics) got.push_back(d.to_json());
      if (c.contains("ok")) {
        EXPECT_EQ(r.ok, c["ok"].get<bool>()) << where << "\n" << got.dump(1);
      }
      EXPECT_EQ(r.ok, r.resolved.is_object()) << where;
      for (const Json& want : c.value("expect", Json::array())) {
        bool found = false;
        for (const Json& d : got) found = found || subset(want, d);
        EXPECT_TRUE(found) << where << ": missing " << want.dump() << "\nin " << got.dump(1);
      }
      for (const Json& absent : c.value("absent", Json::array())) {
        for (const Json& d : got) {
          EXPECT_NE(d["lint"], absent) << where << ": " << absent << " fired: " << d.dump();
        }
      }
    }
  }
  EXPECT_GT(cases, 0u);
}

TEST(GateCases, EveryLintHasACaseThatFiresAndANearMissThatDoesNot) {
  for (const auto& info : conjure::lint_catalogue()) {
    if (info.id == "plugin-error") continue;  // needs a plugin: see test_gate.cpp
    fs::path file = kGateData / (info.id + ".json");
    ASSERT_TRUE(fs::exists(file)) << "no case file for lint " << info.id;
    Json doc = read_json(file);
    EXPECT_EQ(doc.value("lint", ""), info.id) << file;
    bool fires = false, near_miss = false;
    for (const Json& c : doc["cases"]) {
      for (const Json& want : c.value("expect", Json::array())) {
        if (want.value("lint", "") == info.id) {
          fires = true;
          EXPECT_EQ(want.value("severity", ""), conjure::severity_name(info.severity))
              << file << ": " << c.value("name", "");
        }
      }
      for (const Json& a : c.value("absent", Json::array())) near_miss = near_miss || a == info.id;
    }
    EXPECT_TRUE(fires) << info.id << " has no case that expects it to fire";
    EXPECT_TRUE(near_miss) << info.id << " has no near-miss case that lists it in `absent`";
  }
}
