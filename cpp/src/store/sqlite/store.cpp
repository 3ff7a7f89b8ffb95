// The embedded SQLite store: one unit per concern (conjure/store/*.hpp),
// composed over one shared Context.
#include <memory>

#include "conjure/store/store.hpp"
#include "store/sqlite/accounts.hpp"
#include "store/sqlite/characters.hpp"
#include "store/sqlite/context.hpp"
#include "store/sqlite/idempotency.hpp"
#include "store/sqlite/jobs.hpp"
#include "store/sqlite/maintenance.hpp"
#include "store/sqlite/meters.hpp"
#include "store/sqlite/outbox.hpp"
#include "store/sqlite/sessions.hpp"
#include "store/sqlite/versions.hpp"
#include "store/sqlite/worlds.hpp"

namespace conjure {

namespace sqlite {
namespace {

// Holds the Context so that it is built before the units that keep a reference to it.
struct ContextHolder {
  ContextHolder(const std::string& path, const StoreOptions& options) : ctx(path, options) {}
  Context ctx;
};

class SqliteStore final : private ContextHolder,
                          public Store,
                          public SqliteAccounts,
                          public SqliteWorlds,
                          public SqliteVersions,
                          public SqliteIdempotency,
                          public SqliteMeters,
                          public SqliteJobs,
                          public SqliteOutbox,
                          public SqliteSessions,
                          public SqliteMaintenance,
                          public SqliteCharacters {
 public:
  SqliteStore(const std::string& path, const StoreOptions& options)
      : ContextHolder(path, options),
        SqliteAccounts(ctx),
        SqliteWorlds(ctx),
        SqliteVersions(ctx),
        SqliteIdempotency(ctx),
        SqliteMeters(ctx),
        SqliteJobs(ctx),
        SqliteOutbox(ctx),
        SqliteSessions(ctx),
        SqliteMaintenance(ctx),
        SqliteCharacters(ctx) {
    open_database(ctx);
  }
};

}  // namespace
}  // namespace sqlite

std::unique_ptr<Store> open_store(const std::string& path, const StoreOptions& options) {
  return std::make_unique<sqlite::SqliteStore>(path, options);
}

}  // namespace conjure
