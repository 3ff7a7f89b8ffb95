// Internal: what every unit of the SQLite store shares — its options, the
// connection pool, the server secret, the caches, the transaction runners and
// the one keyset-pagination helper.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "conjure/auth/tokens.hpp"
#include "conjure/store/store.hpp"
#include "store/caches.hpp"
#include "store/common.hpp"
#include "store/sqlite_db.hpp"

namespace conjure::sqlite {

class Context {
 public:
  Context(const std::string& path, const StoreOptions& options);
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const StoreOptions& options() const { return options_; }
  Pool& pool() { return pool_; }
  const std::string& path() const { return pool_.spec().path; }
  store::BlobCache& blobs() { return blobs_; }
  store::GraphCache& graphs() { return graphs_; }

  // The server secret never leaves the core: units get keyed digests of it.
  void set_secret(std::string secret) { secret_ = std::move(secret); }
  std::string keyed(std::string_view data) const { return auth::keyed_digest(secret_, data); }

  // One write transaction (kStorage on a read-only store, nothing written).
  void write_tx(const std::function<void(Conn&)>& fn);
  // One read transaction (one consistent snapshot).
  void read_tx(const std::function<void(Conn&)>& fn) { sqlite::read_tx(pool_, fn); }

  // One page of a keyset-paginated list. `sql` selects rows `WHERE … seq>?
  // ORDER BY seq LIMIT ?`: its leading parameters are `leading`, the last two
  // the cursor's seq and limit + 1 (the extra row says whether more follow).
  // `row` reads one row; column `seq_col` holds its seq.
  template <class T, class Row, class... A>
  Page<T> page(const char* sql, int limit, const std::string& cursor, int seq_col, Row row, const A&... leading) {
    store::check_limit(limit);
    std::int64_t after = store::parse_cursor(cursor);
    Page<T> out;
    bool more = false;
    read_tx([&](Conn& c) {
      Stmt s = c.prepare(sql);
      s.args(leading..., after, limit + 1);
      while (s.step()) {
        if (static_cast<int>(out.data.size()) == limit) {
          more = true;
          break;
        }
        out.data.push_back(row(s));
        out.next_cursor = std::to_string(s.i64(seq_col));
      }
    });
    if (!more) out.next_cursor.clear();
    return out;
  }

 private:
  StoreOptions options_;
  Pool pool_;
  std::string secret_;
  store::BlobCache blobs_;
  store::GraphCache graphs_;
};

// Opens the file behind `ctx`: checks it is a conjure store of a schema this
// build understands, migrates it to the latest schema and loads (or creates)
// the server secret. Error(kStorage) for a foreign, corrupt or newer file.
void open_database(Context& ctx);

}  // namespace conjure::sqlite
