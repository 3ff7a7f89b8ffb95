#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "conjure/auth/crypto.hpp"
#include "conjure/errors.hpp"
#include "conjure/store/errors.hpp"
#include "conjure/store/store.hpp"
#include "store_fixture.hpp"

using namespace conjure;
using conjure::testing::sample_world;
using conjure::testing::code_of;
using conjure::testing::TempDir;
using conjure::testing::update_base;

namespace {

const Scope kScope{"app-1", "test"};
const GateOptions kGate{};

}  // namespace

TEST(StoreOpen, CreatesAStoreAndReopensIt) {
  TempDir dir;
  std::string id;
  {
    auto s = open_store(dir.file("a.db"));
    id = s->create_world(kScope, sample_world(), kGate).world["id"];
  }
  auto s = open_store(dir.file("a.db"));
  EXPECT_EQ(s->get_graph(kScope, id).world["name"], "Sample");
}

TEST(StoreOpen, ForeignSqliteFileIsAStorageError) {
  TempDir dir;
  sqlite3* db = nullptr;
  sqlite3_open(dir.file("other.db").c_str(), &db);
  sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  EXPECT_EQ(code_of([&] { open_store(dir.file("other.db")); }), ErrorCode::kStorage);
}

TEST(StoreOpen, GarbageFileIsAStorageError) {
  TempDir dir;
  std::ofstream(dir.file("junk.db")) << "this is not a database at all, just some text that is long enough";
  EXPECT_EQ(code_of([&] { open_store(dir.file("junk.db")); }), ErrorCode::kStorage);
}

TEST(StoreOpen, NewerSchemaIsRefused) {
  TempDir dir;
  open_store(dir.file("a.db"));
  sqlite3* db = nullptr;
  sqlite3_open(dir.file("a.db").c_str(), &db);
  sqlite3_exec(db, "PRAGMA user_version=999", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  EXPECT_EQ(code_of([&] { open_store(dir.file("a.db")); }), ErrorCode::kStorage);
}

TEST(StoreOpen, UsesWalAndForeignKeys) {
  TempDir dir;
  open_store(dir.file("a.db"));
  sqlite3* db = nullptr;
  sqlite3_open(dir.file("a.db").c_str(), &db);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST(StoreWorlds, CreateAssignsAUuidAndARev) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  Json w = sample_world();
  w["id"] = "caller-chosen";
  GraphWrite g = s->create_world(kScope, w, kGate);
  EXPECT_TRUE(auth::is_uuid(g.world["id"].get<std::string>()));
  EXPECT_FALSE(g.rev.empty());
  Graph read = s->get_graph(kScope, g.world["id"]);
  EXPECT_EQ(read.rev, g.rev);
  EXPECT_EQ(read.world, g.world);
}

TEST(StoreWorlds, AnotherAppsWorldIsNotFound) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  std::string id = s->create_world(kScope, sample_world(), kGate).world["id"];
  EXPECT_EQ(code_of([&] { s->get_graph(Scope{"app-2", "test"}, id); }), ErrorCode::kNotFound);
  EXPECT_EQ(code_of([&] { s->get_graph(Scope{"app-1", "live"}, id); }), ErrorCode::kNotFound);
  EXPECT_EQ(code_of([&] { s->get_graph(kScope, "no-such-world"); }), ErrorCode::kNotFound);
}

TEST(StoreWorlds, GateFailureWritesNothing) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  Json bad = sample_world();
  bad["entrance"]["state"] = "nowhere";
  try {
    s->create_world(kScope, bad, kGate);
    FAIL() << "expected GateFailed";
  } catch (const GateFailed& e) {
    EXPECT_EQ(e.code(), ErrorCode::kGateFailed);
    EXPECT_FALSE(e.diagnostics().empty());
  }
  EXPECT_TRUE(s->list_worlds(kScope, 10, "").data.empty());
}

TEST(StoreWorlds, ListPagesWithACursor) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(s->create_world(kScope, sample_world(2, "W" + std::to_string(i)), kGate).world["id"]);
  s->create_world(Scope{"app-2", "test"}, sample_world(), kGate);
  auto p1 = s->list_worlds(kScope, 2, "");
  ASSERT_EQ(p1.data.size(), 2u);
  ASSERT_FALSE(p1.next_cursor.empty());
  auto p2 = s->list_worlds(kScope, 2, p1.next_cursor);
  auto p3 = s->list_worlds(kScope, 2, p2.next_cursor);
  ASSERT_EQ(p3.data.size(), 1u);
  EXPECT_TRUE(p3.next_cursor.empty());
  EXPECT_EQ(p1.data[0].id, ids[0]);
  EXPECT_EQ(p3.data[0].id, ids[4]);
  EXPECT_EQ(p2.data[1].name, "W3");
  EXPECT_EQ(code_of([&] { s->list_worlds(kScope, 0, ""); }), ErrorCode::kBadInput);
  EXPECT_EQ(code_of([&] { s->list_worlds(kScope, 10, "bogus"); }), ErrorCode::kBadInput);
}

TEST(StoreWorlds, ApplyOpsChangesTheRevAndChecksExpectedRev) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  GraphWrite g = s->create_world(kScope, sample_world(), kGate);
  std::string id = g.world["id"];
  GraphWrite g2 = s->apply_ops(kScope, id, update_base("s1", "a dry sandstone hall"), g.rev, kGate);
  EXPECT_NE(g2.rev, g.rev);
  EXPECT_EQ(g2.world["scene"]["states"]["s1"]["base"], "a dry sandstone hall");
  // A stale rev is a conflict and changes nothing.
  EXPECT_EQ(code_of([&] { s->apply_ops(kScope, id, update_base("s1", "x y z"), g.rev, kGate); }), ErrorCode::kConflict);
  Graph now = s->get_graph(kScope, id);
  EXPECT_EQ(now.rev, g2.rev);
  EXPECT_EQ(now.world["scene"]["states"]["s1"]["base"], "a dry sandstone hall");
}

TEST(StoreWorlds, ApplyOpsGateFailureRollsBack) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  GraphWrite g = s->create_world(kScope, sample_world(), kGate);
  std::string id = g.world["id"];
  Json ops = Json::array({{{"op", "set_entrance"}, {"state", "s1"}},
                          {{"op", "update_event"}, {"name", "Go to room 1"}, {"patch", {{"to", "missing"}}}}});
  EXPECT_EQ(code_of([&] { s->apply_ops(kScope, id, ops, "", kGate); }), ErrorCode::kGateFailed);
  Graph now = s->get_graph(kScope, id);
  EXPECT_EQ(now.rev, g.rev);
  EXPECT_EQ(now.world["entrance"]["state"], "s0");
}

TEST(StoreWorlds, ApplyOpsReportsSkippedOps) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  GraphWrite g = s->create_world(kScope, sample_world(), kGate);
  Json ops = update_base("nope", "a hall");
  GraphWrite r = s->apply_ops(kScope, g.world["id"], ops, "", kGate);
  ASSERT_EQ(r.apply_errors.size(), 1u);
  EXPECT_EQ(r.apply_errors[0].code, ErrorCode::kNotFound);
  EXPECT_EQ(r.rev, g.rev);  // nothing changed
  EXPECT_EQ(code_of([&] { s->apply_ops(kScope, g.world["id"], Json::array(), "", kGate); }), ErrorCode::kBadInput);
}

TEST(StoreWorlds, PatchUpdatesMetadataAndRejectsOtherFields) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  GraphWrite g = s->create_world(kScope, sample_world(), kGate);
  std::string id = g.world["id"];
  GraphWrite p = s->patch_world(kScope, id, {{"name", "Renamed"}, {"visibility", "public"}}, "", kGate);
  EXPECT_EQ(p.world["name"], "Renamed");
  WorldInfo info = s->get_world_info(kScope, id);
  EXPECT_EQ(info.name, "Renamed");
  EXPECT_EQ(info.visibility, "public");
  EXPECT_EQ(code_of([&] { s->patch_world(kScope, id, {{"scene", 1}}, "", kGate); }), ErrorCode::kBadInput);
  EXPECT_EQ(code_of([&] { s->patch_world(kScope, id, {{"visibility", "secret"}}, "", kGate); }), ErrorCode::kBadInput);
  EXPECT_EQ(code_of([&] { s->patch_world(kScope, id, {{"name", "x"}}, g.rev, kGate); }), ErrorCode::kConflict);
}

TEST(StoreWorlds, DeletedWorldIsGone) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  std::string id = s->create_world(kScope, sample_world(), kGate).world["id"];
  s->delete_world(kScope, id);
  EXPECT_EQ(code_of([&] { s->get_graph(kScope, id); }), ErrorCode::kNotFound);
  EXPECT_EQ(code_of([&] { s->delete_world(kScope, id); }), ErrorCode::kNotFound);
  EXPECT_TRUE(s->list_worlds(kScope, 10, "").data.empty());
}

TEST(StoreWorlds, ForkCopiesOwnAndPublicWorldsOnly) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  std::string id = s->create_world(kScope, sample_world(), kGate).world["id"];
  GraphWrite f = s->fork_world(kScope, id, "Copy", kGate);
  EXPECT_NE(f.world["id"], id);
  EXPECT_EQ(f.world["name"], "Copy");
  EXPECT_EQ(f.world["scene"], s->get_graph(kScope, id).world["scene"]);
  EXPECT_EQ(s->get_world_info(kScope, f.world["id"]).forked_from, id);
  Scope other{"app-2", "test"};
  EXPECT_EQ(code_of([&] { s->fork_world(other, id, "", kGate); }), ErrorCode::kNotFound);
  s->patch_world(kScope, id, {{"visibility", "public"}}, "", kGate);
  GraphWrite f2 = s->fork_world(other, id, "", kGate);
  EXPECT_EQ(f2.world["visibility"], "private");
  EXPECT_EQ(s->get_world_info(other, f2.world["id"]).app_id, "app-2");
}

TEST(StoreWorlds, ConcurrentCompareAndSetLosesNoUpdate) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  GraphWrite g = s->create_world(kScope, sample_world(8), kGate);
  std::string id = g.world["id"];
  std::atomic<int> ok{0}, conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        for (;;) {
          Graph cur = s->get_graph(kScope, id);
          std::string base = cur.world["scene"]["states"]["s0"]["base"];
          try {
            s->apply_ops(kScope, id, update_base("s0", base + " mark" + std::to_string(t)), cur.rev, kGate);
            ++ok;
            break;
          } catch (const Error& e) {
            ASSERT_EQ(e.code(), ErrorCode::kConflict);
            ++conflicts;
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 80);
  std::string base = s->get_graph(kScope, id).world["scene"]["states"]["s0"]["base"];
  int marks = 0;
  for (std::size_t p = base.find(" mark"); p != std::string::npos; p = base.find(" mark", p + 1)) ++marks;
  EXPECT_EQ(marks, 80);  // every acknowledged write is in the document
}

// ---------------------------------------------------------------- faults

TEST(StoreFaults, SizeCapIsAStorageErrorAndNothingPartialIsWritten) {
  TempDir dir;
  {
    auto s = open_store(dir.file("a.db"));
  }
  StoreOptions opts;
  opts.max_bytes = 400 * 1024;
  auto s = open_store(dir.file("a.db"), opts);
  GraphWrite g = s->create_world(kScope, sample_world(3), kGate);
  std::string id = g.world["id"];
  std::string rev = g.rev;
  bool full = false;
  for (int i = 0; i < 400 && !full; ++i) {
    try {
      std::string big(3000, 'a' + (i % 26));
      rev = s->apply_ops(kScope, id, update_base("s1", "a hall " + std::to_string(i) + " of " + big), rev, kGate).rev;
      s->snapshot(kScope, id, "", "v" + std::to_string(i));
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kStorage) << e.what();
      full = true;
    }
  }
  ASSERT_TRUE(full);
  EXPECT_EQ(s->get_graph(kScope, id).rev, rev);
  EXPECT_TRUE(s->check().ok);
}

TEST(StoreFaults, ReadOnlyStoreRefusesWrites) {
  TempDir dir;
  std::string id;
  {
    auto s = open_store(dir.file("a.db"));
    id = s->create_world(kScope, sample_world(), kGate).world["id"];
  }
  StoreOptions opts;
  opts.read_only = true;
  auto s = open_store(dir.file("a.db"), opts);
  EXPECT_EQ(s->get_graph(kScope, id).world["name"], "Sample");
  EXPECT_EQ(code_of([&] { s->apply_ops(kScope, id, update_base("s1", "a hall"), "", kGate); }), ErrorCode::kStorage);
  EXPECT_EQ(code_of([&] { s->create_world(kScope, sample_world(), kGate); }), ErrorCode::kStorage);
}

TEST(StoreMaintenance, CheckAndBackup) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  std::string id = s->create_world(kScope, sample_world(5), kGate).world["id"];
  s->snapshot(kScope, id, "", "one");
  s->apply_ops(kScope, id, update_base("s2", "a copper vault"), "", kGate);
  s->snapshot(kScope, id, "", "two");
  CheckReport r = s->check();
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.missing_blobs, 0);
  EXPECT_EQ(r.orphan_blobs, 0);
  EXPECT_EQ(r.versions, 2);
  s->backup(dir.file("copy.db"));
  auto b = open_store(dir.file("copy.db"));
  EXPECT_EQ(b->get_graph(kScope, id).world, s->get_graph(kScope, id).world);
  EXPECT_EQ(b->list_versions(kScope, id).data.size(), 2u);
  // Removing a referenced blob is reported.
  sqlite3* db = nullptr;
  sqlite3_open(dir.file("copy.db").c_str(), &db);
  // (the first blob is a part of the first version, stored whole).
  sqlite3_exec(db, "PRAGMA foreign_keys=OFF; DELETE FROM blobs WHERE id = (SELECT min(id) FROM blobs)", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  auto damaged = open_store(dir.file("copy.db"));
  CheckReport d = damaged->check();
  EXPECT_FALSE(d.ok);
  EXPECT_GT(d.missing_blobs, 0);
}

// ---------------------------------------------------------------- users, apps, keys

TEST(StoreAccounts, UsersSignUpOnceAndLogIn) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  User u = s->create_user("Ada@example.com", "correct horse battery");
  EXPECT_TRUE(auth::is_uuid(u.id));
  EXPECT_EQ(code_of([&] { s->create_user("ada@example.com", "another password"); }), ErrorCode::kConflict);
  EXPECT_EQ(code_of([&] { s->create_user("bob@example.com", "short"); }), ErrorCode::kBadInput);
  EXPECT_EQ(s->authenticate_user("ada@example.com", "correct horse battery").id, u.id);
  EXPECT_EQ(code_of([&] { s->authenticate_user("ada@example.com", "wrong password!"); }), ErrorCode::kUnauthorized);
  EXPECT_EQ(code_of([&] { s->authenticate_user("nobody@example.com", "wrong password!"); }), ErrorCode::kUnauthorized);
  EXPECT_EQ(s->get_user(u.id).email, "Ada@example.com");
}

TEST(StoreAccounts, KeysAreStoredHashedAndRevocable) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  User u = s->create_user("ada@example.com", "correct horse battery");
  App a = s->create_app(u.id, "Game");
  EXPECT_EQ(s->list_apps(u.id, 10, "").data.size(), 1u);
  MintedKey k = s->create_key(a.id, "secret", "test", "ci");
  EXPECT_EQ(k.key.rfind("sk_test_", 0), 0u);
  EXPECT_GE(k.key.size(), 8u + 43u);
  EXPECT_EQ(k.info.last4, k.key.substr(k.key.size() - 4));
  KeyInfo v = s->verify_key(k.key);
  EXPECT_EQ(v.id, k.info.id);
  EXPECT_EQ(v.mode, "test");
  EXPECT_EQ(code_of([&] { s->verify_key(k.key + "x"); }), ErrorCode::kUnauthorized);
  // The plaintext is nowhere in the file.
  s.reset();
  std::ifstream f(dir.file("a.db"), std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(f)), {});
  std::ifstream w(dir.file("a.db-wal"), std::ios::binary);
  all += std::string((std::istreambuf_iterator<char>(w)), {});
  EXPECT_EQ(all.find(k.key.substr(8)), std::string::npos);
  s = open_store(dir.file("a.db"));
  KeyInfo r = s->revoke_key(a.id, k.info.id);
  EXPECT_FALSE(r.revoked_at.empty());
  EXPECT_EQ(code_of([&] { s->verify_key(k.key); }), ErrorCode::kUnauthorized);
  EXPECT_EQ(code_of([&] { s->revoke_key("other-app", k.info.id); }), ErrorCode::kNotFound);
  EXPECT_EQ(code_of([&] { s->create_key(a.id, "admin", "test", ""); }), ErrorCode::kBadInput);
  EXPECT_EQ(s->list_keys(a.id, 10, "").data.size(), 1u);
}

TEST(StoreAccounts, GivenServerSecretChangesKeyHashes) {
  TempDir dir;
  StoreOptions o;
  o.server_secret = "secret-one";
  std::string key;
  {
    auto s = open_store(dir.file("a.db"), o);
    App a = s->create_app("", "Game");
    key = s->create_key(a.id, "publishable", "live", "").key;
    EXPECT_EQ(s->verify_key(key).type, "publishable");
  }
  o.server_secret = "secret-two";
  auto s = open_store(dir.file("a.db"), o);
  EXPECT_EQ(code_of([&] { s->verify_key(key); }), ErrorCode::kUnauthorized);
}

// ---------------------------------------------------------------- idempotency

TEST(StoreIdempotency, NewReplayConflictAndInFlight) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  EXPECT_EQ(s->idem_begin(kScope, "k1", "h1").kind, IdemBegin::Kind::kNew);
  EXPECT_EQ(s->idem_begin(kScope, "k1", "h1").kind, IdemBegin::Kind::kInFlight);
  EXPECT_EQ(s->idem_begin(kScope, "k1", "h2").kind, IdemBegin::Kind::kConflict);
  s->idem_complete(kScope, "k1", 201, "{\"ok\":true}");
  IdemBegin r = s->idem_begin(kScope, "k1", "h1");
  EXPECT_EQ(r.kind, IdemBegin::Kind::kReplay);
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, "{\"ok\":true}");
  // Another scope does not see the key.
  EXPECT_EQ(s->idem_begin(Scope{"app-1", "live"}, "k1", "h9").kind, IdemBegin::Kind::kNew);
}

TEST(StoreIdempotency, ServerErrorsAreNotStored) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  ASSERT_EQ(s->idem_begin(kScope, "k", "h").kind, IdemBegin::Kind::kNew);
  s->idem_complete(kScope, "k", 503, "oops");
  EXPECT_EQ(s->idem_begin(kScope, "k", "other").kind, IdemBegin::Kind::kNew);
}

TEST(StoreIdempotency, RecordsExpireAfter24Hours) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  s->idem_begin(kScope, "k", "h");
  s->idem_complete(kScope, "k", 200, "b");
  sqlite3* db = nullptr;
  sqlite3_open(dir.file("a.db").c_str(), &db);
  sqlite3_exec(db, "UPDATE idempotency SET created_unix=created_unix-86401", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  EXPECT_EQ(s->idem_begin(kScope, "k", "different").kind, IdemBegin::Kind::kNew);
}

// ---------------------------------------------------------------- jobs, webhooks

TEST(StoreJobs, ClaimCompleteAndFail) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  Job j = s->create_job(kScope, "generate", {{"premise", "an abbey"}});
  EXPECT_EQ(j.status, "queued");
  auto c = s->claim_job("w1", 60);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->id, j.id);
  EXPECT_EQ(c->status, "running");
  EXPECT_FALSE(s->claim_job("w2", 60).has_value());
  Job done = s->complete_job(j.id, {{"worldId", "w"}});
  EXPECT_EQ(done.status, "succeeded");
  EXPECT_EQ(done.result["worldId"], "w");
  EXPECT_EQ(code_of([&] { s->fail_job(j.id, "late"); }), ErrorCode::kConflict);
  EXPECT_EQ(code_of([&] { s->get_job(Scope{"app-2", "test"}, j.id); }), ErrorCode::kNotFound);
  Job j2 = s->create_job(kScope, "generate", Json::object());
  s->claim_job("w1", 60);
  EXPECT_EQ(s->fail_job(j2.id, "provider down").error, "provider down");
}

TEST(StoreWebhooks, EventsFanOutToSubscribedEndpointsWithRetries) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  App a = s->create_app("", "Game");
  CreatedWebhook w = s->create_webhook(a.id, "https://example.com/hook", {"world.generation.succeeded"}, "");
  EXPECT_EQ(w.secret.rfind("whsec_", 0), 0u);
  s->create_webhook(a.id, "http://127.0.0.1:9000/x", {"world.generation.failed"}, "");
  EXPECT_EQ(code_of([&] { s->create_webhook(a.id, "http://example.com/", {"x"}, ""); }), ErrorCode::kBadInput);
  Scope scope{a.id, "test"};
  s->enqueue_event(scope, "world.generation.succeeded", {{"worldId", "w1"}});
  auto ds = s->claim_deliveries(10, 30);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].url, "https://example.com/hook");
  EXPECT_EQ(ds[0].secret, w.secret);
  EXPECT_EQ(ds[0].body["data"]["worldId"], "w1");
  EXPECT_TRUE(s->claim_deliveries(10, 30).empty());  // leased
  Delivery d = s->record_delivery(ds[0].id, 500, false, "server error");
  EXPECT_EQ(d.status, "pending");
  EXPECT_EQ(d.attempt, 1);
  EXPECT_FALSE(d.next_attempt_at.empty());
  EXPECT_TRUE(s->claim_deliveries(10, 30).empty());  // backing off
  auto listed = s->list_deliveries(a.id, w.endpoint.id, 10, "");
  ASSERT_EQ(listed.data.size(), 1u);
  Delivery ok = s->record_delivery(ds[0].id, 200, true, "");
  EXPECT_EQ(ok.status, "succeeded");
  EXPECT_EQ(code_of([&] { s->record_delivery(ds[0].id, 200, true, ""); }), ErrorCode::kConflict);
  s->delete_webhook(a.id, w.endpoint.id);
  EXPECT_EQ(s->list_webhooks(a.id, 10, "").data.size(), 1u);
  EXPECT_EQ(code_of([&] { s->delete_webhook(a.id, w.endpoint.id); }), ErrorCode::kNotFound);
}
