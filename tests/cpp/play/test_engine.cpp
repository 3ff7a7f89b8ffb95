#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <set>
#include <string>

#include "conjure/errors.hpp"
#include "conjure/play/play_world.hpp"
#include "conjure/play/session.hpp"
#include "conjure/play/trace.hpp"
#include "conjure/world/world.hpp"

using conjure::Error;
using conjure::ErrorCode;
using conjure::Json;
namespace play = conjure::play;

namespace {

std::shared_ptr<const play::PlayWorld> build(const char* text) {
  return play::PlayWorld::build(conjure::parse_world(text));
}

const char* kVariantWorld = R"({
  "entrance": {"state": "hall"},
  "scene": {"states": {
    "hall": {"base": "a marble hall at noon",
             "camera": {"static": "wide still shot", "dynamic": "tracking shot"},
             "movement": {"static": "dust hanging in light", "dynamic": "footsteps echoing"},
             "ambient": ["pigeons on the sill", "a clock ticking"],
             "variants": [{"label": "B", "base": "a marble hall at dusk"},
                          {"label": "C", "base": "a marble hall in rain", "ambient": []}]},
    "yard": {"base": "a yard"}},
    "events": [
      {"name": "Ring", "kind": "override", "from": ["hall"], "hotkey": "R", "base": "a bell rings", "detail": "brass shimmering"},
      {"name": "Go out", "kind": "transition", "from": "hall", "to": "yard", "hotkey": "G"},
      {"name": "Give up", "kind": "terminal", "from": ["yard"], "hotkey": "X", "base": "the light fades",
       "ending": {"kind": "lose", "title": "Gave up", "subtitle": "Another day"}}]}
})";

TEST(PlayEngine, VariantArmIsStablePerPlayerAndState) {
  auto w = build(kVariantWorld);
  for (int i = 0; i < 50; ++i) {
    const std::string player = "player-" + std::to_string(i);
    play::Session a(w, player), b(w, player);
    EXPECT_EQ(a.arm(), b.arm());
    EXPECT_EQ(a.arm(), play::variant_arm(player, "hall", 3));
    EXPECT_EQ(a.prompt().base, b.prompt().base);
  }
}

TEST(PlayEngine, VariantArmsSpreadAcrossPlayers) {
  auto w = build(kVariantWorld);
  std::set<std::size_t> arms;
  std::set<std::string> bases;
  for (int i = 0; i < 64; ++i) {
    play::Session s(w, "p" + std::to_string(i));
    arms.insert(s.arm());
    bases.insert(s.prompt().base);
  }
  EXPECT_EQ(arms, (std::set<std::size_t>{0, 1, 2}));
  EXPECT_EQ(bases.size(), 3u);
}

TEST(PlayEngine, VariantHashIsFnv1aOfPlayerNulStateThenFinalised) {
  // Pinned values: the arm a player sees must not change between releases.
  EXPECT_EQ(play::variant_hash("", ""), play::variant_hash("", ""));
  EXPECT_NE(play::variant_hash("ab", "c"), play::variant_hash("a", "bc"));
  EXPECT_EQ(play::variant_arm("anyone", "hall", 1), 0u);
  EXPECT_EQ(play::variant_arm("anyone", "hall", 0), 0u);
  EXPECT_EQ(play::variant_hash("alice", "hall"), 0x910826bf4c896c06ULL);
  EXPECT_EQ(play::variant_arm("alice", "hall", 3), 1u);
}

TEST(PlayEngine, PromptUsesStaticHalvesWhileStillAndDynamicWhileMoving) {
  auto w = build(kVariantWorld);
  // Find a player on the base arm.
  std::string player;
  for (int i = 0; player.empty(); ++i)
    if (play::variant_arm("p" + std::to_string(i), "hall", 3) == 0) player = "p" + std::to_string(i);
  play::Session s(w, player);
  play::PromptParts still = s.prompt();
  EXPECT_EQ(still.title, "hall");
  EXPECT_EQ(still.camera, "wide still shot");
  EXPECT_EQ(still.movement, "dust hanging in light");
  EXPECT_EQ(still.text(),
            "a marble hall at noon, pigeons on the sill, a clock ticking, wide still shot, dust hanging in light");
  ASSERT_TRUE(s.move("W").moving_changed);
  play::PromptParts moving = s.prompt();
  EXPECT_TRUE(moving.moving);
  EXPECT_EQ(moving.camera, "tracking shot");
  EXPECT_EQ(moving.movement, "footsteps echoing");
  EXPECT_FALSE(s.move("w").moving_changed);
}

TEST(PlayEngine, VariantInheritsUnsetFieldsFromItsState) {
  auto w = build(kVariantWorld);
  std::string player;
  for (int i = 0; player.empty(); ++i)
    if (play::variant_arm("p" + std::to_string(i), "hall", 3) == 2) player = "p" + std::to_string(i);
  play::Session s(w, player);
  auto p = s.prompt();
  EXPECT_EQ(p.arm_label, "C");
  EXPECT_EQ(p.base, "a marble hall in rain");
  EXPECT_TRUE(p.ambient.empty());
  EXPECT_EQ(p.camera, "wide still shot");
}

TEST(PlayEngine, OverrideProseJoinsThePromptWhileActive) {
  auto w = build(kVariantWorld);
  play::Session s(w, "x");
  auto r = s.key("r");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.fired.size(), 1u);
  EXPECT_EQ(r.fired[0].kind, play::EventKind::kOverride);
  EXPECT_DOUBLE_EQ(r.fired[0].duration, 3.0);
  EXPECT_EQ(s.prompt().override_text, "a bell rings, brass shimmering");
  EXPECT_NE(s.prompt().text().find("a bell rings, brass shimmering"), std::string::npos);
  auto t = s.tick(3.0);
  EXPECT_TRUE(t.override_ended);
  EXPECT_EQ(s.prompt().override_text, "");
}

TEST(PlayEngine, EndingTitleAndTerminalProseReachThePrompt) {
  auto w = build(kVariantWorld);
  play::Session s(w, "x");
  ASSERT_TRUE(s.key("G").ok());
  auto r = s.key("X");
  ASSERT_TRUE(r.ending.has_value());
  EXPECT_EQ(r.ending->kind, "lose");
  auto p = s.prompt();
  EXPECT_EQ(p.title, "Gave up");
  EXPECT_EQ(p.subtitle, "Another day");
  EXPECT_EQ(p.ending_kind, "lose");
  EXPECT_EQ(p.override_text, "the light fades");
  EXPECT_EQ(s.tick(1).refusal, play::Refusal::kEnded);
}

TEST(PlayEngine, EntranceWithAnEndingEndsAtOnce) {
  auto w = build(R"({"entrance":{"state":"end"},"scene":{"states":{"end":{"base":"x",
      "ending":{"kind":"win","title":"Done"}}},"events":[]}})");
  play::Session s(w, "p");
  EXPECT_TRUE(s.ended());
  EXPECT_EQ(s.key("1").refusal, play::Refusal::kEnded);
  EXPECT_TRUE(s.available_events().empty());
}

TEST(PlayEngine, EventsPastTheNinthAreListedWithoutADigit) {
  Json w = Json::parse(R"({"entrance":{"state":"a"},"scene":{"states":{"a":{},"b":{}},"events":[]}})");
  for (int i = 0; i < 12; ++i)
    w["scene"]["events"].push_back(
        {{"name", "go " + std::to_string(i)}, {"kind", "transition"}, {"from", {"a"}}, {"to", "b"}});
  play::Session s(play::PlayWorld::build(w), "p");
  auto listed = s.available_events();
  ASSERT_EQ(listed.size(), 12u);
  EXPECT_EQ(listed[8].index, 9);
  EXPECT_EQ(listed[9].index, 0);
  EXPECT_EQ(listed[11].index, 0);
  auto r = s.key("9");
  ASSERT_EQ(r.fired.size(), 1u);
  EXPECT_EQ(r.fired[0].event, "go 8");
}

TEST(PlayEngine, BadTickIsRefusedAndLeavesTheClock) {
  auto w = build(kVariantWorld);
  play::Session s(w, "p");
  EXPECT_EQ(s.tick(-1).refusal, play::Refusal::kBadInput);
  EXPECT_EQ(s.tick(std::nan("")).refusal, play::Refusal::kBadInput);
  EXPECT_EQ(s.tick(std::numeric_limits<double>::infinity()).refusal, play::Refusal::kBadInput);
  EXPECT_EQ(s.now_us(), 0);
  EXPECT_TRUE(s.tick(0.25).ok());
  EXPECT_EQ(s.now_us(), 250000);
}

TEST(PlayEngine, ASelfFiringCycleIsBoundedPerTickAndCarriesTheRest) {
  // Two states that send the player back and forth every second (each event
  // has a hotkey, so the gate's kernel-cycle lint lets them through).
  auto w = build(R"({"entrance":{"state":"a"},"scene":{"states":{"a":{},"b":{}},"events":[
      {"name":"ab","kind":"transition","from":["a"],"to":"b","hotkey":"X","timing":{"after":1}},
      {"name":"ba","kind":"transition","from":["b"],"to":"a","hotkey":"Y","timing":{"after":1}}]}})");
  play::Session s(w, "p");
  auto r = s.tick(play::Session::kMaxTickSeconds);
  EXPECT_EQ(r.fired.size(), static_cast<std::size_t>(play::Session::kMaxFiringsPerTick));
  EXPECT_EQ(s.now_us(), 1'000'000LL * play::Session::kMaxFiringsPerTick);
  auto r2 = s.tick(0);
  EXPECT_EQ(r2.fired.size(), static_cast<std::size_t>(play::Session::kMaxFiringsPerTick));
  EXPECT_EQ(s.now_us(), 2'000'000LL * play::Session::kMaxFiringsPerTick);
}

TEST(PlayEngine, AutomaticFiringsAreMarkedAndTimed) {
  auto w = build(R"({"entrance":{"state":"a"},"scene":{"states":{"a":{},"b":{}},"events":[
      {"name":"ab","kind":"transition","from":["a"],"to":"b","timing":{"after":1.5}}]}})");
  play::Session s(w, "p");
  auto r = s.tick(2);
  ASSERT_EQ(r.fired.size(), 1u);
  EXPECT_TRUE(r.fired[0].automatic);
  EXPECT_EQ(r.fired[0].at_us, 1'500'000);
  EXPECT_EQ(r.fired[0].from, "a");
  EXPECT_EQ(r.fired[0].state, "b");
  EXPECT_DOUBLE_EQ(s.time_in_state(), 0.5);
}

TEST(PlayEngine, ATimerWaitingOnAFlagFiresAtTheFirstTickAfterTheGrant) {
  auto w = build(R"({"entrance":{"state":"a"},"scene":{"states":{"a":{},"b":{}},"events":[
      {"name":"open","kind":"transition","from":["a"],"to":"b","requires":["key"],"timing":{"after":2}},
      {"name":"find","kind":"override","from":["a"],"hotkey":"F","grants":["key"]}]}})");
  play::Session s(w, "p");
  EXPECT_TRUE(s.tick(5).fired.empty());
  ASSERT_TRUE(s.key("F").ok());
  EXPECT_EQ(s.state(), "a");  // timers only run inside tick
  auto r = s.tick(0);
  ASSERT_EQ(r.fired.size(), 1u);
  EXPECT_EQ(r.fired[0].event, "open");
  EXPECT_EQ(r.fired[0].at_us, 5'000'000);
  EXPECT_EQ(s.state(), "b");
}

TEST(PlayEngine, ATransitionToTheSameStateStartsANewVisit) {
  auto w = build(R"({"entrance":{"state":"a"},"scene":{"states":{"a":{}},"events":[
      {"name":"again","kind":"transition","from":["a"],"to":"a","hotkey":"R"},
      {"name":"chime","kind":"override","from":["a"],"timing":{"after":1}}]}})");
  play::Session s(w, "p");
  EXPECT_EQ(s.tick(1).fired.size(), 1u);
  EXPECT_TRUE(s.tick(5).fired.empty());  // once per visit
  EXPECT_EQ(s.active_override(), "");
  ASSERT_TRUE(s.key("r").ok());
  EXPECT_DOUBLE_EQ(s.time_in_state(), 0.0);
  EXPECT_EQ(s.tick(1).fired.size(), 1u);
}

TEST(PlayEngine, AFiredResultCarriesWhatTheSocketSends) {
  auto w = build(kVariantWorld);
  play::Session s(w, "p");
  auto r = s.fire("Ring");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.state_changed);
  EXPECT_FALSE(r.ending.has_value());
  ASSERT_EQ(r.fired.size(), 1u);
  EXPECT_EQ(r.fired[0].from, "hall");
  EXPECT_EQ(r.fired[0].state, "hall");
  EXPECT_STREQ(play::event_kind_name(r.fired[0].kind), "override");
  auto bad = s.fire("Give up");
  EXPECT_EQ(bad.refusal, play::Refusal::kWrongState);
  EXPECT_STREQ(play::refusal_name(bad.refusal), "wrong_state");
  EXPECT_FALSE(bad.message.empty());
  EXPECT_TRUE(bad.fired.empty());
}

TEST(PlayEngine, ReplayIsIdenticalForTheSameInputsAndDiffersOnlyInArmsAcrossPlayers) {
  auto w = build(kVariantWorld);
  auto inputs = play::parse_trace_inputs(Json::parse(
      R"([{"at":0.5,"key":"R"},{"at":1,"move":"W"},{"at":4},{"at":4.5,"key":"G"},{"at":5,"key":"X"}])"));
  auto t1 = play::replay(w, "alice", inputs);
  auto t2 = play::replay(w, "alice", inputs);
  EXPECT_TRUE(t1 == t2);
  EXPECT_EQ(t1.to_json().dump(), t2.to_json().dump());
  auto t3 = play::replay(w, "bob", inputs);
  EXPECT_EQ(t1.fired, t3.fired);
  EXPECT_EQ(t1.states, t3.states);
  EXPECT_EQ(t1.fired, (std::vector<std::string>{"Ring", "Go out", "Give up"}));
  ASSERT_TRUE(t1.ending.has_value());
  EXPECT_EQ(t1.ending->title, "Gave up");
}

TEST(PlayEngine, MalformedTraceInputsAreRefused) {
  EXPECT_THROW(play::parse_trace_inputs(Json::parse(R"({"at":1})")), Error);
  EXPECT_THROW(play::parse_trace_inputs(Json::parse(R"([{"at":2},{"at":1}])")), Error);
  EXPECT_THROW(play::parse_trace_inputs(Json::parse(R"([{"at":"x"}])")), Error);
  EXPECT_THROW(play::parse_trace_inputs(Json::parse(R"([{"fire":"a","key":"E"}])")), Error);
  EXPECT_THROW(play::parse_trace_inputs(Json::parse(R"([{"fire":3}])")), Error);
  EXPECT_THROW(play::parse_trace_inputs(Json::parse(R"([{},{},{}])"), 2), Error);
}

TEST(PlayEngine, UnplayableWorldsAreBadInputNamingTheField) {
  const char* bad[] = {
      R"([])",
      R"({"scene":{"states":{"a":{}}}})",
      R"({"entrance":{"state":"zz"},"scene":{"states":{"a":{}}}})",
      R"({"entrance":{"state":"a"},"scene":{"states":{}}})",
      R"({"entrance":{"state":"a"},"scene":{"states":{"a":{}},"events":[{"name":"e","kind":"transition","from":["a"]}]}})",
      R"({"entrance":{"state":"a"},"scene":{"states":{"a":{}},"events":[{"name":"e","kind":"jump","from":["a"]}]}})",
      R"({"entrance":{"state":"a"},"scene":{"states":{"a":{}},"events":[{"name":"e","kind":"terminal","from":["a"]}]}})",
      R"({"entrance":{"state":"a"},"scene":{"states":{"a":{}},"events":[{"name":"e","kind":"override","from":["q"]}]}})",
      R"({"entrance":{"state":"a"},"scene":{"states":{"a":{"base":7}}}})",
      R"({"entrance":{"state":"a"},"scene":{"states":{"a":{"ending":{"kind":"draw","title":"x"}}}}})",
      R"({"entrance":{"state":"a"},"scene":{"states":{"a":{}},"events":[{"name":"e","kind":"override","from":["a"],"requires":[1]}]}})",
      R"({"entrance":{"state":"a"},"scene":{"states":{"a":{}},"events":[{"name":"e","kind":"override","from":["a"]},{"name":"e","kind":"override","from":["a"]}]}})",
  };
  for (const char* text : bad) {
    try {
      play::PlayWorld::build(Json::parse(text));
      ADD_FAILURE() << "accepted: " << text;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kBadInput) << text;
    }
  }
}

TEST(PlayEngine, OddTimingValuesAreReadSafely) {
  auto w = build(R"({"entrance":{"state":"a"},"scene":{"states":{"a":{}},"events":[
      {"name":"o","kind":"override","from":["a"],"hotkey":"O","timing":{"after":-4,"duration":1e300}},
      {"name":"p","kind":"override","from":["a"],"hotkey":"P","timing":{"duration":-1}}]}})");
  play::Session s(w, "p");
  EXPECT_TRUE(s.tick(100).fired.empty());  // a negative `after` is no timer
  auto r = s.key("P");
  ASSERT_EQ(r.fired.size(), 1u);
  EXPECT_DOUBLE_EQ(r.fired[0].duration, 3.0);  // a non-positive duration is the default
  auto o = s.key("O");
  ASSERT_EQ(o.fired.size(), 1u);
  EXPECT_DOUBLE_EQ(o.fired[0].duration, 86400.0 * 365.0);  // clamped to a year
}

// Seeded random inputs (odd keys, bytes, dts) on the abbey world of the trace
// table: the engine's invariants hold at every step and a replay is identical.
TEST(PlayEngine, RandomInputsKeepTheInvariants) {
  std::ifstream in(std::string(CONJURE_TEST_DATA) + "/play/abbey.json");
  std::stringstream ss;
  ss << in.rdbuf();
  Json world = conjure::parse_world(ss.str())["world"];
  auto w = play::PlayWorld::build(world);
  const char* keys[] = {"1", "2", "3", "4", "9", "0", "E", "l", "P", "k", "G", "U", "J", "O", "w", "Space", "",
                        "\xff", "  e", "EE", "\x00"};
  const char* names[] = {"Take the lantern", "Enter the cellar", "Secret passage", "Open the gate", "nope", ""};
  for (unsigned seed = 0; seed < 40; ++seed) {
    std::mt19937 rng(seed);
    Json inputs = Json::array();
    double at = 0;
    for (int i = 0; i < 60; ++i) {
      at += (rng() % 4) * 0.75;
      Json e = {{"at", at}};
      switch (rng() % 4) {
        case 0: e["key"] = keys[rng() % (sizeof keys / sizeof *keys)]; break;
        case 1: e["fire"] = names[rng() % (sizeof names / sizeof *names)]; break;
        case 2: e["move"] = rng() % 2 ? "wd" : ""; break;
        default: break;
      }
      inputs.push_back(e);
    }
    const auto parsed = play::parse_trace_inputs(inputs);
    const auto trace = play::replay(w, "p" + std::to_string(seed), parsed);
    EXPECT_EQ(trace.to_json(), play::replay(w, "p" + std::to_string(seed), parsed).to_json());
    bool ended = false;
    for (const auto& step : trace.steps) {
      if (ended) {
        EXPECT_TRUE(step.fired.empty());
        if (step.input != "wait") EXPECT_EQ(step.refusal, "ended");
      }
      EXPECT_NE(w->state_index(step.state), play::kNone);
      // The event that ends the run (a terminal, or the way into "shore") fires once.
      if (!step.fired.empty() && trace.ending && step.fired.back() == trace.fired.back()) ended = true;
    }
    EXPECT_EQ(trace.ending.has_value(), ended);
    // Every flag held was granted by an event that fired.
    for (const auto& f : trace.flags) EXPECT_TRUE(f == "lantern" || f == "key") << f;
  }
}

TEST(PlayEngine, SessionsShareOneWorldAndKeepTheirOwnState) {
  auto w = build(kVariantWorld);
  play::Session a(w, "a"), b(w, "b");
  ASSERT_TRUE(a.key("G").ok());
  EXPECT_EQ(a.state(), "yard");
  EXPECT_EQ(b.state(), "hall");
  EXPECT_EQ(&a.world(), &b.world());
}

}  // namespace
