// Internal: a thin RAII layer over libpq connections, prepared statements and
// transactions, with SQLSTATEs mapped onto conjure::Error. It reads like
// store/sqlite_db.hpp on purpose: `c.prepare(sql).args(...).step()`, with `?`
// placeholders (rewritten to $1, $2, ...), so a store concern ports line by line.
#pragma once
#include <libpq-fe.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "conjure/errors.hpp"

namespace conjure::pg {

// A failure worth running the whole transaction again for: a serialization
// failure or deadlock (the server rolled back), or a connection lost before
// COMMIT was sent (nothing was applied).
class Retryable : public Error {
 public:
  Retryable(const std::string& message, bool connection_lost)
      : Error(ErrorCode::kStorage, message), connection_lost_(connection_lost) {}
  bool connection_lost() const noexcept { return connection_lost_; }

 private:
  bool connection_lost_;
};

// Throws the conjure::Error for a failed result (`res` may be null: the connection broke).
[[noreturn]] void fail(PGconn* conn, const PGresult* res, const std::string& context);

// `?` placeholders to `$1`, `$2`, ... (outside quoted literals and identifiers).
std::string number_placeholders(std::string_view sql);

class Conn;

// One execution of a prepared statement: bind, then step() through the rows
// (the whole result is fetched by the first step()).
class Stmt {
 public:
  Stmt(Conn& conn, const std::string* name) : conn_(conn), name_(name) {}
  Stmt(Stmt&&) = default;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, std::nullptr_t);
  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, std::string_view v);
  Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Stmt& bind_blob(int i, std::string_view v);  // bytea, sent in binary
  Stmt& bind_opt(int i, const std::string& v) { return v.empty() ? bind(i, nullptr) : bind(i, v); }

  template <class... A>
  Stmt& args(const A&... a) {
    int i = 0;
    (bind(++i, a), ...);
    return *this;
  }

  bool step();  // true: a row; false: done. Throws on error.
  void run() { while (step()) {} }
  std::int64_t changes() const { return changes_; }  // rows written by an INSERT/UPDATE/DELETE

  bool is_null(int col) const { return PQgetisnull(res_.get(), row_, col) != 0; }
  std::int64_t i64(int col) const;
  std::string text(int col) const;
  std::string blob(int col) const;  // a bytea column

 private:
  struct Param {
    std::optional<std::string> value;
    bool binary = false;
  };
  void set(int i, Param p);
  void execute();

  Conn& conn_;
  const std::string* name_;
  std::vector<Param> params_;
  std::unique_ptr<PGresult, void (*)(PGresult*)> res_{nullptr, PQclear};
  bool executed_ = false;
  int row_ = -1;
  int rows_ = 0;
  std::int64_t changes_ = 0;
};

class Conn {
 public:
  explicit Conn(PGconn* conn) : conn_(conn) {}
  ~Conn() { PQfinish(conn_); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  PGconn* raw() const { return conn_; }
  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  Stmt prepare(const char* sql);    // prepared once per connection, by its text
  void exec(const char* sql);       // one or more statements, no parameters, no rows wanted
  // Set by the transaction runner: COMMIT has been sent, so a lost connection leaves the outcome unknown.
  bool committing = false;

 private:
  PGconn* conn_;
  std::unordered_map<std::string, std::string> names_;  // SQL text -> prepared statement name
};

struct OpenSpec {
  std::string url;                 // postgresql://… (or a conninfo string)
  int max_connections = 16;        // the pool never opens more than this
  int connect_timeout_ms = 5000;   // one connection attempt
  int retry_timeout_ms = 10000;    // how long a transaction keeps retrying a lost server or a conflict
};

std::unique_ptr<Conn> open_conn(const OpenSpec& spec);

// A pool of at most `max_connections`; a broken connection is dropped, never reused.
class Pool {
 public:
  explicit Pool(OpenSpec spec) : spec_(std::move(spec)) {}
  class Lease {
   public:
    Lease(Pool& pool, std::unique_ptr<Conn> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& o) noexcept : pool_(o.pool_), conn_(std::move(o.conn_)) {}
    ~Lease() { pool_.give(std::move(conn_)); }
    Conn& operator*() { return *conn_; }
    Conn* operator->() { return conn_.get(); }
    void discard() { conn_.reset(); }

   private:
    Pool& pool_;
    std::unique_ptr<Conn> conn_;
  };
  // A connection (opened when none is idle), waiting up to the retry timeout for a free slot.
  Lease take();
  const OpenSpec& spec() const { return spec_; }
  void close_idle();

 private:
  void give(std::unique_ptr<Conn> conn);
  OpenSpec spec_;
  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<Conn>> idle_;
  int open_ = 0;
};

enum class Isolation {
  kSerializable,    // writes: as if one writer at a time (SQLite's BEGIN IMMEDIATE), conflicts retried
  kReadCommitted,   // claims with FOR UPDATE SKIP LOCKED
  kSnapshot,        // reads: REPEATABLE READ READ ONLY, one consistent snapshot
};

// Runs `fn` in a transaction, committing on return and rolling back on any
// exception. Serialization failures, deadlocks and connections lost before
// COMMIT are retried (with a fresh connection) for up to the retry timeout;
// `fn` may therefore run more than once and must only write through `Conn`.
// A connection lost during COMMIT is reported as kStorage (outcome unknown).
void tx(Pool& pool, Isolation isolation, const std::function<void(Conn&)>& fn);
inline void write_tx(Pool& pool, const std::function<void(Conn&)>& fn) { tx(pool, Isolation::kSerializable, fn); }
inline void read_tx(Pool& pool, const std::function<void(Conn&)>& fn) { tx(pool, Isolation::kSnapshot, fn); }

// Applies the numbered migrations not yet applied (schema_migrations), each in
// its own transaction, under an advisory lock so concurrent starters take turns.
// Returns {version before, version after}. Refuses a database newer than `migrations`.
std::pair<int, int> migrate(Pool& pool, const std::vector<const char*>& migrations);
int schema_version(Pool& pool);

}  // namespace conjure::pg
