// The gate reads JSON text with its fast reader and a parsed document as it is;
// both fill the one model the lints run on. These tests hold the two to the same
// answer on every gate case, every fuzz seed and the inputs where JSON readers
// are known to differ (key order, repeated keys, number forms, bad text).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "conjure/errors.hpp"
#include "conjure/kernel/gate.hpp"
#include "conjure/world/world.hpp"

namespace fs = std::filesystem;
using conjure::Json;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Json diagnostics_of(const conjure::GateResult& r) {
  Json out = Json::array();
  for (const auto& d : r.diagnostics) out.push_back(d.to_json());
  return out;
}

// What a reader made of the text: the findings and the resolved world, or the
// error it threw.
struct Outcome {
  bool threw = false;
  std::string error;
  std::size_t offset = 0;
  bool ok = false;
  Json diagnostics;
  Json resolved;
};

Outcome through_text(std::string_view text, const conjure::GateOptions& options) {
  Outcome o;
  try {
    conjure::GateResult r = conjure::run_gate_text(text, options);
    o.ok = r.ok;
    o.diagnostics = diagnostics_of(r);
    o.resolved = r.resolved;
  } catch (const conjure::Error& e) {
    o.threw = true;
    o.error = e.what();
    o.offset = e.offset();
  }
  return o;
}

Outcome through_document(std::string_view text, const conjure::GateOptions& options) {
  Outcome o;
  try {
    Json doc = conjure::parse_json(text, options.limits);
    conjure::GateResult r = conjure::run_gate(doc, options);
    o.ok = r.ok;
    o.diagnostics = diagnostics_of(r);
    o.resolved = r.resolved;
  } catch (const conjure::Error& e) {
    o.threw = true;
    o.error = e.what();
    o.offset = e.offset();
  }
  return o;
}

void expect_same(std::string_view text, const std::string& where,
                 const conjure::GateOptions& options = conjure::GateOptions{}) {
  Outcome a = through_text(text, options);
  Outcome b = through_document(text, options);
  ASSERT_EQ(a.threw, b.threw) << where << ": " << a.error << " / " << b.error;
  EXPECT_EQ(a.error, b.error) << where;
  EXPECT_EQ(a.offset, b.offset) << where;
  EXPECT_EQ(a.ok, b.ok) << where;
  EXPECT_EQ(a.diagnostics, b.diagnostics) << where << "\n" << a.diagnostics.dump(1) << "\n"
                                          << b.diagnostics.dump(1);
  EXPECT_EQ(a.resolved, b.resolved) << where;
  if (!a.threw && a.ok) {
    EXPECT_EQ(conjure::resolve_text(text, options.limits), a.resolved) << where;
  }
}

}  // namespace

TEST(GateReaders, AgreeOnEveryGateCase) {
  std::size_t n = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(CONJURE_TEST_DATA) / "gate")) {
    if (entry.path().extension() != ".json") continue;
    Json doc = Json::parse(read_file(entry.path()));
    for (const Json& c : doc.at("cases")) {
      conjure::GateOptions options;
      if (c.contains("limits")) {
        for (auto it = c["limits"].begin(); it != c["limits"].end(); ++it) {
          std::size_t v = it->get<std::size_t>();
          if (it.key() == "max_states") options.limits.max_states = v;
          if (it.key() == "max_events") options.limits.max_events = v;
          if (it.key() == "max_prose_chars") options.limits.max_prose_chars = v;
          if (it.key() == "max_document_bytes") options.limits.max_document_bytes = v;
          if (it.key() == "max_depth") options.limits.max_depth = v;
          if (it.key() == "budget_tokens") options.limits.budget_tokens = v;
        }
      }
      std::string where = entry.path().filename().string() + ": " + c.value("name", "?");
      expect_same(c.at("world").dump(), where, options);
      expect_same(c.at("world").dump(2), where + " (indented)", options);
      ++n;
    }
  }
  EXPECT_GT(n, 0u);
}

TEST(GateReaders, AgreeOnEveryFuzzSeed) {
  fs::path dir = fs::path(CONJURE_TEST_DATA) / "fuzz" / "fuzz_gate";
  std::size_t n = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    expect_same(read_file(entry.path()), entry.path().filename().string());
    ++n;
  }
  EXPECT_GT(n, 0u);
}

TEST(GateReaders, AgreeWhereJsonReadersDiffer) {
  const std::string world_head =
      R"({"name":"w","entrance":{"state":"b"},"scene":{"slots":{"z":"zed","a":"{z} ay"},)";
  const std::vector<std::string> texts = {
      // states out of key order; a repeated key (the last one counts)
      world_head + R"("states":{"b":{"base":"{a} first"},"a":{"base":"no light"},"b":{"base":"{a} second"}},"events":[]}})",
      // a repeated key inside an event and a single-string `from`
      world_head + R"("states":{"b":{"base":"x"},"c":{"base":"y"}},"events":[{"name":"go","kind":"transition","from":"b","to":"c","to":"nowhere"}]}})",
      // number forms in timing: negative zero, integers, exponents, huge integers
      world_head + R"("states":{"b":{}},"events":[{"name":"e","kind":"override","from":["b"],"timing":{"after":-0,"duration":-1e2}}]}})",
      world_head + R"("states":{"b":{}},"events":[{"name":"e","kind":"override","from":["b"],"timing":{"after":-5,"duration":-2.5}}]}})",
      world_head + R"("states":{"b":{}},"events":[{"name":"e","kind":"override","from":["b"],"timing":{"after":123456789012345678901234567890}}]}})",
      world_head + R"("states":{"b":{}},"events":[{"name":"e","kind":"override","from":["b"],"timing":{"after":18446744073709551615}}]}})",
      world_head + R"("states":{"b":{}},"events":[{"name":"e","kind":"override","from":["b"],"timing":{"after":1e-400}}]}})",
      // escapes in keys and values, unknown properties kept in the resolved world
      world_head + R"("states":{"\u0062":{"base":"caf\u00e9 {a}","extra":[1,{"k":null}]}},"events":[],"x":true}})",
      // a null schemaVersion, a wrong one
      R"({"schemaVersion":null,"name":"w","entrance":{"state":"s"},"scene":{"states":{"s":{}},"events":[]}})",
      R"({"schemaVersion":"2.0","name":"w"})",
      // bad text: each reader must refuse it with the same message and offset
      "", " ", "{", "[1,]", "{\"a\":01}", "{\"a\":1e999}", "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}",
      "{\"a\":\"x\ty\"}", std::string("{\"a\":\"x\0y\"}", 10), std::string("{}\0", 3), "{} x",
      "\xEF\xBB\xBF{}", "{\"a\":\"\xff\"}", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
      "123", "\"text\"", "null", "[]",
  };
  for (std::size_t i = 0; i < texts.size(); ++i) expect_same(texts[i], "text " + std::to_string(i));
}

TEST(GateReaders, LimitsApplyToTheText) {
  std::string text = R"({"name":"w","entrance":{"state":"s"},"scene":{"states":{"s":{"base":"[[[]]]"}},"events":[]}})";
  conjure::GateOptions small;
  small.limits.max_document_bytes = 20;
  expect_same(text, "bytes", small);
  conjure::GateOptions shallow;
  shallow.limits.max_depth = 2;
  expect_same(text, "depth 2", shallow);
  shallow.limits.max_depth = 3;
  expect_same(text, "depth 3", shallow);
}

TEST(GateReaders, ResolveCanWaitUntilAskedFor) {
  std::string text = R"({"name":"w","entrance":{"state":"s"},"scene":{"slots":{"a":"ay"},"states":{"s":{"base":"{a} b"}},"events":[]}})";
  conjure::GateOptions lazy;
  lazy.resolve = false;
  conjure::GateResult r = conjure::run_gate_text(text, lazy);
  EXPECT_TRUE(r.ok);
  EXPECT_TRUE(r.resolved.is_null());
  conjure::GateResult full = conjure::run_gate_text(text);
  EXPECT_EQ(diagnostics_of(r), diagnostics_of(full));
  Json resolved = conjure::resolve_text(text);
  EXPECT_EQ(resolved, full.resolved);
  EXPECT_EQ(resolved["scene"]["states"]["s"]["base"], "ay b");
  EXPECT_EQ(resolved["schemaVersion"], "1.0");
}
