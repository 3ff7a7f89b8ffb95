// Versions in the store: content-addressed snapshots, the tree, checkout, diff.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "../store/store_fixture.hpp"
#include "conjure/errors.hpp"
#include "conjure/store/store.hpp"
#include "conjure/versions/snapshot.hpp"

using namespace conjure;
using conjure::testing::sample_world;
using conjure::testing::TempDir;
using conjure::testing::update_base;

namespace {
const Scope kScope{"app-1", "test"};
const GateOptions kGate{};

std::int64_t blob_bytes(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT coalesce(sum(length(data)), 0) FROM blobs", -1, &st, nullptr);
  sqlite3_step(st);
  std::int64_t n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}
}  // namespace

TEST(Snapshot, SplitAndJoinRoundTrip) {
  Json w = sample_world(20);
  w["scene"]["cutscenes"] = Json::array({{{"name", "Bell"}, {"state", "s1"}, {"base", "a bell"}}});
  w["x-extra"] = {{"kept", true}};
  EXPECT_EQ(versions::join_world(versions::split_world(w)), w);
  Json odd = {{"scene", {{"states", 3}, {"events", Json::array({1, 2})}}}};
  versions::Parts p = versions::split_world(odd);
  EXPECT_TRUE(p.states.empty());
  EXPECT_EQ(versions::join_world(p), odd);
}

TEST(Snapshot, DeltaIsExactOrRefused) {
  Json a = {{"base", "x"}, {"camera", {{"static", "s"}, {"dynamic", "d"}}}, {"ambient", {"a"}}};
  Json b = {{"base", "y"}, {"camera", {{"static", "s"}}}, {"ambient", {"a", nullptr}}, {"new", {{"k", 1}}}};
  Json patch;
  ASSERT_TRUE(versions::make_delta(a, b, &patch));
  Json r = a;
  versions::apply_delta(r, patch);
  EXPECT_EQ(r, b);
  Json c = {{"base", "x"}, {"ending", nullptr}};
  EXPECT_FALSE(versions::make_delta(a, c, &patch));
}

TEST(Snapshot, BucketsAreStableAndBounded) {
  EXPECT_EQ(versions::bucket_count(0), 1u);
  EXPECT_EQ(versions::bucket_count(16), 1u);
  EXPECT_EQ(versions::bucket_count(1000), 64u);
  EXPECT_EQ(versions::bucket_of("cellar", 64), versions::bucket_of("cellar", 64));
}

TEST(StoreVersions, SnapshotOntoHeadAdvancesIt) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  std::string id = s->create_world(kScope, sample_world(), kGate).world["id"];
  EXPECT_TRUE(s->list_versions(kScope, id).head.empty());
  VersionInfo v1 = s->snapshot(kScope, id, "", "first");
  EXPECT_TRUE(v1.head);
  EXPECT_TRUE(v1.parent_id.empty());
  VersionInfo v2 = s->snapshot(kScope, id, "", "second");
  EXPECT_EQ(v2.parent_id, v1.id);
  VersionTree t = s->list_versions(kScope, id);
  EXPECT_EQ(t.head, v2.id);
  ASSERT_EQ(t.data.size(), 2u);
  EXPECT_EQ(t.data[0].id, v1.id);  // oldest first
  EXPECT_FALSE(t.data[0].head);
  EXPECT_TRUE(t.data[1].head);
}

TEST(StoreVersions, SnapshotOntoAnOlderVersionBranchesAndKeepsHead) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  std::string id = s->create_world(kScope, sample_world(), kGate).world["id"];
  VersionInfo v1 = s->snapshot(kScope, id, "", "");
  VersionInfo v2 = s->snapshot(kScope, id, "", "");
  VersionInfo b = s->snapshot(kScope, id, v1.id, "branch");
  EXPECT_EQ(b.parent_id, v1.id);
  EXPECT_FALSE(b.head);
  EXPECT_EQ(s->list_versions(kScope, id).head, v2.id);
  EXPECT_EQ(s->list_versions(kScope, id).data.size(), 3u);
  EXPECT_THROW(s->snapshot(kScope, id, "no-such-version", ""), Error);
}

TEST(StoreVersions, CheckoutRestoresTheSnapshotAndMovesHeadWithANewRev) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  GraphWrite g = s->create_world(kScope, sample_world(5), kGate);
  std::string id = g.world["id"];
  VersionInfo v1 = s->snapshot(kScope, id, "", "");
  Json original = s->get_graph(kScope, id).world;
  GraphWrite e = s->apply_ops(kScope, id, update_base("s3", "a glass greenhouse"), "", kGate);
  VersionInfo v2 = s->snapshot(kScope, id, "", "");
  GraphWrite c = s->checkout(kScope, id, v1.id, e.rev, kGate);
  EXPECT_EQ(c.head, v1.id);
  EXPECT_NE(c.rev, e.rev);
  EXPECT_EQ(c.world, original);
  Graph now = s->get_graph(kScope, id);
  EXPECT_EQ(now.world, original);
  EXPECT_EQ(s->list_versions(kScope, id).head, v1.id);
  // A stale rev changes nothing.
  EXPECT_THROW(s->checkout(kScope, id, v2.id, e.rev, kGate), Error);
  EXPECT_EQ(s->list_versions(kScope, id).head, v1.id);
  Json w2;
  s->get_version(kScope, id, v2.id, &w2);
  EXPECT_EQ(w2["scene"]["states"]["s3"]["base"], "a glass greenhouse");
}

TEST(StoreVersions, UnknownOrForeignVersionIsNotFound) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  std::string a = s->create_world(kScope, sample_world(), kGate).world["id"];
  std::string b = s->create_world(kScope, sample_world(), kGate).world["id"];
  VersionInfo va = s->snapshot(kScope, a, "", "");
  try {
    s->get_version(kScope, b, va.id, nullptr);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  }
  try {
    s->list_versions(Scope{"app-2", "test"}, a);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  }
}

TEST(StoreVersions, SnapshotStorageGrowsWithTheChangeNotTheWorld) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  GraphWrite g = s->create_world(kScope, sample_world(200), kGate);
  std::string id = g.world["id"];
  s->snapshot(kScope, id, "", "");
  std::int64_t one = blob_bytes(dir.file("a.db"));
  std::string rev = g.rev;
  for (int i = 0; i < 50; ++i) {
    rev = s->apply_ops(kScope, id, update_base("s" + std::to_string(i), "a changed room " + std::to_string(i)), rev, kGate).rev;
    s->snapshot(kScope, id, "", "");
  }
  std::int64_t after = blob_bytes(dir.file("a.db"));
  // Fifty more snapshots of a 200-state world cost far less than one more copy.
  EXPECT_LT(after - one, one / 2);
  // An unchanged snapshot adds no content at all.
  std::int64_t before_same = blob_bytes(dir.file("a.db"));
  s->snapshot(kScope, id, "", "");
  EXPECT_EQ(blob_bytes(dir.file("a.db")), before_same);
  // Every version still reads back whole.
  VersionTree t = s->list_versions(kScope, id);
  Json first;
  s->get_version(kScope, id, t.data.front().id, &first);
  EXPECT_EQ(first["scene"]["states"]["s7"]["base"], g.world["scene"]["states"]["s7"]["base"]);
  Json last;
  s->get_version(kScope, id, t.data.back().id, &last);
  EXPECT_EQ(last, s->get_graph(kScope, id).world);
  EXPECT_TRUE(s->check().ok);
}

TEST(StoreVersions, VersionsReadBackFromAFreshProcessCache) {
  TempDir dir;
  std::string id, vid;
  Json expected;
  {
    auto s = open_store(dir.file("a.db"));
    std::string rev;
    GraphWrite g = s->create_world(kScope, sample_world(60), kGate);
    id = g.world["id"];
    rev = g.rev;
    for (int i = 0; i < 30; ++i) {
      rev = s->apply_ops(kScope, id, update_base("s" + std::to_string(i % 7), "room variant " + std::to_string(i)), rev, kGate).rev;
      vid = s->snapshot(kScope, id, "", "").id;
    }
    expected = s->get_graph(kScope, id).world;
  }
  auto s = open_store(dir.file("a.db"));  // empty caches: deltas are replayed from disk
  Json w;
  s->get_version(kScope, id, vid, &w);
  EXPECT_EQ(w, expected);
}

TEST(StoreVersions, DiffReportsOnlyWhatChanged) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  GraphWrite g = s->create_world(kScope, sample_world(100), kGate);
  std::string id = g.world["id"];
  VersionInfo v1 = s->snapshot(kScope, id, "", "");
  Json ops = Json::array({{{"op", "update_state"}, {"id", "s5"}, {"patch", {{"camera", {{"static", "a low angle"}}}}}},
                          {{"op", "add_state"}, {"id", "annex"}, {"state", {{"base", "a small annex of dry stone"}}}},
                          {{"op", "update_event"}, {"name", "Go to room 3"}, {"patch", {{"hotkey", "E"}}}}});
  GraphWrite e = s->apply_ops(kScope, id, ops, "", kGate);
  ASSERT_TRUE(e.apply_errors.empty()) << e.apply_errors[0].message;
  VersionInfo v2 = s->snapshot(kScope, id, "", "");
  Json d = s->diff(kScope, id, v1.id, v2.id);
  EXPECT_EQ(d["a"], v1.id);
  EXPECT_EQ(d["b"], v2.id);
  EXPECT_EQ(d["states"]["added"], Json::array({"annex"}));
  EXPECT_EQ(d["states"]["removed"], Json::array());
  ASSERT_EQ(d["states"]["changed"].size(), 1u);
  EXPECT_EQ(d["states"]["changed"][0]["id"], "s5");
  EXPECT_EQ(d["states"]["changed"][0]["fields"], Json::array({"camera.static"}));
  ASSERT_EQ(d["events"]["changed"].size(), 1u);
  EXPECT_EQ(d["events"]["changed"][0]["name"], "Go to room 3");
  EXPECT_TRUE(d["entrance"].is_null());
  Json back = s->diff(kScope, id, v2.id, v1.id);
  EXPECT_EQ(back["states"]["removed"], Json::array({"annex"}));
  Json same = s->diff(kScope, id, v1.id, v1.id);
  EXPECT_TRUE(same["states"]["changed"].empty());
  EXPECT_TRUE(same["events"]["added"].empty());
}

TEST(StoreVersions, ForkSharesContentByReference) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  GraphWrite g = s->create_world(kScope, sample_world(100), kGate);
  std::string id = g.world["id"];
  s->snapshot(kScope, id, "", "");
  std::int64_t before = blob_bytes(dir.file("a.db"));
  GraphWrite f = s->fork_world(kScope, id, "Fork", kGate);
  std::int64_t after = blob_bytes(dir.file("a.db"));
  EXPECT_LT(after - before, before / 10);
  VersionTree t = s->list_versions(kScope, f.world["id"]);
  ASSERT_EQ(t.data.size(), 1u);
  Json w;
  s->get_version(kScope, f.world["id"], t.head, &w);
  EXPECT_EQ(w, f.world);
}
