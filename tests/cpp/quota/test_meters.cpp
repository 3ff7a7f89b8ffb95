#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "../store/store_fixture.hpp"
#include "conjure/errors.hpp"
#include "conjure/quota/meters.hpp"
#include "conjure/store/store.hpp"

using namespace conjure;
using conjure::testing::TempDir;

TEST(Meters, ReserveCommitRefundKeepCountsExact) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  s->set_meter_limit("app", "generate", 10);
  Reservation a = s->meter_reserve("app", "generate", 4, "2026-01-02");
  Reservation b = s->meter_reserve("app", "generate", 5, "2026-01-02");
  try {
    s->meter_reserve("app", "generate", 2, "2026-01-02");
    FAIL() << "over the limit";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kQuotaExceeded);
  }
  MeterState m = s->meter_commit(a.id);
  EXPECT_EQ(m.used, 4);
  EXPECT_EQ(m.reserved, 5);
  m = s->meter_refund(b.id);
  EXPECT_EQ(m.used, 4);
  EXPECT_EQ(m.reserved, 0);
  EXPECT_THROW(s->meter_refund(b.id), Error);   // twice: conflict
  EXPECT_THROW(s->meter_commit(a.id), Error);
  Reservation c = s->meter_reserve("app", "generate", 6, "2026-01-02");
  m = s->meter_commit(c.id, 2);  // partial use releases the rest
  EXPECT_EQ(m.used, 6);
  EXPECT_EQ(m.reserved, 0);
  auto usage = s->meter_usage("app", "2026-01-02");
  ASSERT_EQ(usage.size(), 6u);  // generate, edit, session, session_minutes, say, tts_seconds
  EXPECT_EQ(usage[0].meter, "generate");
  EXPECT_EQ(usage[0].limit, 10);
  EXPECT_EQ(usage[1].used, 0);
}

TEST(Meters, BadInputIsRefused) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  EXPECT_THROW(s->meter_reserve("app", "tokens", 1), Error);
  EXPECT_THROW(s->meter_reserve("app", "edit", 0), Error);
  EXPECT_THROW(s->meter_reserve("app", "edit", -3), Error);
  EXPECT_THROW(s->meter_reserve("app", "edit", 1, "2026-02-30"), Error);
  EXPECT_THROW(s->meter_commit("no-such"), Error);
  EXPECT_FALSE(quota::is_day("2026-13-01"));
  EXPECT_TRUE(quota::is_day("2024-02-29"));
}

TEST(Meters, ThreadsAndProcessesNeverOverspend) {
  TempDir dir;
  std::string path = dir.file("a.db");
  {
    auto s = open_store(path);
    s->set_meter_limit("app", "session", 100);
  }
  // Two child processes and eight threads reserve one unit at a time and
  // commit or refund; exactly `limit` reservations may ever be held or used.
  auto worker = [&](int id, int rounds, std::atomic<int>* granted) {
    auto s = open_store(path);
    for (int i = 0; i < rounds; ++i) {
      try {
        Reservation r = s->meter_reserve("app", "session", 1, "2026-03-04");
        if ((i + id) % 3 == 0) {
          s->meter_refund(r.id);
        } else {
          s->meter_commit(r.id);
          if (granted) ++*granted;
        }
      } catch (const Error& e) {
        if (e.code() != ErrorCode::kQuotaExceeded) throw;
      }
    }
  };
  std::vector<pid_t> kids;
  for (int p = 0; p < 2; ++p) {
    pid_t pid = fork();
    if (pid == 0) {
      try {
        worker(100 + p, 60, nullptr);
        _exit(0);
      } catch (...) {
        _exit(1);
      }
    }
    kids.push_back(pid);
  }
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) threads.emplace_back(worker, t, 30, &granted);
  for (auto& t : threads) t.join();
  for (pid_t pid : kids) {
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto s = open_store(path);
  MeterState m = s->meter_usage("app", "2026-03-04")[2];
  EXPECT_EQ(m.meter, "session");
  EXPECT_EQ(m.reserved, 0);
  EXPECT_EQ(m.used, 100);  // 360 attempts, a third refunded: the limit is reached exactly
  EXPECT_LE(granted.load(), 100);
}
