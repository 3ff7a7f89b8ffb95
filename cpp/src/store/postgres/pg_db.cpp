#include "store/postgres/pg_db.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <random>
#include <thread>

namespace conjure::pg {

namespace {

std::string trimmed(const char* s) {
  std::string out = s ? s : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// The advisory lock that serialises migrations ("CJRS", as SQLite's application_id).
constexpr std::int64_t kMigrationLock = 0x434A5253;

}  // namespace

void fail(PGconn* conn, const PGresult* res, const std::string& context) {
  std::string where = context.empty() ? "" : context + ": ";
  const char* code = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string state = code ? code : "";
  std::string detail = trimmed(res ? PQresultErrorMessage(res) : (conn ? PQerrorMessage(conn) : "no connection"));
  if (detail.empty() && conn) detail = trimmed(PQerrorMessage(conn));
  bool lost = conn == nullptr || PQstatus(conn) != CONNECTION_OK || starts_with(state, "08") ||
              state == "57P01" || state == "57P02" || state == "57P03";
  if (state == "40001" || state == "40P01")
    throw Retryable(where + "the transaction conflicted with a concurrent one (" + detail + ")", false);
  if (lost) throw Retryable(where + "the database connection was lost (" + detail + ")", true);
  if (starts_with(state, "53"))
    throw Error(ErrorCode::kStorage, where + "the database is out of resources; nothing was written (" + detail + ")");
  if (state == "25006")
    throw Error(ErrorCode::kStorage, where + "the database is read-only; nothing was written (" + detail + ")");
  if (starts_with(state, "54")) throw Error(ErrorCode::kLimit, where + "value too large for the store (" + detail + ")");
  if (starts_with(state, "22"))
    throw Error(ErrorCode::kBadInput, where + "a value the database refuses (" + detail + ")");
  if (state == "23505") throw Error(ErrorCode::kConflict, where + "already exists (" + detail + ")");
  throw Error(ErrorCode::kInternal, where + "PostgreSQL error " + state + ": " + detail);
}

std::string number_placeholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  char quote = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    char ch = sql[i];
    if (quote) {
      out.push_back(ch);
      if (ch == quote) quote = 0;  // a doubled quote re-opens at once: same result
      continue;
    }
    if (ch == '\'' || ch == '"') {
      quote = ch;
      out.push_back(ch);
    } else if (ch == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      std::size_t end = sql.find('\n', i);
      if (end == std::string_view::npos) end = sql.size();
      out.append(sql.substr(i, end - i));
      i = end - 1;
    } else if (ch == '?') {
      out += '$' + std::to_string(++n);
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

// ------------------------------------------------------------------ Stmt

void Stmt::set(int i, Param p) {
  if (i < 1) throw Error(ErrorCode::kInternal, "bind: parameters are numbered from 1");
  if (static_cast<std::size_t>(i) > params_.size()) params_.resize(static_cast<std::size_t>(i));
  params_[static_cast<std::size_t>(i - 1)] = std::move(p);
}
Stmt& Stmt::bind(int i, std::nullptr_t) {
  set(i, Param{});
  return *this;
}
Stmt& Stmt::bind(int i, std::int64_t v) {
  set(i, Param{std::to_string(v), false});
  return *this;
}
Stmt& Stmt::bind(int i, std::string_view v) {
  if (v.find('\0') != std::string_view::npos)
    throw Error(ErrorCode::kBadInput, "text with a NUL character cannot be stored");
  set(i, Param{std::string(v), false});
  return *this;
}
Stmt& Stmt::bind_blob(int i, std::string_view v) {
  set(i, Param{std::string(v), true});
  return *this;
}

void Stmt::execute() {
  std::vector<const char*> values(params_.size());
  std::vector<int> lengths(params_.size()), formats(params_.size());
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const Param& p = params_[i];
    values[i] = p.value ? p.value->data() : nullptr;
    lengths[i] = p.value ? static_cast<int>(p.value->size()) : 0;
    formats[i] = p.binary ? 1 : 0;
  }
  PGresult* r = PQexecPrepared(conn_.raw(), name_->c_str(), static_cast<int>(params_.size()), values.data(),
                               lengths.data(), formats.data(), 0);
  res_.reset(r);
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) fail(conn_.raw(), r, "");
  rows_ = PQntuples(r);
  const char* affected = PQcmdTuples(r);
  changes_ = (affected && *affected) ? std::strtoll(affected, nullptr, 10) : 0;
  executed_ = true;
}

bool Stmt::step() {
  if (!executed_) execute();
  if (row_ + 1 >= rows_) {
    row_ = rows_;
    return false;
  }
  ++row_;
  return true;
}

std::int64_t Stmt::i64(int col) const {
  const char* v = PQgetvalue(res_.get(), row_, col);
  int len = PQgetlength(res_.get(), row_, col);
  if (len == 0) return 0;  // NULL reads as 0, as in SQLite
  if (len == 1 && (v[0] == 't' || v[0] == 'f')) return v[0] == 't' ? 1 : 0;  // booleans
  std::int64_t out = 0;
  auto [end, ec] = std::from_chars(v, v + len, out);
  if (ec != std::errc() || end != v + len) {
    // numeric or double text: truncate as SQLite's column_int64 does
    return static_cast<std::int64_t>(std::strtod(v, nullptr));
  }
  return out;
}

std::string Stmt::text(int col) const {
  return std::string(PQgetvalue(res_.get(), row_, col), static_cast<std::size_t>(PQgetlength(res_.get(), row_, col)));
}

std::string Stmt::blob(int col) const {
  const char* v = PQgetvalue(res_.get(), row_, col);
  std::size_t len = static_cast<std::size_t>(PQgetlength(res_.get(), row_, col));
  if (len < 2 || v[0] != '\\' || v[1] != 'x') return std::string(v, len);
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return 0;
  };
  std::string out((len - 2) / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<char>((nibble(v[2 + 2 * i]) << 4) | nibble(v[3 + 2 * i]));
  return out;
}

// ------------------------------------------------------------------ Conn

Stmt Conn::prepare(const char* sql) {
  auto it = names_.find(sql);
  if (it == names_.end()) {
    std::string name = "conjure_" + std::to_string(names_.size());
    std::string text = number_placeholders(sql);
    std::unique_ptr<PGresult, void (*)(PGresult*)> r(PQprepare(conn_, name.c_str(), text.c_str(), 0, nullptr),
                                                     PQclear);
    if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) fail(conn_, r.get(), "prepare");
    it = names_.emplace(sql, std::move(name)).first;
  }
  return Stmt(*this, &it->second);
}

void Conn::exec(const char* sql) {
  std::unique_ptr<PGresult, void (*)(PGresult*)> r(PQexec(conn_, sql), PQclear);
  ExecStatusType st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) fail(conn_, r.get(), "");
}

std::unique_ptr<Conn> open_conn(const OpenSpec& spec) {
  std::string timeout = std::to_string(std::max(1, (spec.connect_timeout_ms + 999) / 1000));
  const char* keys[] = {"dbname", "connect_timeout", "application_name", "client_encoding", nullptr};
  const char* values[] = {spec.url.c_str(), timeout.c_str(), "conjure", "UTF8", nullptr};
  PGconn* raw = PQconnectdbParams(keys, values, 1);
  if (raw == nullptr) throw Error(ErrorCode::kStorage, "cannot allocate a database connection");
  auto conn = std::make_unique<Conn>(raw);
  if (PQstatus(raw) != CONNECTION_OK)
    throw Retryable("cannot connect to the database (" + trimmed(PQerrorMessage(raw)) + ")", true);
  PQsetNoticeProcessor(raw, [](void*, const char*) {}, nullptr);  // NOTICEs are not ours to print
  conn->exec("SET TIME ZONE 'UTC'; SET client_min_messages TO warning");
  return conn;
}

// ------------------------------------------------------------------ Pool

Pool::Lease Pool::take() {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(spec_.retry_timeout_ms);
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    if (!idle_.empty()) {
      std::unique_ptr<Conn> c = std::move(idle_.back());
      idle_.pop_back();
      if (c->ok()) return Lease(*this, std::move(c));
      --open_;  // broken while idle (the server restarted): drop it
      continue;
    }
    if (open_ < spec_.max_connections) {
      ++open_;
      lk.unlock();
      try {
        return Lease(*this, open_conn(spec_));
      } catch (...) {
        lk.lock();
        --open_;
        freed_.notify_one();
        throw;
      }
    }
    if (freed_.wait_until(lk, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= spec_.max_connections)
      throw Error(ErrorCode::kStorage, "all " + std::to_string(spec_.max_connections) +
                                           " database connections stayed busy; try again");
  }
}

void Pool::give(std::unique_ptr<Conn> conn) {
  std::lock_guard<std::mutex> lk(mu_);
  if (conn && conn->ok() && !conn->committing && PQtransactionStatus(conn->raw()) == PQTRANS_IDLE) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;  // discarded or broken: its slot is free again
  }
  freed_.notify_one();
}

void Pool::close_idle() {
  std::vector<std::unique_ptr<Conn>> gone;
  {
    std::lock_guard<std::mutex> lk(mu_);
    gone.swap(idle_);
    open_ -= static_cast<int>(gone.size());
  }
}

// ------------------------------------------------------------------ transactions

namespace {

void rollback_quietly(Pool::Lease& lease) {
  Conn& c = *lease;
  c.committing = false;
  if (!c.ok()) {
    lease.discard();
    return;
  }
  std::unique_ptr<PGresult, void (*)(PGresult*)> r(PQexec(c.raw(), "ROLLBACK"), PQclear);
  if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) lease.discard();
}

const char* begin_sql(Isolation isolation) {
  switch (isolation) {
    case Isolation::kSerializable: return "BEGIN ISOLATION LEVEL SERIALIZABLE";
    case Isolation::kReadCommitted: return "BEGIN ISOLATION LEVEL READ COMMITTED";
    case Isolation::kSnapshot: return "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
  }
  return "BEGIN";
}

}  // namespace

void tx(Pool& pool, Isolation isolation, const std::function<void(Conn&)>& fn) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(pool.spec().retry_timeout_ms);
  thread_local std::minstd_rand jitter(std::random_device{}());
  for (int attempt = 0;; ++attempt) {
    try {
      Pool::Lease lease = pool.take();
      Conn& c = *lease;
      try {
        c.exec(begin_sql(isolation));
        fn(c);
        c.committing = true;
        c.exec("COMMIT");
        c.committing = false;
        return;
      } catch (const Retryable& e) {
        if (c.committing && e.connection_lost()) {
          lease.discard();
          throw Error(ErrorCode::kStorage,
                      "the database connection was lost during COMMIT; the write may or may not have been applied");
        }
        rollback_quietly(lease);
        throw;
      } catch (...) {
        rollback_quietly(lease);
        throw;
      }
    } catch (const Retryable& e) {
      if (std::chrono::steady_clock::now() >= deadline)
        throw Error(ErrorCode::kStorage, std::string(e.what()) + "; gave up after " +
                                             std::to_string(pool.spec().retry_timeout_ms / 1000) + " s");
      int base = std::min(500, 5 << std::min(attempt, 7));
      std::this_thread::sleep_for(std::chrono::milliseconds(base / 2 + static_cast<int>(jitter() % (base / 2 + 1))));
    }
  }
}

int schema_version(Pool& pool) {
  int version = 0;
  read_tx(pool, [&](Conn& c) {
    Stmt exists = c.prepare("SELECT to_regclass('schema_migrations') IS NOT NULL");
    if (!exists.step() || !exists.i64(0)) return;
    Stmt s = c.prepare("SELECT coalesce(max(version), 0) FROM schema_migrations");
    if (s.step()) version = static_cast<int>(s.i64(0));
  });
  return version;
}

std::pair<int, int> migrate(Pool& pool, const std::vector<const char*>& migrations) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(pool.spec().retry_timeout_ms);
  for (;;) {
    try {
      Pool::Lease lease = pool.take();
      Conn& c = *lease;
      // A session lock: released by the unlock below or by the connection ending (a crashed migrator).
      c.prepare("SELECT pg_advisory_lock(?)").args(kMigrationLock).run();
      struct Unlock {
        Pool::Lease& lease;
        ~Unlock() {
          if (!lease->ok()) return;
          std::unique_ptr<PGresult, void (*)(PGresult*)> r(
              PQexec(lease->raw(), ("SELECT pg_advisory_unlock(" + std::to_string(kMigrationLock) + ")").c_str()),
              PQclear);
          if (!r || PQresultStatus(r.get()) != PGRES_TUPLES_OK) lease.discard();
        }
      } unlock{lease};
      c.exec(
          "CREATE TABLE IF NOT EXISTS schema_migrations ("
          "version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
      int before = 0;
      {
        Stmt s = c.prepare("SELECT coalesce(max(version), 0) FROM schema_migrations");
        if (s.step()) before = static_cast<int>(s.i64(0));
      }
      int known = static_cast<int>(migrations.size());
      if (before > known)
        throw Error(ErrorCode::kStorage, "the database schema is at version " + std::to_string(before) +
                                             ", newer than this conjure knows (" + std::to_string(known) +
                                             "); upgrade conjure");
      for (int v = before + 1; v <= known; ++v) {
        try {
          c.exec("BEGIN");
          c.exec(migrations[static_cast<std::size_t>(v - 1)]);
          c.prepare("INSERT INTO schema_migrations (version) VALUES (?)").args(v).run();
          c.exec("COMMIT");
        } catch (const Retryable&) {
          throw;  // rolled back by the server or lost with the connection
        } catch (...) {
          rollback_quietly(lease);
          throw;
        }
      }
      return {before, known};
    } catch (const Retryable& e) {
      if (std::chrono::steady_clock::now() >= deadline)
        throw Error(ErrorCode::kStorage, std::string("migrating the database: ") + e.what());
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
}

}  // namespace conjure::pg
