#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>

#include "conjure/errors.hpp"
#include "conjure/ops/ops.hpp"

using conjure::Error;
using conjure::ErrorCode;
using conjure::Json;

namespace {

// ---- merge_patch: RFC 7386 appendix A ----

TEST(MergePatch, FollowsEveryRfc7386AppendixAExample) {
  const char* cases[][3] = {
      {R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
      {R"({"a":"b"})", R"({"a":null})", R"({})"},
      {R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
      {R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
      {R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
      {R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
      {R"(["a","b"])", R"(["c","d"])", R"(["c","d"])"},
      {R"({"a":"b"})", R"(["c"])", R"(["c"])"},
      {R"({"a":"foo"})", R"(null)", R"(null)"},
      {R"({"a":"foo"})", R"("bar")", R"("bar")"},
      {R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
      {R"([1,2])", R"({"a":"b","c":null})", R"({"a":"b"})"},
      {R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
  };
  for (const auto& c : cases) {
    Json target = Json::parse(c[0]);
    conjure::merge_patch(target, Json::parse(c[1]));
    EXPECT_EQ(target, Json::parse(c[2])) << c[0] << " + " << c[1];
  }
}

// ---- derive_state_id ----

Json world_with(std::initializer_list<const char*> ids) {
  Json w = {{"scene", {{"states", Json::object()}}}};
  for (const char* id : ids) w["scene"]["states"][id] = Json::object();
  return w;
}

TEST(DeriveStateId, TakesTheHeadNounOfTheFirstPhrase) {
  Json w = world_with({});
  EXPECT_EQ(conjure::derive_state_id(w, "a damp stone cellar, barrels stacked"), "cellar");
  EXPECT_EQ(conjure::derive_state_id(w, "The great hall of the abbey at dusk"), "hall");
  EXPECT_EQ(conjure::derive_state_id(w, "In the bell tower, ropes hang"), "tower");
  EXPECT_EQ(conjure::derive_state_id(w, "{abbey}, a moss-covered courtyard at dusk"), "courtyard");
  EXPECT_EQ(conjure::derive_state_id(w, "a MOSS-covered\tcloister"), "cloister");
  EXPECT_EQ(conjure::derive_state_id(w, "the smith's forge"), "forge");
  EXPECT_EQ(conjure::derive_state_id(w, "a long corridor — doors on both sides"), "corridor");
  EXPECT_EQ(conjure::derive_state_id(w, "the moss-covered, dripping walls"), "moss-covered");
}

TEST(DeriveStateId, TransliteratesLatinLettersAndDropsOtherScripts) {
  Json w = world_with({});
  EXPECT_EQ(conjure::derive_state_id(w, "a sunlit café"), "cafe");
  EXPECT_EQ(conjure::derive_state_id(w, "Die Straße"), "strasse");
  EXPECT_EQ(conjure::derive_state_id(w, "an old Łódź tram"), "tram");
  EXPECT_EQ(conjure::derive_state_id(w, "古い寺 temple"), "temple");
}

TEST(DeriveStateId, EmptyOrOddProseGivesState) {
  Json w = world_with({});
  EXPECT_EQ(conjure::derive_state_id(w, ""), "state");
  EXPECT_EQ(conjure::derive_state_id(w, "   ,,, !!"), "state");
  EXPECT_EQ(conjure::derive_state_id(w, "{slot}"), "state");
  EXPECT_EQ(conjure::derive_state_id(w, "the of a"), "state");
  EXPECT_EQ(conjure::derive_state_id(w, "静かな庭"), "state");
  EXPECT_EQ(conjure::derive_state_id(w, std::string("\xff\xfe\x80 room")), "room");
  EXPECT_EQ(conjure::derive_state_id(Json("not a world"), "a cellar"), "cellar");
}

TEST(DeriveStateId, ClashesGetANumberedSuffix) {
  EXPECT_EQ(conjure::derive_state_id(world_with({"cellar"}), "a cellar"), "cellar-2");
  EXPECT_EQ(conjure::derive_state_id(world_with({"cellar", "cellar-2"}), "a cellar"), "cellar-3");
  EXPECT_EQ(conjure::derive_state_id(world_with({"state"}), ""), "state-2");
}

TEST(DeriveStateId, AlwaysMatchesTheIdPattern) {
  Json w = world_with({});
  std::string long_word(500, 'x');
  const std::string inputs[] = {long_word, "a " + long_word + "-", "---", "a -cellar-", "x--y",
                                "\x01\x02", "a 42"};
  for (const std::string& prose : inputs) {
    std::string id = conjure::derive_state_id(w, prose);
    ASSERT_FALSE(id.empty());
    EXPECT_LE(id.size(), 64u) << prose;
    for (char ch : id) {
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.')
          << id;
    }
    EXPECT_NE(id.back(), '-') << id;
    EXPECT_NE(id.front(), '-') << id;
  }
  EXPECT_EQ(conjure::derive_state_id(w, "a 42"), "42");
  EXPECT_EQ(conjure::derive_state_id(w, "x--y"), "x-y");
}

// ---- check_ops / apply_ops arguments ----

TEST(CheckOps, CapsTheListOfProblems) {
  Json ops = Json::array();
  for (int i = 0; i < 250; ++i) ops.push_back(Json{{"op", "delete_state"}});
  try {
    conjure::check_ops(ops);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kBadInput);
    std::string msg = e.what();
    EXPECT_EQ(std::count(msg.begin(), msg.end(), '\n'), 100);
    EXPECT_NE(msg.find("... and 150 more problems"), std::string::npos);
  }
}

TEST(CheckOps, AcceptsAWellFormedBatchOfEveryOp) {
  Json ops = Json::parse(R"([
    {"op":"add_state"},
    {"op":"update_state","id":"a","patch":{}},
    {"op":"delete_state","id":"a"},
    {"op":"add_event","kind":"terminal","from":[]},
    {"op":"update_event","name":"e","patch":{"x":null}},
    {"op":"delete_event","name":"e"},
    {"op":"set_entrance","state":"a","image":{"src":"s","label":"l"}},
    {"op":"add_variant","state":"a"},
    {"op":"remove_variant","state":"a","label":"B"}])");
  EXPECT_NO_THROW(conjure::check_ops(ops));
}

TEST(ApplyOps, RefusesAWorldThatIsNotAnObject) {
  try {
    conjure::apply_ops(Json::array(), Json::parse(R"([{"op":"add_state"}])"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kBadInput);
  }
}

TEST(ApplyOps, ChecksTheBatchBeforeApplyingAnything) {
  try {
    conjure::apply_ops(Json::object(), Json::parse(R"([{"op":"add_state"},{"op":"nope"}])"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kBadInput);
    EXPECT_STREQ(e.what(),
                 "ops[1].op: unknown op \"nope\" (expected one of add_state, update_state, "
                 "delete_state, add_event, update_event, delete_event, set_entrance, add_variant, "
                 "remove_variant, set_slot, remove_slot)");
  }
}

TEST(ApplyOps, DuplicateEventNamesAreAddressedInDocumentOrder) {
  Json w = Json::parse(R"({"scene":{"states":{},"events":[
    {"name":"e","n":1},{"name":"f"},{"name":"e","n":2}]}})");
  auto r = conjure::apply_ops(w, Json::parse(R"([
    {"op":"update_event","name":"e","patch":{"seen":true}},
    {"op":"delete_event","name":"e"},
    {"op":"update_event","name":"e","patch":{"seen":true}}])"));
  EXPECT_TRUE(r.apply_errors.empty());
  EXPECT_EQ(r.world["scene"]["events"],
            Json::parse(R"([{"name":"f"},{"name":"e","n":2,"seen":true}])"));
}

TEST(ApplyOps, RefusalListsAtMostFiveReferencesAndCountsTheRest) {
  Json w = {{"scene", {{"states", {{"hub", Json::object()}}}, {"events", Json::array()}}}};
  for (int i = 0; i < 8; ++i) {
    w["scene"]["events"].push_back(
        {{"name", "e" + std::to_string(i)}, {"kind", "transition"}, {"from", {"hub"}}, {"to", "hub"}});
  }
  auto r = conjure::apply_ops(w, Json::parse(R"([{"op":"delete_state","id":"hub"}])"));
  ASSERT_EQ(r.apply_errors.size(), 1u);
  EXPECT_EQ(r.apply_errors[0].code, ErrorCode::kBadInput);
  EXPECT_EQ(r.apply_errors[0].message,
            "op 0 (delete_state hub): the state is referenced by event \"e0\" (from, to), event "
            "\"e1\" (from, to), event \"e2\" (from, to), event \"e3\" (from, to), event \"e4\" "
            "(from, to) and 3 more; detach those refs first");
}

TEST(ApplyOps, DerivedIdsStayFreshAcrossALongBatch) {
  Json w = world_with({"cellar-3"});
  Json ops = Json::array();
  for (int i = 0; i < 200; ++i) ops.push_back({{"op", "add_state"}, {"base", "a cellar"}});
  auto r = conjure::apply_ops(w, ops);
  EXPECT_TRUE(r.apply_errors.empty());
  const Json& states = r.world["scene"]["states"];
  EXPECT_EQ(states.size(), 201u);
  EXPECT_TRUE(states.contains("cellar"));
  EXPECT_TRUE(states.contains("cellar-2"));
  EXPECT_TRUE(states.contains("cellar-201"));
  EXPECT_FALSE(states.contains("cellar-202"));
}

// A world at the scale of the limits: a mixed batch gives the exact result.
TEST(ApplyOps, HandlesAWorldOfTenThousandStatesAndThirtyThousandEvents) {
  Json states = Json::object();
  for (int i = 0; i < 10000; ++i) states["s" + std::to_string(i)] = {{"base", "a room"}};
  Json::array_t events;
  events.reserve(30000);
  for (int i = 0; i < 30000; ++i) {
    // events only touch s0..s4999; s5000.. are unreferenced
    events.push_back({{"name", "e" + std::to_string(i)},
                      {"kind", "transition"},
                      {"from", {"s" + std::to_string(i % 5000)}},
                      {"to", "s" + std::to_string((i + 1) % 5000)}});
  }
  Json w = {{"entrance", {{"state", "s0"}}},
            {"scene", {{"states", std::move(states)}, {"events", std::move(events)}}}};
  Json ops = Json::array();
  for (int i = 0; i < 2000; ++i) ops.push_back({{"op", "delete_state"}, {"id", "s" + std::to_string(i)}});
  for (int i = 5000; i < 7000; ++i) ops.push_back({{"op", "delete_state"}, {"id", "s" + std::to_string(i)}});
  for (int i = 0; i < 3000; ++i) ops.push_back({{"op", "delete_event"}, {"name", "e" + std::to_string(i * 10)}});
  for (int i = 0; i < 2000; ++i) {
    ops.push_back({{"op", "update_event"}, {"name", "e" + std::to_string(i * 10 + 1)}, {"patch", {{"hotkey", "F"}}}});
  }
  auto r = conjure::apply_ops(w, ops);
  EXPECT_EQ(r.apply_errors.size(), 2000u);  // every referenced delete_state
  for (const auto& e : r.apply_errors) EXPECT_EQ(e.code, ErrorCode::kBadInput);
  EXPECT_EQ(r.world["scene"]["states"].size(), 8000u);
  EXPECT_EQ(r.world["scene"]["events"].size(), 27000u);
  EXPECT_EQ(r.world["scene"]["events"][0]["name"], "e1");
  EXPECT_EQ(r.world["scene"]["events"][0]["hotkey"], "F");
}

}  // namespace
