// Upgrading a store written in the schema-2 version layout (blobs named and
// delta-based by SHA-256, hex hashes inside manifests, a blob per root, text
// world and parent references) to schema 3 keeps every version exactly.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <map>

#include "../store/store_fixture.hpp"
#include "conjure/auth/crypto.hpp"
#include "conjure/store/store.hpp"
#include "conjure/versions/snapshot.hpp"
#include "store/schema.hpp"

using namespace conjure;
using conjure::testing::sample_world;
using conjure::testing::TempDir;

namespace {
const Scope kScope{"app-1", "test"};
const GateOptions kGate{};
const std::string kWorld = "7d3c2a4e-0b1f-4c55-9a8e-1f2d3c4b5a69";
const std::string kBranch = "0f8e2a1c-3b4d-4e5f-8a9b-0c1d2e3f4a5b";

void exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
}

std::int64_t scalar(sqlite3* db, const char* sql) {
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, sql, -1, &st, nullptr);
  std::int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
  sqlite3_finalize(st);
  return v;
}

// Writes blobs and versions the way a schema-2 store did.
class LegacyWriter {
 public:
  explicit LegacyWriter(sqlite3* db) : db_(db) {}

  // Stores `value` (whole, or as a merge patch against `base` when given) and
  // returns its hex hash.
  std::string put(const Json& value, const std::string& base = "") {
    std::string text = versions::canonical(value);
    std::string hash = versions::content_hash(text);
    if (stored_.count(hash)) return hash;
    Json patch;
    bool delta = !base.empty() && base != hash && versions::make_delta(stored_.at(base), value, &patch);
    std::string data = delta ? versions::canonical(patch) : text;
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db_, "INSERT INTO blobs(hash, base, chain, size, data) VALUES (?,?,?,?,?)", -1, &st, nullptr);
    std::string raw = auth::from_hex(hash), raw_base = delta ? auth::from_hex(base) : "";
    sqlite3_bind_blob(st, 1, raw.data(), static_cast<int>(raw.size()), SQLITE_TRANSIENT);
    if (delta) {
      sqlite3_bind_blob(st, 2, raw_base.data(), static_cast<int>(raw_base.size()), SQLITE_TRANSIENT);
    } else {
      sqlite3_bind_null(st, 2);
    }
    sqlite3_bind_int64(st, 3, delta ? static_cast<std::int64_t>(data.size()) : 0);
    sqlite3_bind_int64(st, 4, static_cast<std::int64_t>(text.size()));
    sqlite3_bind_blob(st, 5, data.data(), static_cast<int>(data.size()), SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    stored_[hash] = value;
    return hash;
  }

  // A version of `doc`; parts of the previous version's same keys are delta bases.
  void version(const std::string& id, const std::string& parent, const Json& doc, const std::string& message,
               const std::string& at) {
    versions::Parts parts = versions::split_world(doc);
    Json root = {{"v", 1}};
    auto level = [&](const char* name, const char* count, const std::map<std::string, Json>& items) {
      std::size_t nb = versions::bucket_count(items.size());
      std::map<std::string, Json> buckets;
      for (const auto& [key, value] : items) {
        auto prev = last_parts_.find(key);
        std::string h = put(value, prev == last_parts_.end() ? "" : prev->second);
        last_parts_[key] = h;
        buckets[versions::bucket_of(key, nb)][key] = h;
      }
      Json level_json = Json::object();
      for (auto& [b, entries] : buckets) level_json[b] = put(entries);
      root[count] = nb;
      root[name] = level_json;
    };
    std::map<std::string, Json> events;
    Json order = Json::array();
    for (const auto& [name, e] : parts.events) {
      events[name] = e;
      order.push_back(name);
    }
    level("s", "sb", parts.states);
    level("e", "eb", events);
    root["order"] = put(order);
    root["rest"] = put(parts.rest);
    std::string raw_root = auth::from_hex(put(root));
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db_, "INSERT INTO versions(id, world_id, parent_id, root, message, created_at) VALUES (?,?,?,?,?,?)",
                       -1, &st, nullptr);
    sqlite3_bind_text(st, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, kWorld.c_str(), -1, SQLITE_TRANSIENT);
    if (parent.empty()) {
      sqlite3_bind_null(st, 3);
    } else {
      sqlite3_bind_text(st, 3, parent.c_str(), -1, SQLITE_TRANSIENT);
    }
    sqlite3_bind_blob(st, 4, raw_root.data(), static_cast<int>(raw_root.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, message.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, at.c_str(), -1, SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
  }

 private:
  sqlite3* db_;
  std::map<std::string, Json> stored_;
  std::map<std::string, std::string> last_parts_;
};

Json with_base(Json w, const std::string& state, const std::string& base) {
  w["scene"]["states"][state]["base"] = base;
  return w;
}
}  // namespace

TEST(StoreUpgrade, SchemaTwoVersionsSurviveTheUpgradeExactly) {
  TempDir dir;
  std::string path = dir.file("v2.db");
  Json w1 = sample_world(40);
  w1["id"] = kWorld;
  Json w2 = with_base(w1, "s7", "a flooded stone room with moss on the walls");
  Json w3 = with_base(w1, "s30", "a dry room of chalk");
  w3["scene"]["states"]["annex"] = {{"base", "a small annex of dry stone"}};
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    exec(db, "PRAGMA journal_mode=WAL");
    exec(db, "BEGIN");
    exec(db, sqlite::kMigrations[0]);
    exec(db, sqlite::kMigrations[1]);
    exec(db, "PRAGMA application_id=" + std::to_string(sqlite::kApplicationId) + "; PRAGMA user_version=2");
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db,
                       "INSERT INTO worlds(id, app_id, mode, name, rev, writes, head_version_id, created_at, updated_at, doc) "
                       "VALUES (?, 'app-1', 'test', 'Sample', '3-0000000000000000', 3, 'v-2', '2026-01-01T10:00:00Z', "
                       "'2026-01-03T10:00:00Z', ?)",
                       -1, &st, nullptr);
    std::string doc = versions::canonical(w2);
    sqlite3_bind_text(st, 1, kWorld.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, doc.c_str(), -1, SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    LegacyWriter legacy(db);
    legacy.version("v-1", "", w1, "one", "2026-01-01T10:00:00Z");
    legacy.version("v-2", "v-1", w2, "two", "2026-01-02T10:00:00Z");
    legacy.version(kBranch, "v-1", w3, "a branch", "2026-01-03T10:00:00.250Z");
    ASSERT_GT(scalar(db, "SELECT count(*) FROM blobs WHERE base IS NOT NULL"), 0);  // delta chains are exercised
    exec(db, "COMMIT");
    sqlite3_close(db);
  }

  auto s = open_store(path);
  VersionTree t = s->list_versions(kScope, kWorld);
  EXPECT_EQ(t.head, "v-2");
  ASSERT_EQ(t.data.size(), 3u);
  EXPECT_EQ(t.data[0].id, "v-1");
  EXPECT_EQ(t.data[0].parent_id, "");
  EXPECT_EQ(t.data[0].message, "one");
  EXPECT_EQ(t.data[0].created_at, "2026-01-01T10:00:00Z");
  EXPECT_EQ(t.data[1].id, "v-2");
  EXPECT_EQ(t.data[1].parent_id, "v-1");
  EXPECT_TRUE(t.data[1].head);
  EXPECT_EQ(t.data[2].id, kBranch);
  EXPECT_EQ(t.data[2].created_at, "2026-01-03T10:00:00.250Z");
  EXPECT_EQ(t.data[2].parent_id, "v-1");
  EXPECT_EQ(t.data[2].message, "a branch");
  EXPECT_EQ(t.data[2].world_id, kWorld);
  const Json* expected[] = {&w1, &w2, &w3};
  for (int i = 0; i < 3; ++i) {
    Json w;
    s->get_version(kScope, kWorld, t.data[i].id, &w);
    EXPECT_EQ(w, *expected[i]) << t.data[i].id;
  }
  Json d = s->diff(kScope, kWorld, "v-1", kBranch);
  EXPECT_EQ(d["states"]["added"], Json::array({"annex"}));
  ASSERT_EQ(d["states"]["changed"].size(), 1u);
  EXPECT_EQ(d["states"]["changed"][0]["id"], "s30");
  CheckReport r = s->check();
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.orphan_blobs, 0);
  EXPECT_EQ(r.versions, 3);

  // The upgraded store keeps working: snapshot, checkout, fork.
  VersionInfo v4 = s->snapshot(kScope, kWorld, kBranch, "onto the branch");
  EXPECT_EQ(v4.parent_id, kBranch);
  GraphWrite co = s->checkout(kScope, kWorld, kBranch, "", kGate);
  EXPECT_EQ(co.world, w3);
  GraphWrite f = s->fork_world(kScope, kWorld, "Fork", kGate);
  Json fw;
  s->get_version(kScope, f.world["id"], f.head, &fw);
  EXPECT_EQ(fw, f.world);
  EXPECT_TRUE(s->check().ok);
  s.reset();

  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  EXPECT_EQ(scalar(db, "PRAGMA user_version"), static_cast<std::int64_t>(sqlite::kMigrations.size()));
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'legacy%'"), 0);
  // The UUID id and the millisecond time were packed; the others kept as text.
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM versions WHERE typeof(id) = 'blob'"), 3);  // kBranch, the snapshot, the fork
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM versions WHERE typeof(created_at) = 'text'"), 2);
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM versions WHERE typeof(created_at) = 'integer'"), 1);  // kBranch (a v4 UUID)
  sqlite3_close(db);
}

TEST(StoreUpgrade, AFreshStoreUsesTheCompactLayout) {
  TempDir dir;
  std::string path = dir.file("a.db");
  std::string id;
  {
    auto s = open_store(path);
    id = s->create_world(kScope, sample_world(40), kGate).world["id"];
    VersionInfo v1 = s->snapshot(kScope, id, "", "");
    s->apply_ops(kScope, id, conjure::testing::update_base("s3", "a room of glass"), "", kGate);
    VersionInfo v2 = s->snapshot(kScope, id, "", "second");
    // Ids and times read back exactly as they were handed out.
    VersionTree t = s->list_versions(kScope, id);
    ASSERT_EQ(t.data.size(), 2u);
    EXPECT_EQ(t.data[0].id, v1.id);
    EXPECT_EQ(t.data[0].created_at, v1.created_at);
    EXPECT_EQ(t.data[1].id, v2.id);
    EXPECT_EQ(t.data[1].parent_id, v1.id);
    EXPECT_EQ(t.data[1].created_at, v2.created_at);
    EXPECT_EQ(t.data[1].message, "second");
    EXPECT_EQ(s->get_version(kScope, id, v2.id, nullptr).created_at, v2.created_at);
  }
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  // Hashes are 32 raw bytes; the second version's root is a patch on the first's.
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM blobs WHERE length(hash) <> 32"), 0);
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM versions WHERE root_chain > 0"), 1);
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM versions WHERE parent IS NOT NULL"), 1);
  // Ids are version-7 UUIDs kept as 16 bytes; their time is the version's.
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM versions WHERE typeof(id) = 'blob' AND length(id) = 16"), 2);
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM versions WHERE created_at IS NULL"), 2);
  sqlite3_close(db);
}
