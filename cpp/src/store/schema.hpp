// Internal: the SQLite schema as numbered migrations. Migration N brings a store
// from user_version N-1 to N; append, never edit a published one.
#pragma once
#include <array>

namespace conjure::sqlite {

// PRAGMA application_id of a conjure store ("CJRS").
inline constexpr int kApplicationId = 0x434A5253;

inline constexpr std::array<const char*, 4> kMigrations = {
    // 1: the initial schema.
    R"SQL(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

CREATE TABLE users (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  email TEXT NOT NULL UNIQUE COLLATE NOCASE,
  password_hash TEXT NOT NULL,
  created_at TEXT NOT NULL);

CREATE TABLE apps (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  owner_id TEXT REFERENCES users(id),
  name TEXT NOT NULL,
  created_at TEXT NOT NULL);
CREATE INDEX apps_owner ON apps(owner_id, seq);

CREATE TABLE keys (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  app_id TEXT NOT NULL REFERENCES apps(id),
  type TEXT NOT NULL CHECK (type IN ('secret', 'publishable')),
  mode TEXT NOT NULL CHECK (mode IN ('test', 'live')),
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,
  last4 TEXT NOT NULL,
  hash BLOB NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  last_used_at TEXT,
  last_used_unix INTEGER NOT NULL DEFAULT 0,
  revoked_at TEXT);
CREATE INDEX keys_app ON keys(app_id, seq);

CREATE TABLE worlds (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  app_id TEXT NOT NULL,
  mode TEXT NOT NULL CHECK (mode IN ('test', 'live')),
  name TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  cover TEXT NOT NULL DEFAULT '',
  visibility TEXT NOT NULL DEFAULT 'private',
  rev TEXT NOT NULL,
  writes INTEGER NOT NULL,
  head_version_id TEXT,
  forked_from TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  deleted_at TEXT,
  -- Last, so reading the columns above never walks the document's overflow pages.
  doc TEXT NOT NULL);
CREATE INDEX worlds_scope ON worlds(app_id, mode, seq);

-- Content blobs: canonical JSON named by its SHA-256. A blob is stored whole
-- (base NULL) or as a merge patch against `base`; `chain` is the total size of
-- the patches back to the nearest whole blob, `size` the canonical size.
-- Rows are appended in rowid order (dense pages); lookups go through the hash index.
CREATE TABLE blobs (
  id INTEGER PRIMARY KEY,
  hash BLOB NOT NULL UNIQUE,
  base BLOB REFERENCES blobs(hash),
  chain INTEGER NOT NULL,
  size INTEGER NOT NULL,
  data BLOB NOT NULL);

CREATE TABLE versions (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  world_id TEXT NOT NULL REFERENCES worlds(id),
  parent_id TEXT REFERENCES versions(id),
  root BLOB NOT NULL REFERENCES blobs(hash),
  message TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL);
CREATE INDEX versions_world ON versions(world_id, seq);

CREATE TABLE idempotency (
  app_id TEXT NOT NULL,
  mode TEXT NOT NULL,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('in_flight', 'done')),
  status INTEGER NOT NULL DEFAULT 0,
  body TEXT NOT NULL DEFAULT '',
  created_unix INTEGER NOT NULL,
  updated_unix INTEGER NOT NULL,
  PRIMARY KEY (app_id, mode, key)) WITHOUT ROWID;
CREATE INDEX idempotency_age ON idempotency(created_unix);

CREATE TABLE meters (
  app_id TEXT NOT NULL,
  day TEXT NOT NULL,
  meter TEXT NOT NULL,
  used INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0),
  reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
  PRIMARY KEY (app_id, day, meter)) WITHOUT ROWID;

CREATE TABLE meter_limits (
  app_id TEXT NOT NULL,
  meter TEXT NOT NULL,
  lim INTEGER NOT NULL CHECK (lim >= 0),
  PRIMARY KEY (app_id, meter)) WITHOUT ROWID;

CREATE TABLE reservations (
  id TEXT PRIMARY KEY,
  app_id TEXT NOT NULL,
  day TEXT NOT NULL,
  meter TEXT NOT NULL,
  amount INTEGER NOT NULL CHECK (amount > 0),
  charged INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL CHECK (state IN ('held', 'committed', 'refunded')),
  created_at TEXT NOT NULL) WITHOUT ROWID;

CREATE TABLE jobs (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  app_id TEXT NOT NULL,
  mode TEXT NOT NULL,
  kind TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  payload TEXT NOT NULL,
  result TEXT,
  error TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  worker TEXT,
  locked_until INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL);
CREATE INDEX jobs_status ON jobs(status, seq);

CREATE TABLE webhook_endpoints (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  app_id TEXT NOT NULL,
  url TEXT NOT NULL,
  events TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  secret TEXT NOT NULL,
  created_at TEXT NOT NULL,
  deleted_at TEXT);
CREATE INDEX webhook_endpoints_app ON webhook_endpoints(app_id, seq);

CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  app_id TEXT NOT NULL,
  mode TEXT NOT NULL,
  type TEXT NOT NULL,
  data TEXT NOT NULL,
  created_at TEXT NOT NULL);

CREATE TABLE deliveries (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  event_id TEXT NOT NULL REFERENCES outbox(id),
  endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id),
  status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempt INTEGER NOT NULL DEFAULT 0,
  response_status INTEGER NOT NULL DEFAULT 0,
  next_attempt_unix INTEGER NOT NULL,
  locked_until INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL);
CREATE INDEX deliveries_due ON deliveries(status, next_attempt_unix);
CREATE INDEX deliveries_endpoint ON deliveries(endpoint_id, seq);

CREATE TABLE delivery_attempts (
  seq INTEGER PRIMARY KEY,
  delivery_id TEXT NOT NULL REFERENCES deliveries(id),
  attempt INTEGER NOT NULL,
  response_status INTEGER NOT NULL,
  error TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts(delivery_id);
)SQL",
    // 2: play sessions (RUNTIME.md "The two-token rule"): session-token signing
    // keys (only a seed is kept; the key is HMAC(server secret, seed)) and
    // sessions with their minute reservations and keyed-hash connect tokens.
    R"SQL(
CREATE TABLE session_keys (
  seq INTEGER PRIMARY KEY,
  kid TEXT NOT NULL UNIQUE,
  seed BLOB NOT NULL,
  created_unix INTEGER NOT NULL,
  retired_unix INTEGER);

CREATE TABLE sessions (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  app_id TEXT NOT NULL,
  mode TEXT NOT NULL CHECK (mode IN ('test', 'live')),
  world_id TEXT NOT NULL,
  player_id TEXT NOT NULL,
  origin TEXT NOT NULL DEFAULT '',
  jti TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('admitted', 'bound', 'settled')),
  reservation_id TEXT NOT NULL REFERENCES reservations(id),
  minutes INTEGER NOT NULL CHECK (minutes > 0),
  connect_hash BLOB UNIQUE,
  connect_expires_unix INTEGER NOT NULL,
  created_unix INTEGER NOT NULL,
  expires_unix INTEGER NOT NULL,
  bound_unix INTEGER,
  settled_unix INTEGER,
  seconds_used INTEGER,
  settle_reason TEXT,
  created_at TEXT NOT NULL);
-- One live session per session token; the live ones are counted against the caps.
CREATE UNIQUE INDEX sessions_live_jti ON sessions(jti) WHERE status <> 'settled';
CREATE INDEX sessions_live_app ON sessions(app_id) WHERE status <> 'settled';
CREATE INDEX sessions_live_expiry ON sessions(expires_unix) WHERE status <> 'settled';
)SQL",
    // 3: compact versions (docs/storage.md "Versions", "Layout"). Blobs are
    // referenced by integer id (delta bases, manifest entries); the content hash
    // is kept as 32 raw bytes, found through an index on its first 6 bytes. A
    // version names its world and parent by seq and keeps its root manifest
    // inline: whole when root_chain is 0, else a merge patch against its
    // parent's root (root_chain: the patch bytes back to a whole one). Its id is
    // 16 bytes when a lowercase UUID (else text); created_at is milliseconds
    // since the epoch (else the RFC 3339 text it was given), or NULL when it is
    // the time leading the id (a version-7 UUID). The store converts the renamed
    // legacy_* rows (schema 2) by re-snapshotting every version in the same
    // transaction, then drops them (kMigration3Finish).
    R"SQL(
ALTER TABLE versions RENAME TO legacy_versions;
ALTER TABLE blobs RENAME TO legacy_blobs;
DROP INDEX versions_world;

CREATE TABLE blobs (
  id INTEGER PRIMARY KEY,
  hash BLOB NOT NULL,
  base INTEGER REFERENCES blobs(id),
  data BLOB NOT NULL);
CREATE INDEX blobs_hash ON blobs(substr(hash, 1, 6));

CREATE TABLE versions (
  seq INTEGER PRIMARY KEY,
  id BLOB NOT NULL UNIQUE,
  world INTEGER NOT NULL REFERENCES worlds(seq),
  parent INTEGER REFERENCES versions(seq),
  message TEXT NOT NULL DEFAULT '',
  created_at INTEGER,
  root_chain INTEGER NOT NULL,
  root BLOB NOT NULL);
CREATE INDEX versions_world ON versions(world, seq);
)SQL",
    // 4: characters (RUNTIME.md "Characters"): stance graphs with a brain, per
    // app and mode, soft-deleted like worlds; and the talk memory of each
    // session (its token's jti) with each character, kept until the token expires.
    R"SQL(
CREATE TABLE characters (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  app_id TEXT NOT NULL,
  mode TEXT NOT NULL CHECK (mode IN ('test', 'live')),
  name TEXT NOT NULL DEFAULT '',
  doc TEXT NOT NULL,
  rev TEXT NOT NULL,
  writes INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  deleted_at TEXT);
CREATE INDEX characters_live ON characters(app_id, mode, seq) WHERE deleted_at IS NULL;
CREATE TABLE character_talk (
  session TEXT NOT NULL,
  character_id TEXT NOT NULL,
  app_id TEXT NOT NULL,
  mode TEXT NOT NULL,
  memory TEXT NOT NULL,
  expires_unix INTEGER NOT NULL,
  PRIMARY KEY (session, character_id)) WITHOUT ROWID;
CREATE INDEX character_talk_expiry ON character_talk(expires_unix);
)SQL",
};

// Run after migration 3 has converted the legacy rows.
inline constexpr const char* kMigration3Finish = "DROP TABLE legacy_versions; DROP TABLE legacy_blobs;";

}  // namespace conjure::sqlite
