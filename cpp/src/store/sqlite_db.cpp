#include "store/sqlite_db.hpp"

#include <chrono>
#include <cstdio>
#include <thread>

namespace conjure::sqlite {

void fail(int rc, sqlite3* db, const std::string& context) {
  int primary = rc & 0xff;
  std::string detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string where = context.empty() ? "" : context + ": ";
  switch (primary) {
    case SQLITE_FULL:
      throw Error(ErrorCode::kStorage, where + "the disk is full or the store reached its size cap; nothing was written");
    case SQLITE_READONLY:
      throw Error(ErrorCode::kStorage, where + "the store is read-only; nothing was written (" + detail + ")");
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      throw Error(ErrorCode::kStorage, where + "the store file is corrupt or is not a conjure store (" + detail + ")");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      throw Error(ErrorCode::kStorage, where + "the store stayed busy past the busy timeout (" + detail + ")");
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_AUTH:
    case SQLITE_PROTOCOL:
      throw Error(ErrorCode::kStorage, where + "storage fault: " + detail);
    case SQLITE_TOOBIG:
      throw Error(ErrorCode::kLimit, where + "value too large for the store");
    default:
      throw Error(ErrorCode::kInternal, where + "SQLite error: " + detail);
  }
}

Stmt& Stmt::bind(int i, std::nullptr_t) {
  int rc = sqlite3_bind_null(stmt_, i);
  if (rc != SQLITE_OK) fail(rc, conn_.db(), "bind");
  return *this;
}
Stmt& Stmt::bind(int i, std::int64_t v) {
  int rc = sqlite3_bind_int64(stmt_, i, v);
  if (rc != SQLITE_OK) fail(rc, conn_.db(), "bind");
  return *this;
}
Stmt& Stmt::bind(int i, std::string_view v) {
  int rc = sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) fail(rc, conn_.db(), "bind");
  return *this;
}
Stmt& Stmt::bind_blob(int i, std::string_view v) {
  int rc = sqlite3_bind_blob64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) fail(rc, conn_.db(), "bind");
  return *this;
}

bool Stmt::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(rc, conn_.db(), "");
}

int Stmt::changes() const { return sqlite3_changes(conn_.db()); }

std::string Stmt::text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  if (!p) return {};
  return std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, col));
}

std::string Stmt::blob(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  if (!p) return {};
  return std::string(static_cast<const char*>(p), sqlite3_column_bytes(stmt_, col));
}

Conn::~Conn() {
  for (auto& [sql, st] : cache_) sqlite3_finalize(st);
  sqlite3_close_v2(db_);
}

Stmt Conn::prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* st = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr);
    if (rc != SQLITE_OK) fail(rc, db_, "prepare");
    it = cache_.emplace(sql, st).first;
  }
  return Stmt(*this, it->second);
}

void Conn::exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (err) sqlite3_free(err);
  if (rc != SQLITE_OK) fail(rc, db_, "");
}

std::unique_ptr<Conn> open_conn(const OpenSpec& spec) {
  sqlite3* db = nullptr;
  int flags = (spec.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
              SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(spec.path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    throw Error(ErrorCode::kStorage, "cannot open the store at " + spec.path + ": " + msg);
  }
  auto conn = std::make_unique<Conn>(db);
  sqlite3_busy_timeout(db, spec.busy_timeout_ms);
  sqlite3_extended_result_codes(db, 1);
  conn->exec("PRAGMA foreign_keys=ON");
  conn->exec("PRAGMA synchronous=FULL");
  if (spec.max_bytes > 0) {
    std::int64_t page = 4096;
    {
      Stmt s = conn->prepare("PRAGMA page_size");
      if (s.step()) page = s.i64(0);
    }
    std::string pragma = "PRAGMA max_page_count=" + std::to_string(std::max<std::int64_t>(1, spec.max_bytes / page));
    Stmt s = conn->prepare(pragma.c_str());
    s.run();
  }
  return conn;
}

Pool::Lease Pool::take() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(c));
    }
  }
  return Lease(*this, open_conn(spec_));
}

void Pool::give(std::unique_ptr<Conn> conn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < 32) idle_.push_back(std::move(conn));
}

static void rollback(Conn& c) {
  if (!sqlite3_get_autocommit(c.db())) sqlite3_exec(c.db(), "ROLLBACK", nullptr, nullptr, nullptr);
}

static bool run_begin(Conn& c, const char* sql, int timeout_ms) {
  // The busy handler already waits up to the timeout; a BUSY that still comes
  // back (e.g. a deadlock-avoidance BUSY in WAL recovery) is retried briefly.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int rc = sqlite3_exec(c.db(), sql, nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) return true;
    if ((rc & 0xff) != SQLITE_BUSY || std::chrono::steady_clock::now() > deadline) fail(rc, c.db(), "begin");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

static void run_commit(Conn& c, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int rc = sqlite3_exec(c.db(), "COMMIT", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) return;
    if ((rc & 0xff) != SQLITE_BUSY || std::chrono::steady_clock::now() > deadline) fail(rc, c.db(), "commit");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

namespace {

// One transaction on a pooled connection: begin, run, commit; roll back on any throw.
void run_tx(Pool& pool, const char* begin, const std::function<void(Conn&)>& fn) {
  auto lease = pool.take();
  Conn& c = *lease;
  run_begin(c, begin, pool.spec().busy_timeout_ms);
  try {
    fn(c);
    run_commit(c, pool.spec().busy_timeout_ms);
  } catch (...) {
    rollback(c);
    throw;
  }
}

}  // namespace

void write_tx(Pool& pool, const std::function<void(Conn&)>& fn) { run_tx(pool, "BEGIN IMMEDIATE", fn); }

void read_tx(Pool& pool, const std::function<void(Conn&)>& fn) { run_tx(pool, "BEGIN", fn); }

}  // namespace conjure::sqlite
