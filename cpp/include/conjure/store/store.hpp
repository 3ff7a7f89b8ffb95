// The storage engine (DESIGN.md "store/"): one abstract interface per concern
// (accounts.hpp, worlds.hpp, versions.hpp, idempotency.hpp, meters.hpp,
// jobs.hpp, outbox.hpp, sessions.hpp, maintenance.hpp), `Store` composing them;
// an embedded SQLite implementation behind open_store(), a PostgreSQL one later
// implementing the same pieces.
//
// Every write is one transaction. Every write path that persists a world
// (create/import, apply_ops, patch, fork, checkout) runs the kernel gate with the
// caller's GateOptions INSIDE that transaction: plugin lints (GateOptions::plugins)
// therefore run while the store's write transaction is open (no core mutex is
// held). A gate failure rolls the transaction back and throws GateFailed
// (store/errors.hpp): nothing is written.
//
// Every world call takes a Scope (app, mode): a world of another app or mode is
// kNotFound, exactly like an unknown id. Errors are conjure::Error: kNotFound,
// kConflict (rev mismatch, already exists), kBadInput, kQuotaExceeded,
// kUnauthorized, kStorage (corrupt/foreign file, disk full, read-only, busy).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "conjure/store/accounts.hpp"
#include "conjure/store/characters.hpp"
#include "conjure/store/common.hpp"
#include "conjure/store/idempotency.hpp"
#include "conjure/store/jobs.hpp"
#include "conjure/store/maintenance.hpp"
#include "conjure/store/meters.hpp"
#include "conjure/store/outbox.hpp"
#include "conjure/store/sessions.hpp"
#include "conjure/store/versions.hpp"
#include "conjure/store/worlds.hpp"

namespace conjure {

struct StoreOptions {
  std::string server_secret;    // empty: generated once and kept in the store
  int busy_timeout_ms = 10000;  // wait for a lock this long before kStorage
  bool read_only = false;
  std::int64_t max_bytes = 0;   // cap on the database file (0: none); past it writes fail kStorage
  std::int64_t default_meter_limit = 1000;  // per app, per day, per meter, unless set
  std::size_t blob_cache_bytes = 64u << 20;
};

// Every concern of the store behind one handle. The concerns are virtual bases
// so that a backend implements each in its own unit (a class deriving from that
// concern alone) and composes them here.
class Store : public virtual AccountStore,
              public virtual WorldStore,
              public virtual VersionStore,
              public virtual IdempotencyStore,
              public virtual MeterStore,
              public virtual JobStore,
              public virtual OutboxStore,
              public virtual SessionStore,
              public virtual MaintenanceStore,
              public virtual CharacterStore {
 public:
  ~Store() override = default;
};

// Opens (creating if absent) a SQLite store: WAL, synchronous=FULL, foreign
// keys on, busy timeout; applies the numbered schema migrations. A corrupt or
// foreign file, or one written by a newer schema, is Error(kStorage).
std::unique_ptr<Store> open_store(const std::string& path, const StoreOptions& options = StoreOptions{});

}  // namespace conjure
