// Characters in the store: gated writes with revs, tenant isolation, placement checked on
// world writes with what the store supplies, deletes refused while placed, talk memory.
#include <gtest/gtest.h>

#include "conjure/store/store.hpp"
#include "store_fixture.hpp"

namespace conjure::testing {
namespace {

Json keeper() {
  return {{"name", "Keeper"},
          {"entrance", {{"state", "wary"}}},
          {"brain", {{"persona", "a gruff keeper"}, {"lore", Json::array({"I keep the light."})}}},
          {"scene",
           {{"states", {{"wary", {{"base", "arms folded"}}}, {"friendly", {{"base", "kettle on"}}}}},
            {"events", Json::array({{{"name", "Warm up"}, {"kind", "transition"}, {"from", Json::array({"wary"})},
                                      {"to", "friendly"}, {"base", "the player is kind"}}})}}}};
}

TEST(StoreCharacters, WritesAreGatedWithRevsAndScoped) {
  TempDir dir;
  auto s = open_store(dir.file("c.db"));
  Scope a{"app", "test"};
  CharacterWrite w = s->create_character(a, keeper(), GateOptions{});
  std::string id = w.character["id"];
  EXPECT_EQ(w.character["kind"], "character");
  EXPECT_EQ(s->get_character(a, id).rev, w.rev);
  EXPECT_EQ(code_of([&] { s->get_character(Scope{"other", "test"}, id); }), ErrorCode::kNotFound);
  EXPECT_EQ(code_of([&] { s->get_character(Scope{"app", "live"}, id); }), ErrorCode::kNotFound);
  Json bad = keeper();
  bad["brain"]["persona"] = "";
  EXPECT_EQ(code_of([&] { s->create_character(a, bad, GateOptions{}); }), ErrorCode::kGateFailed);
  CharacterWrite p = s->patch_character(a, id, {{"name", "Maren"}, {"id", "x"}}, w.rev, GateOptions{});
  EXPECT_EQ(p.character["name"], "Maren");
  EXPECT_EQ(p.character["id"], id);
  EXPECT_EQ(code_of([&] { s->patch_character(a, id, {{"name", "Old"}}, w.rev, GateOptions{}); }), ErrorCode::kConflict);
  EXPECT_EQ(s->list_characters(a, 10, "").data.size(), 1u);
}

TEST(StoreCharacters, WorldsPlaceOnlyTheirScopesCharactersAndAPlacedOneStays) {
  TempDir dir;
  auto s = open_store(dir.file("c.db"));
  Scope a{"app", "test"};
  std::string id = s->create_character(a, keeper(), GateOptions{}).character["id"];
  Json world = sample_world();
  world["characters"] = Json::array({{{"id", id}, {"states", Json::array({"s0"})}}});
  EXPECT_EQ(code_of([&] { s->create_world(Scope{"other", "test"}, world, GateOptions{}); }), ErrorCode::kGateFailed);
  std::string wid = s->create_world(a, world, GateOptions{}).world["id"];
  try {
    s->delete_character(a, id);
    ADD_FAILURE() << "a placed character was deleted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kConflict);
    EXPECT_NE(std::string(e.what()).find(wid), std::string::npos) << e.what();
  }
  s->patch_world(a, wid, {{"characters", nullptr}}, "", GateOptions{});
  s->delete_character(a, id);
  EXPECT_EQ(code_of([&] { s->get_character(a, id); }), ErrorCode::kNotFound);
}

TEST(StoreCharacters, TalkMemoryIsPerSessionBoundedAndExpires) {
  TempDir dir;
  auto s = open_store(dir.file("c.db"));
  Scope a{"app", "test"};
  std::string id = s->create_character(a, keeper(), GateOptions{}).character["id"];
  std::int64_t later = 4102444800;  // 2100-01-01
  s->put_talk(a, "jti-1", id, {{"stance", "friendly"}}, later);
  EXPECT_EQ(s->get_talk(a, "jti-1", id)["stance"], "friendly");
  EXPECT_TRUE(s->get_talk(a, "jti-2", id).is_null());
  EXPECT_TRUE(s->get_talk(Scope{"other", "test"}, "jti-1", id).is_null());
  EXPECT_EQ(code_of([&] { s->put_talk(a, "jti-1", id, {{"x", std::string(20000, 'a')}}, later); }), ErrorCode::kLimit);
  s->put_talk(a, "jti-3", id, {{"stance", "wary"}}, 1);  // already expired: nothing kept
  EXPECT_TRUE(s->get_talk(a, "jti-3", id).is_null());
}

}  // namespace
}  // namespace conjure::testing
