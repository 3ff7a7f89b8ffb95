// Unit tests of the kernel gate: compiling slots, the resolved world, stable
// order, plugins, the tokenizer, and worlds too deep to walk recursively.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>

#include "conjure/errors.hpp"
#include "conjure/kernel/gate.hpp"
#include "conjure/world/world.hpp"

using conjure::Json;

namespace {

Json small_world() {
  return Json::parse(R"({
    "name": "Hall", "entrance": {"state": "hall"},
    "scene": {
      "states": {
        "hall": {"base": "a stone hall"},
        "yard": {"base": "a grassy yard", "ending": {"kind": "win", "title": "Out"}}
      },
      "events": [{"name": "Go out", "kind": "transition", "from": ["hall"], "to": "yard", "hotkey": "E"}]
    }})");
}

std::vector<const conjure::Diagnostic*> with_lint(const conjure::GateResult& r, const std::string& lint) {
  std::vector<const conjure::Diagnostic*> out;
  for (const auto& d : r.diagnostics) {
    if (d.lint == lint) out.push_back(&d);
  }
  return out;
}

// A chain s0 -> s1 -> ... -> s{n-1}, the last one an ending.
Json chain_world(std::size_t n, bool self_firing) {
  Json w = small_world();
  Json states = Json::object();
  Json events = Json::array();
  for (std::size_t i = 0; i < n; ++i) {
    std::string id = "s" + std::to_string(i);
    states[id] = {{"base", "room " + std::to_string(i)}};
    if (i + 1 < n) {
      Json e = {{"name", "step " + std::to_string(i)}, {"kind", "transition"}, {"from", id},
                {"to", "s" + std::to_string(i + 1)}};
      if (self_firing) e["timing"] = {{"after", 1}};
      else e["hotkey"] = "E";
      events.push_back(std::move(e));
    }
  }
  states["s" + std::to_string(n - 1)]["ending"] = {{"kind", "win"}, {"title", "End"}};
  w["entrance"]["state"] = "s0";
  w["scene"]["states"] = std::move(states);
  w["scene"]["events"] = std::move(events);
  return w;
}

}  // namespace

TEST(GateCompile, FillsSlotsRecursivelyAndKeepsEscapedBracesLiteral) {
  Json w = small_world();
  w["scene"]["slots"] = {{"abbey", "a {ruined} abbey"}, {"ruined", "ruined gothic"}};
  w["scene"]["states"]["hall"]["base"] = "{abbey}, {{abbey}}, { a brace }, {not a slot}, }} {";
  auto r = conjure::run_gate(w);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.resolved["scene"]["states"]["hall"]["base"],
            "a ruined gothic abbey, {abbey}, { a brace }, {not a slot}, } {");
  // The lexicon itself is kept as written.
  EXPECT_EQ(r.resolved["scene"]["slots"]["abbey"], "a {ruined} abbey");
}

TEST(GateCompile, ResolvedWorldFillsEveryProseFieldAndNormalises) {
  Json w = small_world();
  w["scene"]["slots"] = {{"x", "mist"}};
  Json& hall = w["scene"]["states"]["hall"];
  hall["base"] = "{x} base";
  hall["camera"] = {{"static", "{x} cs"}, {"dynamic", "{x} cd"}};
  hall["movement"] = {{"static", "{x} ms"}, {"dynamic", "{x} md"}};
  hall["ambient"] = {"{x} a0", "{x} a1"};
  hall["variants"] = {{{"label", "B"}, {"base", "{x} vb"}, {"camera", {{"static", "{x} vcs"}}}, {"ambient", {"{x} va"}}}};
  hall["future"] = {{"keep", "{x}"}};
  Json& ev = w["scene"]["events"][0];
  ev["from"] = "hall";
  ev["base"] = "{x} eb";
  ev["detail"] = "{x} ed";
  ev["camera"] = {{"dynamic", "{x} ecd"}};
  ev["movement"] = {{"static", "{x} ems"}};
  w["scene"]["cutscenes"] = {{{"name", "Bell"}, {"state", "hall"}, {"base", "{x} cut"}}};
  auto r = conjure::run_gate(w);
  ASSERT_TRUE(r.ok) << r.diagnostics.size();
  const Json& s = r.resolved["scene"];
  EXPECT_EQ(r.resolved["schemaVersion"], "1.0");
  EXPECT_EQ(s["states"]["hall"]["base"], "mist base");
  EXPECT_EQ(s["states"]["hall"]["camera"]["dynamic"], "mist cd");
  EXPECT_EQ(s["states"]["hall"]["movement"]["static"], "mist ms");
  EXPECT_EQ(s["states"]["hall"]["ambient"][1], "mist a1");
  EXPECT_EQ(s["states"]["hall"]["variants"][0]["base"], "mist vb");
  EXPECT_EQ(s["states"]["hall"]["variants"][0]["camera"]["static"], "mist vcs");
  EXPECT_EQ(s["states"]["hall"]["variants"][0]["ambient"][0], "mist va");
  EXPECT_EQ(s["states"]["hall"]["future"]["keep"], "{x}");  // unknown fields kept verbatim
  EXPECT_EQ(s["events"][0]["from"], Json::array({"hall"}));
  EXPECT_EQ(s["events"][0]["base"], "mist eb");
  EXPECT_EQ(s["events"][0]["detail"], "mist ed");
  EXPECT_EQ(s["events"][0]["camera"]["dynamic"], "mist ecd");
  EXPECT_EQ(s["events"][0]["movement"]["static"], "mist ems");
  EXPECT_EQ(s["cutscenes"][0]["base"], "mist cut");
}

TEST(GateCompile, RefusesAnExponentialExpansionAsALimitWithoutBuildingIt) {
  Json w = small_world();
  Json slots = Json::object();
  slots["s0"] = "grey stone";
  for (int i = 1; i <= 60; ++i) {
    std::string prev = "{s" + std::to_string(i - 1) + "}";
    slots["s" + std::to_string(i)] = prev + prev;  // doubles: 2^60 copies at the top
  }
  w["scene"]["slots"] = slots;
  w["scene"]["states"]["hall"]["base"] = "{s60}";
  auto r = conjure::run_gate(w);
  EXPECT_FALSE(r.ok);
  auto limits = with_lint(r, "limit");
  auto at_field = std::find_if(limits.begin(), limits.end(),
                               [](auto* d) { return d->path == "state[hall].base"; });
  ASSERT_NE(at_field, limits.end());
  EXPECT_NE((*at_field)->message.find("max_prose_chars"), std::string::npos);
  EXPECT_TRUE(r.resolved.is_null());
}

TEST(GateCompile, RefusesSlotsThatWouldFillTheWorldPastEightTimesTheByteLimit) {
  Json w = small_world();
  w["scene"]["slots"] = {{"big", std::string(3000, 'a')}};
  Json ambient = Json::array();
  for (int i = 0; i < 400; ++i) ambient.push_back("{big}");
  w["scene"]["states"]["hall"]["ambient"] = ambient;
  conjure::GateOptions opts;
  opts.limits.max_document_bytes = 100000;  // 800,000 bytes of filled prose at most
  auto r = conjure::run_gate(w, opts);
  EXPECT_FALSE(r.ok);
  auto limits = with_lint(r, "limit");
  ASSERT_EQ(limits.size(), 1u);
  EXPECT_EQ(limits[0]->path, "scene");
}

TEST(GateCompile, DetectsACycleThroughALongSlotChainWithoutRecursing) {
  Json w = small_world();
  Json slots = Json::object();
  const int n = 20000;
  for (int i = 0; i < n; ++i) slots["k" + std::to_string(i)] = "{k" + std::to_string((i + 1) % n) + "}";
  w["scene"]["slots"] = slots;
  w["scene"]["states"]["hall"]["base"] = "{k0}";
  auto r = conjure::run_gate(w);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(with_lint(r, "slot-cycle").size(), static_cast<std::size_t>(n));
}

TEST(GateCompile, FillsALongAcyclicSlotChain) {
  Json w = small_world();
  Json slots = Json::object();
  const int n = 20000;
  for (int i = 0; i + 1 < n; ++i) slots["k" + std::to_string(i)] = "{k" + std::to_string(i + 1) + "}";
  slots["k" + std::to_string(n - 1)] = "deep water";
  w["scene"]["slots"] = slots;
  w["scene"]["states"]["hall"]["base"] = "{k0}";
  auto r = conjure::run_gate(w);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.resolved["scene"]["states"]["hall"]["base"], "deep water");
}

TEST(GateOrder, DiagnosticsAreSortedByPathThenLintAndRepeatable) {
  Json w = small_world();
  w["scene"]["states"]["hall"]["base"] = "no light, not a sound, the player should wait";
  w["scene"]["states"]["attic"] = {{"base", "nothing"}};
  w["scene"]["events"][0]["hotkey"] = "w";
  w["scene"]["slots"] = {{"unused", "never"}};
  auto a = conjure::run_gate(w);
  auto b = conjure::run_gate(w);
  ASSERT_EQ(a.diagnostics.size(), b.diagnostics.size());
  for (std::size_t i = 0; i < a.diagnostics.size(); ++i) {
    EXPECT_EQ(a.diagnostics[i].to_json(), b.diagnostics[i].to_json());
    if (i > 0) {
      const auto& p = a.diagnostics[i - 1];
      const auto& q = a.diagnostics[i];
      EXPECT_TRUE(p.path < q.path || (p.path == q.path && p.lint <= q.lint)) << p.path << " / " << q.path;
    }
  }
  // Matches in one field stay in text order.
  std::vector<const conjure::Diagnostic*> neg;
  for (auto* d : with_lint(a, "negation")) {
    if (d->path == "state[hall].base") neg.push_back(d);
  }
  ASSERT_EQ(neg.size(), 2u);
  EXPECT_EQ(neg[0]->loc["match"], "no");
  EXPECT_EQ(neg[1]->loc["match"], "not");
}

namespace {

class ThrowingLint : public conjure::ExternalLint {
 public:
  std::string id() const override { return "plugin.broken"; }
  std::vector<conjure::Diagnostic> run(const Json&) override { throw std::runtime_error("boom"); }
};

class SeeingLint : public conjure::ExternalLint {
 public:
  Json seen;
  std::string id() const override { return "plugin.seeing"; }
  std::vector<conjure::Diagnostic> run(const Json& world) override {
    seen = world;
    return {conjure::Diagnostic{"plugin.seeing", conjure::Severity::kInfo, "state[hall]", "seen", Json()}};
  }
};

}  // namespace

TEST(GatePlugins, AnExceptionBecomesOnePluginErrorWarningAndTheGateStillPasses) {
  conjure::GateOptions opts;
  opts.plugins.push_back(std::make_shared<ThrowingLint>());
  auto seeing = std::make_shared<SeeingLint>();
  opts.plugins.push_back(seeing);
  Json w = small_world();
  w["scene"]["slots"] = {{"x", "mist"}};
  w["scene"]["states"]["hall"]["base"] = "{x} hall";
  auto r = conjure::run_gate(w, opts);
  EXPECT_TRUE(r.ok);
  auto errs = with_lint(r, "plugin-error");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0]->severity, conjure::Severity::kWarning);
  EXPECT_EQ(errs[0]->path, "plugin[plugin.broken]");
  EXPECT_NE(errs[0]->message.find("boom"), std::string::npos);
  // Later plugins still run, on the resolved world.
  EXPECT_EQ(with_lint(r, "plugin.seeing").size(), 1u);
  EXPECT_EQ(seeing->seen["scene"]["states"]["hall"]["base"], "mist hall");
}

TEST(GateGraph, WalksA10000StateChainWithoutOverflowingTheStack) {
  auto r = conjure::run_gate(chain_world(10000, false));
  EXPECT_TRUE(r.ok);
  EXPECT_TRUE(with_lint(r, "unreachable").empty());
  EXPECT_TRUE(with_lint(r, "stuck").empty());
  EXPECT_TRUE(with_lint(r, "no-ending").empty());
}

TEST(GateGraph, FindsOneKernelCycleInA10000StateSelfFiringRing) {
  Json w = chain_world(10000, true);
  w["scene"]["states"]["s9999"].erase("ending");
  w["scene"]["events"].push_back(
      {{"name", "wrap"}, {"kind", "transition"}, {"from", {"s9999"}}, {"to", "s0"}, {"timing", {{"after", 1}}}});
  auto r = conjure::run_gate(w);
  EXPECT_FALSE(r.ok);
  auto cycles = with_lint(r, "kernel-cycle");
  ASSERT_EQ(cycles.size(), 1u);
  EXPECT_EQ(cycles[0]->path, "event[step 0]");
}

TEST(GateGraph, AnEndingUnlocksNothingBehindIt) {
  Json w = small_world();
  w["scene"]["states"]["attic"] = {{"base", "an attic"}};
  // yard is an ending: the override from it can never fire, so attic stays unreachable.
  w["scene"]["events"].push_back({{"name", "Climb"}, {"kind", "transition"}, {"from", {"hall"}},
                                  {"to", "attic"}, {"hotkey", "C"}, {"requires", {"rope"}}});
  w["scene"]["events"].push_back(
      {{"name", "Give up"}, {"kind", "terminal"}, {"from", {"yard"}}, {"hotkey", "Q"},
       {"grants", {"rope"}}, {"ending", {{"kind", "lose"}, {"title", "x"}}}});
  auto r = conjure::run_gate(w);
  auto un = with_lint(r, "unreachable");
  ASSERT_EQ(un.size(), 1u);
  EXPECT_EQ(un[0]->path, "state[attic]");
}

TEST(GateInput, MalformedTextIsAParseErrorAndOversizedTextALimitError) {
  try {
    conjure::run_gate_text("{\"name\": ");
    FAIL() << "no error";
  } catch (const conjure::Error& e) {
    EXPECT_EQ(e.code(), conjure::ErrorCode::kParse);
  }
  conjure::GateOptions opts;
  opts.limits.max_document_bytes = 10;
  try {
    conjure::run_gate_text(conjure::serialise(small_world()), opts);
    FAIL() << "no error";
  } catch (const conjure::Error& e) {
    EXPECT_EQ(e.code(), conjure::ErrorCode::kLimit);
  }
  auto r = conjure::run_gate_text(conjure::serialise(small_world()));
  EXPECT_TRUE(r.ok);
}

TEST(GateInput, WrongTypesAnywhereAreSchemaErrorsNeverCrashes) {
  const Json junk[] = {Json(), Json(3), Json("x"), Json::array({1, "a"}), Json::object({{"k", nullptr}}), Json(true)};
  EXPECT_FALSE(conjure::run_gate(Json::array()).ok);
  EXPECT_FALSE(conjure::run_gate(Json("world")).ok);
  // Replace every value of a full world, one at a time, with each junk value.
  Json w = small_world();
  w["scene"]["slots"] = {{"x", "y"}};
  w["scene"]["states"]["hall"]["camera"] = {{"static", "a"}};
  w["scene"]["states"]["hall"]["variants"] = {{{"base", "b"}}};
  w["scene"]["events"][0]["timing"] = {{"after", 1}};
  w["scene"]["cutscenes"] = {{{"name", "c"}, {"state", "hall"}}};
  Json flat = w.flatten();
  std::size_t runs = 0;
  for (auto it = flat.begin(); it != flat.end(); ++it) {
    for (const Json& j : junk) {
      Json mutated = w;
      mutated[Json::json_pointer(it.key())] = j;
      auto r = conjure::run_gate(mutated);
      ++runs;
      for (const auto& d : r.diagnostics) {
        EXPECT_FALSE(d.lint.empty());
        EXPECT_FALSE(d.message.empty());
      }
      EXPECT_EQ(r.ok, r.resolved.is_object());
    }
  }
  EXPECT_GT(runs, 50u);
}

TEST(GateDoctrine, LethalWordsInSlotsAreNotOverrideFindings) {
  Json w = small_world();
  w["scene"]["slots"] = {{"fate", "a drowned bell"}};
  w["scene"]["events"].push_back(
      {{"name", "Ring"}, {"kind", "override"}, {"from", {"hall"}}, {"hotkey", "R"}, {"base", "{fate} rings"}});
  auto r = conjure::run_gate(w);
  EXPECT_TRUE(with_lint(r, "lethal-override").empty());
}

TEST(Tokenizer, DefaultCountsWordsByLengthAndPunctuationOneEach) {
  const conjure::Tokenizer& t = conjure::default_tokenizer();
  EXPECT_EQ(t.name(), "conjure-words-v1");
  EXPECT_EQ(t.count(""), 0u);
  EXPECT_EQ(t.count("   \n\t"), 0u);
  EXPECT_EQ(t.count("a stone hall"), 3u);
  EXPECT_EQ(t.count("lanterns"), 1u);         // 8 code points: one token
  EXPECT_EQ(t.count("overexposed"), 2u);      // 11: two
  EXPECT_EQ(t.count("moss-covered"), 3u);     // word, punctuation, word
  EXPECT_EQ(t.count("don't"), 1u);            // an apostrophe inside a word belongs to it
  EXPECT_EQ(t.count("dusk, lanterns!"), 4u);
  EXPECT_EQ(t.count("café"), 1u);
  EXPECT_EQ(t.count("\xE2\x80\xA6"), 1u);     // an ellipsis is punctuation
  EXPECT_EQ(t.count("\xFF\xFE"), 2u);         // invalid bytes count, never crash
}

TEST(GateBudget, UsesTheTokenizerFromTheOptions) {
  struct Fixed : conjure::Tokenizer {
    std::string_view name() const override { return "fixed"; }
    std::size_t count(std::string_view) const override { return 1000; }
  } fixed;
  conjure::GateOptions opts;
  opts.tokenizer = &fixed;
  auto r = conjure::run_gate(small_world(), opts);
  auto b = with_lint(r, "budget");
  ASSERT_EQ(b.size(), 4u);  // two states, two layers each
  EXPECT_NE(b[0]->message.find("1000 tokens by fixed"), std::string::npos);
}

TEST(GateInput, EmptyTextIsAParseErrorNotAReadOfNoBuffer) {
  // Regression (sanitizer replay of the fuzz corpus): zero bytes reached the fast
  // reader as a null pointer.
  try {
    conjure::run_gate_text(std::string_view());
    FAIL() << "expected a parse error";
  } catch (const conjure::Error& e) {
    EXPECT_EQ(e.code(), conjure::ErrorCode::kParse);
  }
}
