// Internal: a thin RAII layer over SQLite connections, statements and
// transactions, with SQLite result codes mapped onto conjure::Error.
#pragma once
#include <sqlite3.h>

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

namespace conjure::sqlite {

[[noreturn]] void fail(int rc, sqlite3* db, const std::string& context);

class Conn;

// A prepared statement borrowed from a connection's cache; reset on scope exit.
class Stmt {
 public:
  Stmt(Conn& conn, sqlite3_stmt* stmt) : conn_(conn), stmt_(stmt) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  Stmt& bind(int i, std::nullptr_t);
  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, std::string_view v);
  Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Stmt& bind_blob(int i, std::string_view v);
  // Binds NULL for an empty string.
  Stmt& bind_opt(int i, const std::string& v) { return v.empty() ? bind(i, nullptr) : bind(i, v); }

  template <class... A>
  Stmt& args(const A&... a) {
    int i = 0;
    (bind(++i, a), ...);
    return *this;
  }

  bool step();   // true: a row; false: done. Throws on error.
  void run() { while (step()) {} }
  int changes() const;

  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::int64_t i64(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string text(int col) const;
  std::string blob(int col) const;

 private:
  Conn& conn_;
  sqlite3_stmt* stmt_;
};

class Conn {
 public:
  Conn(sqlite3* db) : db_(db) {}
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  sqlite3* db() const { return db_; }
  Stmt prepare(const char* sql);  // cached by its text
  void exec(const char* sql);

 private:
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

struct OpenSpec {
  std::string path;
  bool read_only = false;
  int busy_timeout_ms = 10000;
  std::int64_t max_bytes = 0;
};

std::unique_ptr<Conn> open_conn(const OpenSpec& spec);

// A small pool: a connection per concurrent caller, kept for reuse.
class Pool {
 public:
  explicit Pool(OpenSpec spec) : spec_(std::move(spec)) {}
  class Lease {
   public:
    Lease(Pool& pool, std::unique_ptr<Conn> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& o) noexcept : pool_(o.pool_), conn_(std::move(o.conn_)) {}
    ~Lease() {
      if (conn_) pool_.give(std::move(conn_));
    }
    Conn& operator*() { return *conn_; }
    Conn* operator->() { return conn_.get(); }
    void discard() { conn_.reset(); }

   private:
    Pool& pool_;
    std::unique_ptr<Conn> conn_;
  };
  Lease take();
  const OpenSpec& spec() const { return spec_; }

 private:
  void give(std::unique_ptr<Conn> conn);
  OpenSpec spec_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Conn>> idle_;
};

// Runs `fn` in a write transaction (BEGIN IMMEDIATE), committing on return and
// rolling back on any exception. SQLITE_BUSY is retried within the busy timeout.
void write_tx(Pool& pool, const std::function<void(Conn&)>& fn);
// Runs `fn` in a read transaction (one consistent snapshot).
void read_tx(Pool& pool, const std::function<void(Conn&)>& fn);

}  // namespace conjure::sqlite
