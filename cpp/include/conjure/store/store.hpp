// The storage engine (DESIGN.md "store/"): one abstract interface, an embedded
// SQLite implementation behind open_store(), a PostgreSQL one later.
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
//
// rev: an opaque token of the working graph, "<n>-<h>" where n is the world's
// write counter (increments on every write, never reused) and h the first 16 hex
// digits of the SHA-256 of the stored document. Compare with ==, never parse.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conjure/json.hpp"
#include "conjure/kernel/diagnostic.hpp"
#include "conjure/kernel/gate.hpp"
#include "conjure/ops/ops.hpp"

namespace conjure {

struct Scope {
  std::string app_id;
  std::string mode;  // "test" | "live"
};

template <class T>
struct Page {
  std::vector<T> data;
  std::string next_cursor;  // empty: no more
};

// ---- users, apps, keys ----
struct User {
  std::string id, email, created_at;
};
struct App {
  std::string id, owner_id, name, created_at;
};
struct KeyInfo {
  std::string id, app_id, type, mode, name, prefix, last4, created_at;
  std::string last_used_at, revoked_at;  // empty when never / not revoked
};
struct MintedKey {
  KeyInfo info;
  std::string key;  // the plaintext, returned once
};

// ---- worlds ----
struct WorldInfo {
  std::string id, app_id, mode, name, description, cover, visibility;
  std::string created_at, updated_at, rev, head;  // head: version id or empty
  std::string forked_from;                          // world id or empty
};
struct GraphWrite {
  Json world;                            // the stored (normalised) document
  std::vector<Diagnostic> diagnostics;   // the gate's findings (no errors)
  std::string rev;
  std::vector<ApplyError> apply_errors;  // apply_ops only
  std::string head;                      // checkout: the new HEAD
};
struct Graph {
  Json world;
  std::string rev;
};
// The working graph as its canonical JSON text (what the store keeps), unparsed.
struct GraphText {
  std::string text;
  std::string rev;
};

// ---- versions ----
struct VersionInfo {
  std::string id, world_id, parent_id, message, created_at;
  bool head = false;
};
struct VersionTree {
  std::vector<VersionInfo> data;  // oldest-first
  std::string head;               // empty: no version yet
};

// ---- idempotency ----
struct IdemBegin {
  enum class Kind { kNew, kReplay, kConflict, kInFlight };
  Kind kind = Kind::kNew;
  int status = 0;    // replay
  std::string body;  // replay
};

// ---- usage meters ----
struct MeterState {
  std::string meter;
  std::int64_t used = 0, reserved = 0, limit = 0;
};
struct Reservation {
  std::string id, app_id, meter, day;
  std::int64_t amount = 0;
};

// ---- jobs ----
struct Job {
  std::string id, app_id, mode, kind, status;  // queued | running | succeeded | failed
  Json payload, result;
  std::string error, worker, created_at, updated_at;
  int attempts = 0;
};

// ---- webhooks ----
struct WebhookEndpoint {
  std::string id, app_id, url, description, created_at;
  std::vector<std::string> events;
};
struct CreatedWebhook {
  WebhookEndpoint endpoint;
  std::string secret;  // "whsec_…", returned once
};
struct OutboxEvent {
  std::string id, app_id, mode, type, created_at;
  Json data;
};
struct Delivery {
  std::string id, event_id, endpoint_id, url, secret, type, status;  // pending | succeeded | failed
  int attempt = 0;
  int response_status = 0;
  std::string created_at, next_attempt_at;
  Json body;  // {id, type, createdAt, appId, mode, data}
};
// One recorded attempt of a delivery. status: "succeeded" (it ended the
// delivery), "pending" (it failed and the delivery was or will be retried) or
// "failed" (it failed and the delivery gave up).
struct DeliveryAttempt {
  int attempt = 0;
  std::string status;
  int response_status = 0;  // 0: no answer came
  std::string error, created_at;
};
// What complete_generation_job wrote, in one transaction.
struct GenerationDone {
  Job job;           // succeeded, result {worldId, rev}
  GraphWrite world;  // the created world
  OutboxEvent event; // data {jobId, worldId, rev}
};

// ---- play sessions (RUNTIME.md "The two-token rule")
// A session token (`st_…`) is base64url(claims JSON) "." base64url(HMAC-SHA256(
// key[kid], the first part)). Signing keys live in the store, one current, the
// older ones kept until every token they signed has expired.
struct SessionClaims {
  std::string app, mode, world, player, origin;  // origin: empty when unbound
  std::int64_t exp = 0;                           // unix seconds
  std::string jti, kid;
};
struct SessionToken {
  std::string token, expires_at, jti;
};
struct AdmittedSession {
  std::string session_id;
  std::string connect_token;  // "ct_…", single use, returned once
  std::string connect_expires_at, expires_at;
};
struct SessionInfo {
  std::string id, app_id, mode, world_id, player_id, origin;
  std::string status;  // admitted | bound | settled
  std::string expires_at;
  std::int64_t seconds_used = -1;  // settled only
};
struct UserToken {
  std::string token, expires_at;  // "us_…"
};

struct CheckReport {
  bool ok = false;
  std::vector<std::string> integrity;   // PRAGMA integrity_check lines ("ok" when clean)
  std::vector<std::string> foreign_keys;  // one line per violation
  std::int64_t missing_blobs = 0;       // referenced by a version or a delta, absent
  std::int64_t orphan_blobs = 0;        // stored, referenced by nothing
  std::int64_t blobs = 0, versions = 0, worlds = 0;
};

struct StoreOptions {
  std::string server_secret;    // empty: generated once and kept in the store
  int busy_timeout_ms = 10000;  // wait for a lock this long before kStorage
  bool read_only = false;
  std::int64_t max_bytes = 0;   // cap on the database file (0: none); past it writes fail kStorage
  std::int64_t default_meter_limit = 1000;  // per app, per day, per meter, unless set
  std::size_t blob_cache_bytes = 64u << 20;
};

class Store {
 public:
  virtual ~Store() = default;

  // users / apps / keys
  virtual User create_user(const std::string& email, const std::string& password) = 0;
  virtual User get_user(const std::string& user_id) = 0;
  virtual User authenticate_user(const std::string& email, const std::string& password) = 0;  // kUnauthorized
  virtual App create_app(const std::string& owner_id, const std::string& name) = 0;
  virtual App get_app(const std::string& app_id) = 0;
  virtual Page<App> list_apps(const std::string& owner_id, int limit, const std::string& cursor) = 0;
  virtual MintedKey create_key(const std::string& app_id, const std::string& type, const std::string& mode,
                               const std::string& name) = 0;
  virtual Page<KeyInfo> list_keys(const std::string& app_id, int limit, const std::string& cursor) = 0;
  virtual KeyInfo revoke_key(const std::string& app_id, const std::string& key_id) = 0;
  // The user of an email (case-insensitive), or nullopt.
  virtual std::optional<User> find_user(const std::string& email) = 0;
  // User session tokens (`us_…`): signed with a key derived from the server
  // secret, which never leaves the core. issue: kNotFound for an unknown user,
  // kBadInput for a ttl outside 60 s .. 366 days. verify: the token's user;
  // kUnauthorized for a bad, expired or forged token or a deleted user.
  virtual UserToken issue_user_token(const std::string& user_id, std::int64_t ttl_seconds) = 0;
  virtual User verify_user_token(const std::string& token) = 0;
  // The key's metadata when `key` is a live (not revoked) key; touches last_used_at. kUnauthorized otherwise.
  virtual KeyInfo verify_key(const std::string& key) = 0;

  // worlds
  virtual GraphWrite create_world(const Scope& scope, const Json& world, const GateOptions& gate) = 0;
  virtual WorldInfo get_world_info(const Scope& scope, const std::string& world_id) = 0;
  virtual Graph get_graph(const Scope& scope, const std::string& world_id) = 0;
  // The same working graph as get_graph, as the canonical JSON text the store
  // keeps (no parse, no copy into a document); parsing it gives get_graph's world.
  virtual GraphText get_graph_text(const Scope& scope, const std::string& world_id) = 0;
  virtual Page<WorldInfo> list_worlds(const Scope& scope, int limit, const std::string& cursor) = 0;
  // Metadata patch: any of name, description, cover, visibility (null deletes).
  virtual GraphWrite patch_world(const Scope& scope, const std::string& world_id, const Json& patch,
                                 const std::string& expected_rev, const GateOptions& gate) = 0;
  // Soft-deletes the world; with `expected_rev`, only while it is still at that rev
  // (kConflict otherwise, and nothing changes).
  virtual void delete_world(const Scope& scope, const std::string& world_id,
                            const std::string& expected_rev = "") = 0;
  // Forks an own world, or another app's public world of the same mode.
  virtual GraphWrite fork_world(const Scope& scope, const std::string& world_id, const std::string& name,
                                const GateOptions& gate) = 0;
  virtual GraphWrite apply_ops(const Scope& scope, const std::string& world_id, const Json& ops,
                               const std::string& expected_rev, const GateOptions& gate) = 0;
  // Replaces the whole working graph (an edit computed elsewhere).
  virtual GraphWrite put_world(const Scope& scope, const std::string& world_id, const Json& world,
                               const std::string& expected_rev, const GateOptions& gate) = 0;

  // versions
  virtual VersionInfo snapshot(const Scope& scope, const std::string& world_id, const std::string& parent_id,
                               const std::string& message) = 0;
  virtual VersionTree list_versions(const Scope& scope, const std::string& world_id) = 0;
  virtual VersionInfo get_version(const Scope& scope, const std::string& world_id,
                                  const std::string& version_id, Json* world) = 0;
  virtual GraphWrite checkout(const Scope& scope, const std::string& world_id, const std::string& version_id,
                              const std::string& expected_rev, const GateOptions& gate) = 0;
  virtual Json diff(const Scope& scope, const std::string& world_id, const std::string& a,
                    const std::string& b) = 0;

  // idempotency (scope: app, mode, key); records expire after 24 h
  virtual IdemBegin idem_begin(const Scope& scope, const std::string& key, const std::string& request_hash) = 0;
  // Stores status/body for replay; a 5xx status releases the key instead.
  virtual void idem_complete(const Scope& scope, const std::string& key, int status, const std::string& body) = 0;
  virtual void idem_release(const Scope& scope, const std::string& key) = 0;

  // usage meters (per app, per UTC day "YYYY-MM-DD"; empty day = today)
  virtual Reservation meter_reserve(const std::string& app_id, const std::string& meter, std::int64_t amount,
                                    const std::string& day = "") = 0;
  // Moves the reservation to used; `used` (0..amount, -1 = all) is charged and the rest released.
  virtual MeterState meter_commit(const std::string& reservation_id, std::int64_t used = -1) = 0;
  virtual MeterState meter_refund(const std::string& reservation_id) = 0;
  virtual std::vector<MeterState> meter_usage(const std::string& app_id, const std::string& day = "") = 0;
  virtual void set_meter_limit(const std::string& app_id, const std::string& meter, std::int64_t limit) = 0;

  // jobs
  virtual Job create_job(const Scope& scope, const std::string& kind, const Json& payload) = 0;
  virtual Job get_job(const Scope& scope, const std::string& job_id) = 0;
  // Claims the oldest queued job (or a running one whose lease expired); nullopt when none.
  virtual std::optional<Job> claim_job(const std::string& worker, int lease_seconds) = 0;
  virtual Job complete_job(const std::string& job_id, const Json& result) = 0;
  virtual Job fail_job(const std::string& job_id, const std::string& error) = 0;
  // One transaction: creates `world` (gated, a new id) in the job's scope, queues
  // the event `event_type` {jobId, worldId, rev} and completes the job with the
  // result {worldId, rev}. kConflict (and nothing written) when the job already
  // ended; a gate refusal writes nothing either (GateFailed).
  virtual GenerationDone complete_generation_job(const std::string& job_id, const Json& world,
                                                 const std::string& event_type, const GateOptions& gate) = 0;

  // webhooks and the outbox
  virtual CreatedWebhook create_webhook(const std::string& app_id, const std::string& url,
                                        const std::vector<std::string>& events,
                                        const std::string& description) = 0;
  virtual Page<WebhookEndpoint> list_webhooks(const std::string& app_id, int limit,
                                              const std::string& cursor) = 0;
  virtual void delete_webhook(const std::string& app_id, const std::string& webhook_id) = 0;
  // A live endpoint by id, whatever its app (the caller checks ownership); kNotFound otherwise.
  virtual WebhookEndpoint get_webhook(const std::string& webhook_id) = 0;
  // Records an event and one pending delivery per subscribed endpoint, atomically.
  virtual OutboxEvent enqueue_event(const Scope& scope, const std::string& type, const Json& data) = 0;
  // Claims up to `limit` due deliveries (leased for lease_seconds).
  virtual std::vector<Delivery> claim_deliveries(int limit, int lease_seconds) = 0;
  // Records an attempt: success ends it; else it is retried after the backoff
  // (1 min, 5 min, 30 min, 2 h, 8 h) and marked failed after the sixth attempt.
  // `next_attempt_in` (seconds, rounded up) replaces that backoff: the caller's
  // schedule is kept in the store; a negative value gives up (failed) now.
  virtual Delivery record_delivery(const std::string& delivery_id, int response_status, bool success,
                                   const std::string& error,
                                   std::optional<double> next_attempt_in = std::nullopt) = 0;
  // Every recorded attempt of a delivery, oldest first (kNotFound for an unknown delivery).
  virtual std::vector<DeliveryAttempt> list_delivery_attempts(const std::string& delivery_id) = 0;
  virtual Page<Delivery> list_deliveries(const std::string& app_id, const std::string& webhook_id, int limit,
                                         const std::string& cursor) = 0;

  // play sessions (RUNTIME.md "The two-token rule"). `now_unix` 0 means now.
  // Adds a new current signing key; older keys stay valid until their tokens expire. Returns its kid.
  virtual std::string rotate_session_key() = 0;
  // A session token for a player of a world of `scope` (kNotFound otherwise);
  // ttl 1..3600 s (kBadInput otherwise). Charges nothing: the caller meters mints.
  virtual SessionToken mint_session_token(const Scope& scope, const std::string& world_id,
                                          const std::string& player_id, const std::string& origin,
                                          int ttl_seconds) = 0;
  // The claims of a well-formed, correctly signed, unexpired token (kUnauthorized
  // otherwise; constant-time signature check); kForbidden when the token is bound
  // to an origin and `origin` differs (an empty origin differs from every origin).
  virtual SessionClaims verify_session_token(const std::string& token, const std::string& origin,
                                             std::int64_t now_unix = 0) = 0;
  // One transaction: kCapacity when the app's or the server's count of live
  // (admitted or bound) sessions is at its cap; kConflict when this token (jti)
  // already has a live session; kQuotaExceeded when `minutes` do not fit the
  // app's session_minutes budget; else reserves them, records the session and
  // mints a single-use connect token valid 60 s (only its keyed hash is kept).
  // The session expires at the token's expiry or when the reserved minutes run
  // out, whichever is first.
  virtual AdmittedSession admit_session(const SessionClaims& claims, int app_cap, int global_cap, int minutes) = 0;
  // The session a connect token opens; the token works once, within 60 s (kUnauthorized otherwise).
  virtual SessionInfo consume_connect_token(const std::string& token, std::int64_t now_unix = 0) = 0;
  // Marks the session bound (idempotent); kNotFound unless the claims' app and mode own it,
  // kConflict once it is settled.
  virtual SessionInfo bind_session(const std::string& session_id, const SessionClaims& claims) = 0;
  // Frees the slot, charges ceil(seconds / 60) minutes (at most the reservation)
  // and refunds the rest; idempotent (a settled session answers as it is).
  // seconds_used < 0: the time since admission. claims: when given, its app and mode must own the session.
  virtual SessionInfo settle_session(const std::string& session_id, std::int64_t seconds_used,
                                     const SessionClaims* claims) = 0;
  // Settles live sessions past their expiry, and admitted ones whose connect
  // token expired unused (0 seconds). Returns how many.
  virtual int reap_sessions(std::int64_t now_unix = 0) = 0;
  // Settles every live session (a server restart: no slot outlives its server). Returns how many.
  virtual int settle_all_active(const std::string& reason) = 0;

  // maintenance
  virtual CheckReport check() = 0;
  virtual void backup(const std::string& path) = 0;
  virtual std::string path() const = 0;
};

// Opens (creating if absent) a SQLite store: WAL, synchronous=FULL, foreign
// keys on, busy timeout; applies the numbered schema migrations. A corrupt or
// foreign file, or one written by a newer schema, is Error(kStorage).
std::unique_ptr<Store> open_store(const std::string& path, const StoreOptions& options = StoreOptions{});

// RFC 3339 UTC timestamp with milliseconds, and today's UTC day (YYYY-MM-DD).
std::string now_rfc3339();
std::string utc_day();

}  // namespace conjure
