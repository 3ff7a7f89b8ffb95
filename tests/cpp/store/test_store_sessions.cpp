// Play sessions in the store (RUNTIME.md "The two-token rule"): session tokens
// and their signing keys, admission under caps and the minute budget, connect
// tokens, bind, settle, reaping; user tokens; the HTTP layer's lookups.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "conjure/auth/crypto.hpp"
#include "conjure/errors.hpp"
#include "conjure/store/store.hpp"
#include "store_fixture.hpp"

using namespace conjure;
using conjure::testing::sample_world;
using conjure::testing::code_of;
using conjure::testing::TempDir;
using conjure::testing::update_base;

namespace {

const Scope kScope{"app-s", "test"};
const GateOptions kGate{};

std::int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

struct Fixture {
  TempDir dir;
  std::unique_ptr<Store> store = open_store(dir.file("s.db"));
  std::string world = store->create_world(kScope, sample_world(), kGate).world["id"];

  SessionClaims claims(const std::string& origin = "") {
    auto t = store->mint_session_token(kScope, world, "player-1", origin, 600);
    return store->verify_session_token(t.token, origin);
  }
  MeterState minutes() {
    for (auto& m : store->meter_usage(kScope.app_id)) {
      if (m.meter == "session_minutes") return m;
    }
    return {};
  }
};

}  // namespace

TEST(SessionTokens, MintedTokenVerifiesWithItsClaims) {
  Fixture f;
  auto t = f.store->mint_session_token(kScope, f.world, "player-1", "https://game.example", 120);
  ASSERT_EQ(t.token.rfind("st_", 0), 0u);
  SessionClaims c = f.store->verify_session_token(t.token, "https://game.example");
  EXPECT_EQ(c.app, kScope.app_id);
  EXPECT_EQ(c.mode, "test");
  EXPECT_EQ(c.world, f.world);
  EXPECT_EQ(c.player, "player-1");
  EXPECT_EQ(c.origin, "https://game.example");
  EXPECT_EQ(c.jti, t.jti);
  EXPECT_FALSE(c.kid.empty());
  EXPECT_GT(c.exp, now_unix());
  EXPECT_LE(c.exp, now_unix() + 121);
}

TEST(SessionTokens, MintRefusesAnotherScopesWorldAndABadTtl) {
  Fixture f;
  EXPECT_EQ(code_of([&] { f.store->mint_session_token(Scope{"other", "test"}, f.world, "p", "", 60); }),
            ErrorCode::kNotFound);
  EXPECT_EQ(code_of([&] { f.store->mint_session_token(Scope{kScope.app_id, "live"}, f.world, "p", "", 60); }),
            ErrorCode::kNotFound);
  EXPECT_EQ(code_of([&] { f.store->mint_session_token(kScope, f.world, "p", "", 0); }), ErrorCode::kBadInput);
  EXPECT_EQ(code_of([&] { f.store->mint_session_token(kScope, f.world, "p", "", 3601); }), ErrorCode::kBadInput);
}

TEST(SessionTokens, ForgedTamperedAndExpiredTokensAreUnauthorized) {
  Fixture f;
  auto t = f.store->mint_session_token(kScope, f.world, "player-1", "", 60);
  std::size_t dot = t.token.find('.');
  // A payload re-signed by nobody: claims of another player with the old signature.
  std::string raw;
  ASSERT_TRUE(auth::base64url_decode(t.token.substr(3, dot - 3), &raw));
  Json claims = Json::parse(raw);
  claims["player"] = "mallory";
  std::string forged = "st_" + auth::base64url_encode(claims.dump()) + t.token.substr(dot);
  EXPECT_EQ(code_of([&] { f.store->verify_session_token(forged, ""); }), ErrorCode::kUnauthorized);
  std::string flipped = t.token;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(code_of([&] { f.store->verify_session_token(flipped, ""); }), ErrorCode::kUnauthorized);
  for (const std::string& bad : std::vector<std::string>{"", "st_", "st_.", "st_abc", "us_" + t.token.substr(3),
                                                        "st_!!!." + t.token.substr(dot + 1)}) {
    EXPECT_EQ(code_of([&] { f.store->verify_session_token(bad, ""); }), ErrorCode::kUnauthorized) << bad;
  }
  // Signed by another store's keys.
  TempDir other;
  auto s2 = open_store(other.file("o.db"));
  std::string w2 = s2->create_world(kScope, sample_world(), kGate).world["id"];
  auto t2 = s2->mint_session_token(kScope, w2, "p", "", 60);
  EXPECT_EQ(code_of([&] { f.store->verify_session_token(t2.token, ""); }), ErrorCode::kUnauthorized);
  // Expired: verified as of a moment past its expiry.
  EXPECT_EQ(code_of([&] { f.store->verify_session_token(t.token, "", now_unix() + 61); }), ErrorCode::kUnauthorized);
  EXPECT_NO_THROW(f.store->verify_session_token(t.token, ""));
}

TEST(SessionTokens, TokenBoundToAnOriginIsForbiddenFromAnyOther) {
  Fixture f;
  auto t = f.store->mint_session_token(kScope, f.world, "p", "https://a.example", 60);
  EXPECT_NO_THROW(f.store->verify_session_token(t.token, "https://a.example"));
  EXPECT_EQ(code_of([&] { f.store->verify_session_token(t.token, "https://b.example"); }), ErrorCode::kForbidden);
  EXPECT_EQ(code_of([&] { f.store->verify_session_token(t.token, ""); }), ErrorCode::kForbidden);
  auto unbound = f.store->mint_session_token(kScope, f.world, "p", "", 60);
  EXPECT_NO_THROW(f.store->verify_session_token(unbound.token, "https://anywhere.example"));
}

TEST(SessionTokens, RotationKeepsOldTokensValidAndSignsNewOnesWithTheNewKey) {
  Fixture f;
  auto before = f.store->mint_session_token(kScope, f.world, "p", "", 600);
  std::string old_kid = f.store->verify_session_token(before.token, "").kid;
  std::string new_kid = f.store->rotate_session_key();
  EXPECT_NE(new_kid, old_kid);
  auto after = f.store->mint_session_token(kScope, f.world, "p", "", 600);
  EXPECT_EQ(f.store->verify_session_token(after.token, "").kid, new_kid);
  EXPECT_EQ(f.store->verify_session_token(before.token, "").kid, old_kid);
  // Keys live in the store: a second handle on the file verifies both.
  auto again = open_store(f.store->path());
  EXPECT_NO_THROW(again->verify_session_token(before.token, ""));
  EXPECT_NO_THROW(again->verify_session_token(after.token, ""));
}

TEST(Sessions, AdmitConsumeBindSettleChargesUsedMinutesAndRefundsTheRest) {
  Fixture f;
  SessionClaims c = f.claims();
  AdmittedSession a = f.store->admit_session(c, 5, 100, 10);
  EXPECT_EQ(a.connect_token.rfind("ct_", 0), 0u);
  EXPECT_EQ(f.minutes().reserved, 10);
  SessionInfo s = f.store->consume_connect_token(a.connect_token);
  EXPECT_EQ(s.id, a.session_id);
  EXPECT_EQ(s.world_id, f.world);
  EXPECT_EQ(s.player_id, "player-1");
  EXPECT_EQ(s.status, "admitted");
  EXPECT_EQ(code_of([&] { f.store->consume_connect_token(a.connect_token); }), ErrorCode::kUnauthorized);
  EXPECT_EQ(f.store->bind_session(a.session_id, c).status, "bound");
  EXPECT_EQ(f.store->bind_session(a.session_id, c).status, "bound");
  SessionInfo settled = f.store->settle_session(a.session_id, 61, &c);
  EXPECT_EQ(settled.status, "settled");
  EXPECT_EQ(settled.seconds_used, 61);
  MeterState m = f.minutes();
  EXPECT_EQ(m.used, 2);  // ceil(61 / 60)
  EXPECT_EQ(m.reserved, 0);
  // Idempotent: a second settle changes nothing.
  EXPECT_EQ(f.store->settle_session(a.session_id, 600, &c).seconds_used, 61);
  EXPECT_EQ(f.minutes().used, 2);
  EXPECT_EQ(code_of([&] { f.store->bind_session(a.session_id, c); }), ErrorCode::kConflict);
}

TEST(Sessions, AnotherAppCannotBindOrSettleTheSession) {
  Fixture f;
  SessionClaims c = f.claims();
  AdmittedSession a = f.store->admit_session(c, 5, 100, 10);
  SessionClaims other = c;
  other.app = "someone-else";
  EXPECT_EQ(code_of([&] { f.store->bind_session(a.session_id, other); }), ErrorCode::kNotFound);
  EXPECT_EQ(code_of([&] { f.store->settle_session(a.session_id, 0, &other); }), ErrorCode::kNotFound);
  EXPECT_EQ(code_of([&] { f.store->bind_session("no-such-session", c); }), ErrorCode::kNotFound);
}

TEST(Sessions, CapsAreEnforcedPerAppAndGloballyAndSettlingFreesTheSlot) {
  Fixture f;
  AdmittedSession a = f.store->admit_session(f.claims(), 1, 100, 5);
  EXPECT_EQ(code_of([&] { f.store->admit_session(f.claims(), 1, 100, 5); }), ErrorCode::kCapacity);
  EXPECT_EQ(code_of([&] { f.store->admit_session(f.claims(), 10, 1, 5); }), ErrorCode::kCapacity);
  EXPECT_EQ(f.minutes().reserved, 5);  // a refused admission reserves nothing
  f.store->settle_session(a.session_id, 0, nullptr);
  EXPECT_EQ(f.minutes().used, 0);
  EXPECT_NO_THROW(f.store->admit_session(f.claims(), 1, 1, 5));
}

TEST(Sessions, TheMinuteBudgetRefusesAdmissionWithoutChargingAnything) {
  Fixture f;
  f.store->set_meter_limit(kScope.app_id, "session_minutes", 15);
  f.store->admit_session(f.claims(), 10, 100, 10);
  EXPECT_EQ(code_of([&] { f.store->admit_session(f.claims(), 10, 100, 10); }), ErrorCode::kQuotaExceeded);
  MeterState m = f.minutes();
  EXPECT_EQ(m.reserved, 10);
  EXPECT_EQ(m.used, 0);
}

TEST(Sessions, ATokenHasOneLiveSessionAndMayBeExchangedAgainAfterSettling) {
  Fixture f;
  SessionClaims c = f.claims();
  AdmittedSession a = f.store->admit_session(c, 10, 100, 5);
  EXPECT_EQ(code_of([&] { f.store->admit_session(c, 10, 100, 5); }), ErrorCode::kConflict);
  f.store->settle_session(a.session_id, 30, &c);
  AdmittedSession b = f.store->admit_session(c, 10, 100, 5);
  EXPECT_NE(b.session_id, a.session_id);
}

TEST(Sessions, SessionEndsWhenItsReservedMinutesRunOut) {
  Fixture f;
  AdmittedSession a = f.store->admit_session(f.claims(), 10, 100, 2);  // token: 600 s, minutes: 120 s
  SessionInfo s = f.store->consume_connect_token(a.connect_token);
  EXPECT_EQ(s.expires_at, a.expires_at);
  EXPECT_EQ(f.store->reap_sessions(now_unix() + 119), 0);
  EXPECT_EQ(f.store->reap_sessions(now_unix() + 125), 1);
  EXPECT_EQ(f.minutes().used, 2);
}

TEST(Sessions, ConnectTokenExpiresAfterItsWindow) {
  Fixture f;
  AdmittedSession a = f.store->admit_session(f.claims(), 10, 100, 5);
  EXPECT_EQ(code_of([&] { f.store->consume_connect_token(a.connect_token, now_unix() + 61); }), ErrorCode::kUnauthorized);
  EXPECT_EQ(code_of([&] { f.store->consume_connect_token("ct_not-a-token"); }), ErrorCode::kUnauthorized);
  EXPECT_EQ(code_of([&] { f.store->consume_connect_token("st_wrong-kind"); }), ErrorCode::kUnauthorized);
}

TEST(Sessions, ReapSettlesUnconnectedAndExpiredSessionsAndRefundsThem) {
  Fixture f;
  AdmittedSession never = f.store->admit_session(f.claims(), 10, 100, 5);
  AdmittedSession playing = f.store->admit_session(f.claims(), 10, 100, 5);
  f.store->consume_connect_token(playing.connect_token);
  EXPECT_EQ(f.store->reap_sessions(), 0);
  EXPECT_EQ(f.store->reap_sessions(now_unix() + 61), 1);  // the one that never connected
  MeterState m = f.minutes();
  EXPECT_EQ(m.used, 0);
  EXPECT_EQ(m.reserved, 5);
  EXPECT_EQ(f.store->settle_session(never.session_id, -1, nullptr).seconds_used, 0);
  EXPECT_EQ(f.store->reap_sessions(now_unix() + 601), 1);  // past its expiry: charged its whole reservation
  EXPECT_EQ(f.minutes().used, 5);
  EXPECT_EQ(f.minutes().reserved, 0);
}

TEST(Sessions, SettleAllActiveFreesEverySlotAfterARestart) {
  Fixture f;
  for (int i = 0; i < 3; ++i) f.store->admit_session(f.claims(), 3, 3, 5);
  EXPECT_EQ(code_of([&] { f.store->admit_session(f.claims(), 3, 3, 5); }), ErrorCode::kCapacity);
  std::string path = f.store->path();
  f.store.reset();
  auto restarted = open_store(path);
  EXPECT_EQ(restarted->settle_all_active("restart"), 3);
  EXPECT_EQ(restarted->settle_all_active("restart"), 0);
  auto t = restarted->mint_session_token(kScope, f.world, "p", "", 60);
  EXPECT_NO_THROW(restarted->admit_session(restarted->verify_session_token(t.token, ""), 1, 1, 5));
}

TEST(Sessions, ThreadsRacingForTheLastSlotAdmitExactlyOne) {
  Fixture f;
  std::vector<SessionClaims> claims;
  for (int i = 0; i < 8; ++i) claims.push_back(f.claims());
  std::atomic<int> admitted{0}, refused{0}, go{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      try {
        f.store->admit_session(claims[i], 1, 100, 1);
        ++admitted;
      } catch (const Error& e) {
        if (e.code() == ErrorCode::kCapacity) ++refused;
      }
    });
  }
  go = 1;
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), 1);
  EXPECT_EQ(refused.load(), 7);
  EXPECT_EQ(f.minutes().reserved, 1);
}

TEST(Sessions, OneTokenExchangedConcurrentlyGivesExactlyOneSession) {
  Fixture f;
  SessionClaims c = f.claims();
  std::atomic<int> admitted{0}, conflicts{0}, go{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      try {
        f.store->admit_session(c, 100, 100, 1);
        ++admitted;
      } catch (const Error& e) {
        if (e.code() == ErrorCode::kConflict) ++conflicts;
      }
    });
  }
  go = 1;
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), 1);
  EXPECT_EQ(conflicts.load(), 5);
}

TEST(Sessions, TwoProcessesRacingForTheLastSlotAdmitExactlyOne) {
  Fixture f;
  std::string path = f.store->path();
  std::vector<SessionClaims> claims = {f.claims(), f.claims()};
  int pipes[2][2];
  std::vector<pid_t> kids;
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(pipe(pipes[i]), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(pipes[i][1]);
      char go;
      if (read(pipes[i][0], &go, 1) != 1) _exit(3);
      try {
        auto s = open_store(path);
        s->admit_session(claims[i], 1, 100, 1);
        _exit(0);
      } catch (const Error& e) {
        _exit(e.code() == ErrorCode::kCapacity ? 1 : 2);
      } catch (...) {
        _exit(2);
      }
    }
    close(pipes[i][0]);
    kids.push_back(pid);
  }
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(write(pipes[i][1], "g", 1), 1);
    close(pipes[i][1]);
  }
  int won = 0, refused = 0;
  for (pid_t pid : kids) {
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    int code = WEXITSTATUS(status);
    if (code == 0) ++won;
    if (code == 1) ++refused;
  }
  EXPECT_EQ(won, 1);
  EXPECT_EQ(refused, 1);
}

TEST(UserTokens, IssuedTokenVerifiesToItsUserAndForgeriesDoNot) {
  TempDir dir;
  auto s = open_store(dir.file("u.db"));
  User u = s->create_user("ada@example.com", "correct horse battery");
  UserToken t = s->issue_user_token(u.id, 3600);
  ASSERT_EQ(t.token.rfind("us_", 0), 0u);
  EXPECT_EQ(s->verify_user_token(t.token).id, u.id);
  std::string flipped = t.token;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(code_of([&] { s->verify_user_token(flipped); }), ErrorCode::kUnauthorized);
  EXPECT_EQ(code_of([&] { s->verify_user_token("us_x.y"); }), ErrorCode::kUnauthorized);
  EXPECT_EQ(code_of([&] { s->issue_user_token("no-such-user", 3600); }), ErrorCode::kNotFound);
  EXPECT_EQ(code_of([&] { s->issue_user_token(u.id, 10); }), ErrorCode::kBadInput);
  // Another store (another server secret) does not accept it.
  TempDir other;
  auto s2 = open_store(other.file("o.db"));
  EXPECT_EQ(code_of([&] { s2->verify_user_token(t.token); }), ErrorCode::kUnauthorized);
  // A configured secret signs the same way across handles.
  StoreOptions o;
  o.server_secret = "a configured secret";
  auto a = open_store(dir.file("c.db"), o);
  User v = a->create_user("bo@example.com", "correct horse battery");
  UserToken tv = a->issue_user_token(v.id, 3600);
  auto b = open_store(dir.file("c.db"), o);
  EXPECT_EQ(b->verify_user_token(tv.token).id, v.id);
}

TEST(HttpLookups, FindUserGetWebhookAndCompareAndDeleteWorld) {
  Fixture f;
  User u = f.store->create_user("Case@Example.com", "correct horse battery");
  auto found = f.store->find_user("case@example.com");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, u.id);
  EXPECT_FALSE(f.store->find_user("nobody@example.com").has_value());

  App app = f.store->create_app(u.id, "game");
  CreatedWebhook w = f.store->create_webhook(app.id, "https://hooks.example/x", {"world.updated"}, "");
  WebhookEndpoint got = f.store->get_webhook(w.endpoint.id);
  EXPECT_EQ(got.app_id, app.id);
  EXPECT_EQ(got.url, "https://hooks.example/x");
  f.store->delete_webhook(app.id, w.endpoint.id);
  EXPECT_EQ(code_of([&] { f.store->get_webhook(w.endpoint.id); }), ErrorCode::kNotFound);

  std::string rev = f.store->get_world_info(kScope, f.world).rev;
  f.store->apply_ops(kScope, f.world, update_base("s0", "a changed room with new moss"), rev, kGate);
  EXPECT_EQ(code_of([&] { f.store->delete_world(kScope, f.world, rev); }), ErrorCode::kConflict);
  std::string now_rev = f.store->get_world_info(kScope, f.world).rev;
  f.store->delete_world(kScope, f.world, now_rev);
  EXPECT_EQ(code_of([&] { f.store->get_world_info(kScope, f.world); }), ErrorCode::kNotFound);
}
