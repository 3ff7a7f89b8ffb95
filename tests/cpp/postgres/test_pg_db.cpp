// The libpq layer under the PostgreSQL store: placeholders, prepared statements,
// bytea, transactions that retry conflicts and lost connections, SKIP LOCKED claims,
// and numbered migrations under an advisory lock.
#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "postgres/pg_fixture.hpp"
#include "store/postgres/pg_db.hpp"
#include "store/postgres/pg_schema.hpp"

namespace conjure {
namespace {

using pg::Conn;
using pg::Pool;
using pg::Stmt;

class PgDb : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(db_.error().empty()) << db_.error(); }
  pg::OpenSpec spec(int max_connections = 8) {
    pg::OpenSpec s;
    s.url = db_.url();
    s.max_connections = max_connections;
    s.retry_timeout_ms = 15000;
    return s;
  }
  testing::FreshDatabase db_;
};

TEST(PgPlaceholders, QuestionMarksBecomeNumberedParametersOutsideLiterals) {
  EXPECT_EQ(pg::number_placeholders("SELECT ? , '?' , \"a?\" FROM t WHERE x = ? -- why?\n AND y = ?"),
            "SELECT $1 , '?' , \"a?\" FROM t WHERE x = $2 -- why?\n AND y = $3");
  EXPECT_EQ(pg::number_placeholders("SELECT 'it''s ?', ?"), "SELECT 'it''s ?', $1");
}

TEST_F(PgDb, StatementsBindTextIntegersNullsAndBinaryBlobs) {
  Pool pool(spec());
  std::string blob("\x00\x01\xff\x7f zero", 9);
  pg::write_tx(pool, [&](Conn& c) {
    c.exec("CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT, data BYTEA, flag BOOLEAN)");
    Stmt ins = c.prepare("INSERT INTO t VALUES (?, ?, ?, ?)");
    ins.bind(1, std::int64_t{1} << 40).bind(2, "naïve ✓").bind_blob(3, blob).bind(4, "true");
    ins.run();
    EXPECT_EQ(ins.changes(), 1);
    c.prepare("INSERT INTO t VALUES (?, ?, ?, ?)").args(2, nullptr, nullptr, "false").run();
  });
  pg::read_tx(pool, [&](Conn& c) {
    Stmt s = c.prepare("SELECT id, name, data, flag FROM t ORDER BY id DESC");
    ASSERT_TRUE(s.step());
    EXPECT_EQ(s.i64(0), std::int64_t{1} << 40);
    EXPECT_EQ(s.text(1), "naïve ✓");
    EXPECT_EQ(s.blob(2), blob);
    EXPECT_EQ(s.i64(3), 1);
    ASSERT_TRUE(s.step());
    EXPECT_TRUE(s.is_null(1));
    EXPECT_EQ(s.i64(3), 0);
    EXPECT_FALSE(s.step());
  });
}

TEST_F(PgDb, AnExceptionRollsTheWholeTransactionBack) {
  Pool pool(spec());
  pg::write_tx(pool, [](Conn& c) { c.exec("CREATE TABLE t (id BIGINT PRIMARY KEY)"); });
  EXPECT_THROW(pg::write_tx(pool,
                            [](Conn& c) {
                              c.prepare("INSERT INTO t VALUES (?)").args(1).run();
                              throw Error(ErrorCode::kConflict, "changed my mind");
                            }),
               Error);
  std::int64_t n = -1;
  pg::read_tx(pool, [&](Conn& c) {
    Stmt s = c.prepare("SELECT count(*) FROM t");
    ASSERT_TRUE(s.step());
    n = s.i64(0);
  });
  EXPECT_EQ(n, 0);
}

TEST_F(PgDb, AUniqueViolationIsAConflictAndBadTextIsBadInput) {
  Pool pool(spec());
  pg::write_tx(pool, [](Conn& c) { c.exec("CREATE TABLE t (id TEXT PRIMARY KEY)"); });
  pg::write_tx(pool, [](Conn& c) { c.prepare("INSERT INTO t VALUES (?)").args("a").run(); });
  try {
    pg::write_tx(pool, [](Conn& c) { c.prepare("INSERT INTO t VALUES (?)").args("a").run(); });
    FAIL() << "no conflict";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kConflict);
  }
  try {
    pg::write_tx(pool, [](Conn& c) { c.prepare("INSERT INTO t VALUES (?)").bind(1, std::string("a\0b", 3)).run(); });
    FAIL() << "a NUL was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kBadInput);
  }
}

// Serializable read-modify-write from many threads: every conflict is retried, no update lost.
TEST_F(PgDb, ConcurrentReadModifyWritesLoseNoUpdate) {
  Pool pool(spec(6));
  pg::write_tx(pool, [](Conn& c) {
    c.exec("CREATE TABLE counter (id INT PRIMARY KEY, n BIGINT NOT NULL); INSERT INTO counter VALUES (1, 0)");
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 15; ++i)
        pg::write_tx(pool, [](Conn& c) {
          Stmt s = c.prepare("SELECT n FROM counter WHERE id = 1");
          s.step();
          std::int64_t n = s.i64(0);
          c.prepare("UPDATE counter SET n = ? WHERE id = 1").args(n + 1).run();
        });
    });
  for (auto& t : threads) t.join();
  std::int64_t n = 0;
  pg::read_tx(pool, [&](Conn& c) {
    Stmt s = c.prepare("SELECT n FROM counter WHERE id = 1");
    s.step();
    n = s.i64(0);
  });
  EXPECT_EQ(n, 90);
}

// A backend killed between transactions (a server restart, a failover): the next
// transaction reconnects by itself.
TEST_F(PgDb, ATerminatedConnectionIsReplacedTransparently) {
  Pool pool(spec(1));
  pg::write_tx(pool, [](Conn& c) { c.exec("CREATE TABLE t (id BIGINT)"); });
  std::int64_t pid = 0;
  pg::read_tx(pool, [&](Conn& c) {
    Stmt s = c.prepare("SELECT pg_backend_pid()");
    s.step();
    pid = s.i64(0);
  });
  ASSERT_TRUE(testing::admin_exec("SELECT pg_terminate_backend(" + std::to_string(pid) + ")").empty());
  pg::write_tx(pool, [](Conn& c) { c.prepare("INSERT INTO t VALUES (?)").args(7).run(); });
  std::int64_t other = 0;
  pg::read_tx(pool, [&](Conn& c) {
    Stmt s = c.prepare("SELECT pg_backend_pid(), (SELECT count(*) FROM t)");
    s.step();
    other = s.i64(0);
    EXPECT_EQ(s.i64(1), 1);
  });
  EXPECT_NE(other, pid);
}

// Claims with FOR UPDATE SKIP LOCKED: workers racing over one queue never take the same row.
TEST_F(PgDb, SkipLockedClaimsHandEachRowToOneWorker) {
  Pool pool(spec(8));
  pg::write_tx(pool, [](Conn& c) {
    c.exec("CREATE TABLE q (id BIGINT PRIMARY KEY, owner INT)");
    c.exec("INSERT INTO q SELECT g, NULL FROM generate_series(1, 200) g");
  });
  std::mutex mu;
  std::multiset<std::int64_t> taken;
  std::vector<std::thread> threads;
  for (int w = 0; w < 6; ++w)
    threads.emplace_back([&, w] {
      for (;;) {
        std::int64_t got = 0;
        pg::tx(pool, pg::Isolation::kReadCommitted, [&](Conn& c) {
          got = 0;
          Stmt s = c.prepare(
              "SELECT id FROM q WHERE owner IS NULL ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED");
          if (!s.step()) return;
          got = s.i64(0);
          c.prepare("UPDATE q SET owner = ? WHERE id = ?").args(w, got).run();
        });
        if (got == 0) return;
        std::lock_guard<std::mutex> lk(mu);
        taken.insert(got);
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(taken.size(), 200u);
  EXPECT_EQ(std::set<std::int64_t>(taken.begin(), taken.end()).size(), 200u);
}

TEST_F(PgDb, MigrationsApplyOnceEvenFromRacingStarters) {
  Pool pool(spec(8));
  std::vector<std::thread> threads;
  std::atomic<int> applied{0};
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      auto [before, after] = pg::migrate(pool, pg::migrations());
      if (before != after) applied++;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(applied.load(), 1);
  EXPECT_EQ(pg::schema_version(pool), static_cast<int>(pg::migrations().size()));
  auto again = pg::migrate(pool, pg::migrations());
  EXPECT_EQ(again.first, again.second);
}

TEST_F(PgDb, ADatabaseNewerThanThisBuildIsRefused) {
  Pool pool(spec());
  pg::migrate(pool, pg::migrations());
  pg::write_tx(pool, [](Conn& c) { c.exec("INSERT INTO schema_migrations (version) VALUES (999)"); });
  try {
    pg::migrate(pool, pg::migrations());
    FAIL() << "a newer schema was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kStorage);
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos);
  }
}

TEST(PgUnreachable, ANeverAnsweringServerIsAStorageErrorWithinTheRetryTimeout) {
  pg::OpenSpec s;
  s.url = "postgresql://postgres@127.0.0.1:1/none";
  s.retry_timeout_ms = 300;
  Pool pool(s);
  try {
    pg::read_tx(pool, [](Conn&) {});
    FAIL() << "connected to nothing";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kStorage);
  }
}

}  // namespace
}  // namespace conjure
