#include "store/sqlite/context.hpp"

#include "conjure/auth/crypto.hpp"
#include "store/schema.hpp"
#include "store/sqlite/versions.hpp"

namespace conjure::sqlite {

Context::Context(const std::string& path, const StoreOptions& options)
    : options_(options),
      pool_(OpenSpec{path, options.read_only, options.busy_timeout_ms, options.max_bytes}),
      blobs_(options.blob_cache_bytes) {}

void Context::write_tx(const std::function<void(Conn&)>& fn) {
  if (options_.read_only) throw Error(ErrorCode::kStorage, "the store is read-only; nothing was written");
  sqlite::write_tx(pool_, fn);
}

namespace {

void migrate(Context& ctx, std::int64_t latest) {
  ctx.write_tx([&](Conn& c) {
    std::int64_t version = 0;
    {
      Stmt s = c.prepare("PRAGMA user_version");
      if (s.step()) version = s.i64(0);
    }
    for (std::int64_t v = version; v < latest; ++v) {
      c.exec(kMigrations[v]);
      if (v + 1 == 3) {  // schema 3 re-snapshots the versions kept in the schema-2 layout
        convert_legacy_versions(ctx, c);
        c.exec(kMigration3Finish);
      }
    }
    std::string pragmas =
        "PRAGMA application_id=" + std::to_string(kApplicationId) + "; PRAGMA user_version=" + std::to_string(latest);
    c.exec(pragmas.c_str());
  });
}

void load_secret(Context& ctx) {
  const StoreOptions& options = ctx.options();
  if (!options.server_secret.empty()) {
    ctx.set_secret(options.server_secret);
    return;
  }
  std::string secret;
  auto read = [&](Conn& c) {
    Stmt s = c.prepare("SELECT value FROM meta WHERE key='server_secret'");
    if (s.step()) secret = auth::from_hex(s.text(0));
  };
  ctx.read_tx(read);
  if (secret.empty()) {
    if (options.read_only) throw Error(ErrorCode::kStorage, "the store has no server secret and is read-only");
    std::string fresh = auth::random_bytes(32);
    ctx.write_tx([&](Conn& c) {
      c.prepare("INSERT OR IGNORE INTO meta(key, value) VALUES ('server_secret', ?)")
          .args(auth::to_hex(reinterpret_cast<const unsigned char*>(fresh.data()), fresh.size()))
          .run();
      read(c);
    });
  }
  ctx.set_secret(std::move(secret));
}

}  // namespace

void open_database(Context& ctx) {
  const std::string& path = ctx.path();
  if (path.empty()) throw Error(ErrorCode::kBadInput, "store path is empty");
  // The file is never opened outside SQLite: closing any other descriptor of
  // it would drop this process's POSIX locks and break concurrent writers.
  // A foreign or corrupt file fails SQLite's own header check (kStorage).
  auto lease = ctx.pool().take();
  Conn& c = *lease;
  if (!ctx.options().read_only) {
    Stmt s = c.prepare("PRAGMA journal_mode=WAL");  // the first read of the file
    if (!s.step() || s.text(0) != "wal") {
      throw Error(ErrorCode::kStorage, "cannot open the store at " + path + ": WAL journal mode unavailable");
    }
  }
  std::int64_t app_id = 0, version = 0, tables = 0;
  {
    Stmt s = c.prepare("PRAGMA application_id");
    if (s.step()) app_id = s.i64(0);
  }
  {
    Stmt s = c.prepare("PRAGMA user_version");
    if (s.step()) version = s.i64(0);
  }
  {
    Stmt s = c.prepare("SELECT count(*) FROM sqlite_master");
    if (s.step()) tables = s.i64(0);
  }
  if ((tables > 0 || version > 0) && app_id != kApplicationId) {
    throw Error(ErrorCode::kStorage,
                "cannot open the store at " + path + ": the file is a SQLite database but not a conjure store");
  }
  const std::int64_t latest = static_cast<std::int64_t>(kMigrations.size());
  if (version > latest) {
    throw Error(ErrorCode::kStorage, "the store at " + path + " has schema " + std::to_string(version) +
                                         ", newer than this conjure understands (" + std::to_string(latest) + ")");
  }
  if (version < latest) {
    if (ctx.options().read_only) {
      throw Error(ErrorCode::kStorage, "the store at " + path + " needs a schema migration but was opened read-only");
    }
    lease.discard();
    migrate(ctx, latest);
  }
  load_secret(ctx);
}

}  // namespace conjure::sqlite
