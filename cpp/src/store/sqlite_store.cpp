// The embedded SQLite store: see conjure/store/store.hpp for the contract.
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <set>
#include <unordered_map>

#include "conjure/auth/crypto.hpp"
#include "conjure/quota/meters.hpp"
#include "conjure/store/errors.hpp"
#include "conjure/store/store.hpp"
#include "conjure/versions/diff.hpp"
#include "conjure/versions/snapshot.hpp"
#include "conjure/world/world.hpp"
#include "store/schema.hpp"
#include "store/sqlite_db.hpp"

namespace conjure {

using sqlite::Conn;
using sqlite::Stmt;

// ---------------------------------------------------------------- time

static std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

static std::string format_time(std::int64_t unix_seconds, int millis) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

std::string now_rfc3339() {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  return format_time(ms / 1000, static_cast<int>(ms % 1000));
}

std::string utc_day() { return now_rfc3339().substr(0, 10); }

// ---------------------------------------------------------------- helpers

namespace {

constexpr std::int64_t kIdempotencyTtl = 24 * 3600;
constexpr std::int64_t kIdempotencyInFlightLease = 10 * 60;
constexpr std::int64_t kMaxMeterAmount = 1'000'000'000'000;
constexpr int kBackoff[] = {60, 5 * 60, 30 * 60, 2 * 3600, 8 * 3600};
constexpr int kMaxDeliveryAttempts = 6;

void check_scope(const Scope& s) {
  if (s.app_id.empty() || s.app_id.size() > 200) throw Error(ErrorCode::kBadInput, "scope: app_id must be 1-200 characters");
  if (s.mode != "test" && s.mode != "live") throw Error(ErrorCode::kBadInput, "scope: mode must be \"test\" or \"live\"");
}

void check_id(const std::string& id, const char* what) {
  if (id.empty() || id.size() > 200) throw Error(ErrorCode::kNotFound, std::string(what) + " not found");
}

int check_limit(int limit) {
  if (limit < 1 || limit > 100) throw Error(ErrorCode::kBadInput, "limit must be between 1 and 100");
  return limit;
}

std::int64_t parse_cursor(const std::string& cursor) {
  if (cursor.empty()) return 0;
  std::int64_t v = 0;
  if (cursor.size() > 18) throw Error(ErrorCode::kBadInput, "cursor: not a cursor this server issued");
  for (char c : cursor) {
    if (c < '0' || c > '9') throw Error(ErrorCode::kBadInput, "cursor: not a cursor this server issued");
    v = v * 10 + (c - '0');
  }
  return v;
}

std::string str_field(const Json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Json parse_stored(const std::string& text, const char* what) {
  try {
    return Json::parse(text);
  } catch (const Json::exception&) {
    throw Error(ErrorCode::kStorage, std::string("the store holds a damaged ") + what + " (not JSON)");
  }
}

std::string make_rev(std::int64_t writes, const std::string& canonical_doc) {
  return std::to_string(writes) + "-" + auth::sha256_hex(canonical_doc).substr(0, 16);
}

// A bounded LRU of decoded blobs. Blobs are immutable and named by their
// content, so a cached value is valid for every connection and process.
class BlobCache {
 public:
  explicit BlobCache(std::size_t capacity) : capacity_(capacity) {}
  std::shared_ptr<const Json> get(const std::string& hash) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(hash);
    if (it == map_.end()) return nullptr;
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->value;
  }
  void put(const std::string& hash, std::shared_ptr<const Json> value, std::size_t bytes) {
    if (bytes > capacity_ / 4) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (map_.count(hash)) return;
    lru_.push_front(Entry{hash, std::move(value), bytes});
    map_[hash] = lru_.begin();
    used_ += bytes;
    while (used_ > capacity_ && !lru_.empty()) {
      used_ -= lru_.back().bytes;
      map_.erase(lru_.back().hash);
      lru_.pop_back();
    }
  }

 private:
  struct Entry {
    std::string hash;
    std::shared_ptr<const Json> value;
    std::size_t bytes;
  };
  std::mutex mu_;
  std::size_t capacity_;
  std::size_t used_ = 0;
  std::list<Entry> lru_;
  std::unordered_map<std::string, std::list<Entry>::iterator> map_;
};

// The working graph of recently written/read worlds, keyed by world id and
// checked against the row's rev before use.
class GraphCache {
 public:
  std::shared_ptr<const Json> get(const std::string& id, const std::string& rev) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(id);
    if (it == map_.end() || it->second.first != rev) return nullptr;
    return it->second.second;
  }
  void put(const std::string& id, const std::string& rev, std::shared_ptr<const Json> doc) {
    std::lock_guard<std::mutex> lock(mu_);
    if (map_.size() >= 256 && !map_.count(id)) map_.erase(map_.begin());
    map_[id] = {rev, std::move(doc)};
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::pair<std::string, std::shared_ptr<const Json>>> map_;
};

struct WorldRow {
  std::int64_t seq = 0;
  WorldInfo info;
  std::int64_t writes = 0;
  std::shared_ptr<const Json> doc;
};

}  // namespace

// ---------------------------------------------------------------- the store

class SqliteStore final : public Store {
 public:
  SqliteStore(const std::string& path, const StoreOptions& options)
      : options_(options),
        pool_(sqlite::OpenSpec{path, options.read_only, options.busy_timeout_ms, options.max_bytes}),
        blobs_(options.blob_cache_bytes) {
    open();
  }

  std::string path() const override { return pool_.spec().path; }

  // ------------------------------------------------ open and migrate
  void open() {
    const std::string& path = pool_.spec().path;
    if (path.empty()) throw Error(ErrorCode::kBadInput, "store path is empty");
    // The file is never opened outside SQLite: closing any other descriptor of
    // it would drop this process's POSIX locks and break concurrent writers.
    // A foreign or corrupt file fails SQLite's own header check (kStorage).
    auto lease = pool_.take();
    Conn& c = *lease;
    if (!options_.read_only) {
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
    if ((tables > 0 || version > 0) && app_id != sqlite::kApplicationId) {
      throw Error(ErrorCode::kStorage, "cannot open the store at " + path +
                                           ": the file is a SQLite database but not a conjure store");
    }
    const std::int64_t latest = static_cast<std::int64_t>(sqlite::kMigrations.size());
    if (version > latest) {
      throw Error(ErrorCode::kStorage, "the store at " + path + " has schema " + std::to_string(version) +
                                           ", newer than this conjure understands (" + std::to_string(latest) + ")");
    }
    if (version < latest) {
      if (options_.read_only) {
        throw Error(ErrorCode::kStorage, "the store at " + path + " needs a schema migration but was opened read-only");
      }
      lease.discard();
      migrate(latest);
    }
    load_secret();
  }

  void migrate(std::int64_t latest) {
    sqlite::write_tx(pool_, [&](Conn& c) {
      std::int64_t version = 0;
      {
        Stmt s = c.prepare("PRAGMA user_version");
        if (s.step()) version = s.i64(0);
      }
      for (std::int64_t v = version; v < latest; ++v) {
        c.exec(sqlite::kMigrations[v]);
        if (v + 1 == 3) {  // schema 3 re-snapshots the versions kept in the schema-2 layout
          convert_legacy_versions(c);
          c.exec(sqlite::kMigration3Finish);
        }
      }
      std::string pragmas = "PRAGMA application_id=" + std::to_string(sqlite::kApplicationId) +
                            "; PRAGMA user_version=" + std::to_string(latest);
      c.exec(pragmas.c_str());
    });
  }

  void load_secret() {
    if (!options_.server_secret.empty()) {
      secret_ = options_.server_secret;
      return;
    }
    auto read = [&](Conn& c) {
      Stmt s = c.prepare("SELECT value FROM meta WHERE key='server_secret'");
      if (s.step()) secret_ = auth::from_hex(s.text(0));
    };
    sqlite::read_tx(pool_, read);
    if (!secret_.empty()) return;
    if (options_.read_only) throw Error(ErrorCode::kStorage, "the store has no server secret and is read-only");
    std::string fresh = auth::random_bytes(32);
    sqlite::write_tx(pool_, [&](Conn& c) {
      c.prepare("INSERT OR IGNORE INTO meta(key, value) VALUES ('server_secret', ?)")
          .args(auth::to_hex(reinterpret_cast<const unsigned char*>(fresh.data()), fresh.size()))
          .run();
      read(c);
    });
  }

  // ------------------------------------------------ users / apps / keys
  static User user_from(Stmt& s) { return User{s.text(0), s.text(1), s.text(2)}; }

  User create_user(const std::string& email, const std::string& password) override {
    std::string e = email;
    if (e.size() < 3 || e.size() > 254 || e.find('@') == std::string::npos || e.front() == '@' ||
        e.back() == '@' || e.find_first_of(" \t\r\n") != std::string::npos) {
      throw Error(ErrorCode::kBadInput, "email: not an email address");
    }
    if (password.size() < 10) throw Error(ErrorCode::kBadInput, "password: at least 10 characters");
    if (password.size() > 1024) throw Error(ErrorCode::kBadInput, "password: at most 1024 characters");
    std::string hash = auth::hash_password(password);  // slow: outside the transaction
    User u{auth::uuid4(), e, now_rfc3339()};
    write_tx([&](Conn& c) {
      Stmt q = c.prepare("SELECT 1 FROM users WHERE email=?");
      q.args(e);
      if (q.step()) throw Error(ErrorCode::kConflict, "email_taken: an account with this email exists");
      c.prepare("INSERT INTO users(id, email, password_hash, created_at) VALUES (?,?,?,?)")
          .args(u.id, e, hash, u.created_at)
          .run();
    });
    return u;
  }

  User get_user(const std::string& user_id) override {
    check_id(user_id, "user");
    User u;
    read_tx([&](Conn& c) {
      Stmt s = c.prepare("SELECT id, email, created_at FROM users WHERE id=?");
      s.args(user_id);
      if (!s.step()) throw Error(ErrorCode::kNotFound, "user not found");
      u = user_from(s);
    });
    return u;
  }

  User authenticate_user(const std::string& email, const std::string& password) override {
    User u;
    std::string hash;
    if (email.size() <= 254 && password.size() <= 1024) {
      read_tx([&](Conn& c) {
        Stmt s = c.prepare("SELECT id, email, created_at, password_hash FROM users WHERE email=?");
        s.args(email);
        if (s.step()) {
          u = user_from(s);
          hash = s.text(3);
        }
      });
    }
    // An unknown email costs the same work as a wrong password.
    static const std::string dummy = auth::hash_password("conjure-dummy-password");
    bool ok = auth::verify_password(password, hash.empty() ? dummy : hash);
    if (!ok || hash.empty()) throw Error(ErrorCode::kUnauthorized, "invalid_credentials: wrong email or password");
    return u;
  }

  static App app_from(Stmt& s) { return App{s.text(0), s.text(1), s.text(2), s.text(3)}; }

  App create_app(const std::string& owner_id, const std::string& name) override {
    if (name.empty() || name.size() > 200) throw Error(ErrorCode::kBadInput, "name: 1-200 characters");
    App a{auth::uuid4(), owner_id, name, now_rfc3339()};
    write_tx([&](Conn& c) {
      if (!owner_id.empty()) {
        Stmt q = c.prepare("SELECT 1 FROM users WHERE id=?");
        q.args(owner_id);
        if (!q.step()) throw Error(ErrorCode::kNotFound, "user not found");
      }
      c.prepare("INSERT INTO apps(id, owner_id, name, created_at) VALUES (?,?,?,?)")
          .bind(1, a.id)
          .bind_opt(2, owner_id)
          .bind(3, name)
          .bind(4, a.created_at)
          .run();
    });
    return a;
  }

  App get_app(const std::string& app_id) override {
    check_id(app_id, "app");
    App a;
    read_tx([&](Conn& c) {
      Stmt s = c.prepare("SELECT id, coalesce(owner_id, ''), name, created_at FROM apps WHERE id=?");
      s.args(app_id);
      if (!s.step()) throw Error(ErrorCode::kNotFound, "app not found");
      a = app_from(s);
    });
    return a;
  }

  Page<App> list_apps(const std::string& owner_id, int limit, const std::string& cursor) override {
    check_limit(limit);
    std::int64_t after = parse_cursor(cursor);
    Page<App> page;
    bool more = false;
    read_tx([&](Conn& c) {
      Stmt s = c.prepare(
          "SELECT id, coalesce(owner_id, ''), name, created_at, seq FROM apps WHERE owner_id=? AND seq>? "
          "ORDER BY seq LIMIT ?");
      s.args(owner_id, after, limit + 1);
      while (s.step()) {
        if (static_cast<int>(page.data.size()) == limit) {
          more = true;
          break;
        }
        page.data.push_back(app_from(s));
        page.next_cursor = std::to_string(s.i64(4));
      }
    });
    if (!more) page.next_cursor.clear();
    return page;
  }

  static KeyInfo key_from(Stmt& s) {
    KeyInfo k;
    k.id = s.text(0);
    k.app_id = s.text(1);
    k.type = s.text(2);
    k.mode = s.text(3);
    k.name = s.text(4);
    k.prefix = s.text(5);
    k.last4 = s.text(6);
    k.created_at = s.text(7);
    k.last_used_at = s.text(8);
    k.revoked_at = s.text(9);
    return k;
  }
#define KEY_COLS "id, app_id, type, mode, name, prefix, last4, created_at, last_used_at, revoked_at"

  std::string key_hash(const std::string& key) const {
    auto d = auth::hmac_sha256(secret_, key);
    return std::string(reinterpret_cast<const char*>(d.data()), d.size());
  }

  MintedKey create_key(const std::string& app_id, const std::string& type, const std::string& mode,
                       const std::string& name) override {
    if (type != "secret" && type != "publishable") throw Error(ErrorCode::kBadInput, "type: \"secret\" or \"publishable\"");
    if (mode != "test" && mode != "live") throw Error(ErrorCode::kBadInput, "mode: \"test\" or \"live\"");
    if (name.size() > 200) throw Error(ErrorCode::kBadInput, "name: at most 200 characters");
    check_id(app_id, "app");
    MintedKey m;
    m.info.prefix = std::string(type == "secret" ? "sk_" : "pk_") + mode + "_";
    m.key = m.info.prefix + auth::random_token(32);  // 256 random bits
    m.info.id = auth::uuid4();
    m.info.app_id = app_id;
    m.info.type = type;
    m.info.mode = mode;
    m.info.name = name;
    m.info.last4 = m.key.substr(m.key.size() - 4);
    m.info.created_at = now_rfc3339();
    std::string hash = key_hash(m.key);
    write_tx([&](Conn& c) {
      Stmt q = c.prepare("SELECT 1 FROM apps WHERE id=?");
      q.args(app_id);
      if (!q.step()) throw Error(ErrorCode::kNotFound, "app not found");
      c.prepare("INSERT INTO keys(id, app_id, type, mode, name, prefix, last4, hash, created_at) VALUES (?,?,?,?,?,?,?,?,?)")
          .args(m.info.id, app_id, type, mode, name, m.info.prefix, m.info.last4)
          .bind_blob(8, hash)
          .bind(9, m.info.created_at)
          .run();
    });
    return m;
  }

  Page<KeyInfo> list_keys(const std::string& app_id, int limit, const std::string& cursor) override {
    check_limit(limit);
    std::int64_t after = parse_cursor(cursor);
    Page<KeyInfo> page;
    bool more = false;
    read_tx([&](Conn& c) {
      Stmt s = c.prepare("SELECT " KEY_COLS ", seq FROM keys WHERE app_id=? AND seq>? ORDER BY seq LIMIT ?");
      s.args(app_id, after, limit + 1);
      while (s.step()) {
        if (static_cast<int>(page.data.size()) == limit) {
          more = true;
          break;
        }
        page.data.push_back(key_from(s));
        page.next_cursor = std::to_string(s.i64(10));
      }
    });
    if (!more) page.next_cursor.clear();
    return page;
  }

  KeyInfo revoke_key(const std::string& app_id, const std::string& key_id) override {
    check_id(key_id, "key");
    KeyInfo k;
    write_tx([&](Conn& c) {
      c.prepare("UPDATE keys SET revoked_at=? WHERE id=? AND app_id=? AND revoked_at IS NULL")
          .args(now_rfc3339(), key_id, app_id)
          .run();
      Stmt s = c.prepare("SELECT " KEY_COLS " FROM keys WHERE id=? AND app_id=?");
      s.args(key_id, app_id);
      if (!s.step()) throw Error(ErrorCode::kNotFound, "key not found");
      k = key_from(s);
    });
    return k;
  }

  KeyInfo verify_key(const std::string& key) override {
    if (key.empty() || key.size() > 200) throw Error(ErrorCode::kUnauthorized, "invalid key");
    std::string hash = key_hash(key);
    KeyInfo k;
    std::int64_t last_used = 0;
    std::string stored;
    read_tx([&](Conn& c) {
      Stmt s = c.prepare("SELECT " KEY_COLS ", last_used_unix, hash FROM keys WHERE hash=?");
      s.bind_blob(1, hash);
      if (s.step()) {
        k = key_from(s);
        last_used = s.i64(10);
        stored = s.blob(11);
      }
    });
    if (!auth::equal_ct(stored, hash) || k.id.empty()) throw Error(ErrorCode::kUnauthorized, "invalid key");
    if (!k.revoked_at.empty()) throw Error(ErrorCode::kUnauthorized, "the key was revoked");
    std::int64_t now = unix_now();
    if (now - last_used >= 60 && !options_.read_only) {  // touch at most once a minute
      k.last_used_at = now_rfc3339();
      write_tx([&](Conn& c) {
        c.prepare("UPDATE keys SET last_used_at=?, last_used_unix=? WHERE id=?").args(k.last_used_at, now, k.id).run();
      });
    }
    return k;
  }

  // ------------------------------------------------ worlds
#define WORLD_COLS                                                                                      \
  "seq, id, app_id, mode, name, description, cover, visibility, created_at, updated_at, rev, writes, " \
  "coalesce(head_version_id, ''), coalesce(forked_from, '')"

  static WorldInfo info_from(Stmt& s) {
    WorldInfo w;
    w.id = s.text(1);
    w.app_id = s.text(2);
    w.mode = s.text(3);
    w.name = s.text(4);
    w.description = s.text(5);
    w.cover = s.text(6);
    w.visibility = s.text(7);
    w.created_at = s.text(8);
    w.updated_at = s.text(9);
    w.rev = s.text(10);
    w.head = s.text(12);
    w.forked_from = s.text(13);
    return w;
  }

  // Loads a live world of `scope` (or, with `allow_public`, a public one of
  // another app in the same mode). With `with_doc` the document is parsed (or
  // taken from the cache when its rev matches).
  WorldRow load_world(Conn& c, const Scope& scope, const std::string& world_id, bool with_doc,
                      bool allow_public = false) {
    check_id(world_id, "world");
    WorldRow row;
    std::string text;
    {
      Stmt s = c.prepare("SELECT " WORLD_COLS " FROM worlds WHERE id=? AND deleted_at IS NULL");
      s.args(world_id);
      if (!s.step()) throw Error(ErrorCode::kNotFound, "world not found");
      row.seq = s.i64(0);
      row.info = info_from(s);
      row.writes = s.i64(11);
      bool own = row.info.app_id == scope.app_id && row.info.mode == scope.mode;
      bool visible = allow_public && row.info.visibility == "public" && row.info.mode == scope.mode;
      if (!own && !visible) throw Error(ErrorCode::kNotFound, "world not found");
      if (with_doc) row.doc = graphs_.get(world_id, row.info.rev);
    }
    if (with_doc && !row.doc) {
      // The document is read only when it is not cached (it may be megabytes).
      Stmt d = c.prepare("SELECT doc FROM worlds WHERE seq=?");
      d.args(row.seq);
      if (d.step()) text = d.text(0);
      row.doc = std::make_shared<const Json>(parse_stored(text, "world document"));
      graphs_.put(world_id, row.info.rev, row.doc);
    }
    return row;
  }

  static void mirror_columns(const Json& doc, WorldInfo& info) {
    info.name = str_field(doc, "name");
    info.description = str_field(doc, "description");
    info.cover = str_field(doc, "cover");
    info.visibility = str_field(doc, "visibility");
    if (info.visibility.empty()) info.visibility = "private";
  }

  GateResult gate_or_throw(const Json& doc, const GateOptions& gate) {
    GateResult r = run_gate(doc, gate);
    if (!r.ok) throw GateFailed(std::move(r.diagnostics));
    return r;
  }

  void check_doc_size(const std::string& text, const GateOptions& gate) {
    if (text.size() > gate.limits.max_document_bytes) {
      throw Error(ErrorCode::kLimit, "the world is " + std::to_string(text.size()) + " bytes of JSON, over the limit of " +
                                         std::to_string(gate.limits.max_document_bytes));
    }
  }

  // Writes `doc` as the working graph of `row` with a new rev.
  std::string write_graph(Conn& c, WorldRow& row, const Json& doc, const std::string& head) {
    std::string text = versions::canonical(doc);
    std::int64_t writes = row.writes + 1;
    std::string rev = make_rev(writes, text);
    WorldInfo info = row.info;
    mirror_columns(doc, info);
    std::string now = now_rfc3339();
    c.prepare(
         "UPDATE worlds SET doc=?, rev=?, writes=?, name=?, description=?, cover=?, visibility=?, updated_at=?, "
         "head_version_id=coalesce(?, head_version_id) WHERE seq=?")
        .args(text, rev, writes, info.name, info.description, info.cover, info.visibility, now)
        .bind_opt(9, head)
        .bind(10, row.seq)
        .run();
    pending_graph_ = {row.info.id, rev, std::make_shared<const Json>(doc)};
    return rev;
  }

  void check_rev(const WorldRow& row, const std::string& expected_rev) {
    if (!expected_rev.empty() && expected_rev != row.info.rev) {
      throw Error(ErrorCode::kConflict, "rev mismatch: the world is at rev " + row.info.rev + ", not " + expected_rev +
                                            "; re-read it and retry");
    }
  }

  GraphWrite create_world(const Scope& scope, const Json& world, const GateOptions& gate) override {
    check_scope(scope);
    if (!world.is_object()) throw Error(ErrorCode::kBadInput, "world: expected a JSON object");
    Json doc = world;
    normalise(doc);
    doc["id"] = auth::uuid4();
    return insert_world(scope, doc, gate, "", "");
  }

  GraphWrite insert_world(const Scope& scope, Json doc, const GateOptions& gate, const std::string& forked_from,
                          const std::string& base_version) {
    std::string text = versions::canonical(doc);
    check_doc_size(text, gate);
    GraphWrite out;
    std::string id = doc["id"].get<std::string>();
    write_tx([&](Conn& c) {
      insert_world_row(c, scope, doc, text, gate, forked_from, out);
      if (!forked_from.empty()) {
        WorldRow row = load_world(c, scope, id, false);
        VersionInfo v = write_snapshot(c, row, doc, "", "fork of " + forked_from, base_version);
        out.head = v.id;
      }
    });
    graphs_.put(id, out.rev, std::make_shared<const Json>(doc));
    out.world = std::move(doc);
    return out;
  }

  // Gates `doc` (its canonical `text`) and inserts it as a new world of `scope`
  // inside the caller's write transaction; sets out.diagnostics and out.rev.
  void insert_world_row(Conn& c, const Scope& scope, const Json& doc, const std::string& text, const GateOptions& gate,
                        const std::string& forked_from, GraphWrite& out) {
    GateResult r = gate_or_throw(doc, gate);
    out.diagnostics = std::move(r.diagnostics);
    WorldInfo info;
    mirror_columns(doc, info);
    std::string now = now_rfc3339();
    out.rev = make_rev(1, text);
    c.prepare(
         "INSERT INTO worlds(id, app_id, mode, name, description, cover, visibility, doc, rev, writes, "
         "forked_from, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,1,?,?,?)")
        .args(doc.at("id").get<std::string>(), scope.app_id, scope.mode, info.name, info.description, info.cover,
              info.visibility, text, out.rev)
        .bind_opt(10, forked_from)
        .bind(11, now)
        .bind(12, now)
        .run();
  }

  WorldInfo get_world_info(const Scope& scope, const std::string& world_id) override {
    check_scope(scope);
    WorldInfo info;
    read_tx([&](Conn& c) { info = load_world(c, scope, world_id, false).info; });
    return info;
  }

  Graph get_graph(const Scope& scope, const std::string& world_id) override {
    check_scope(scope);
    Graph g;
    read_tx([&](Conn& c) {
      WorldRow row = load_world(c, scope, world_id, true);
      g.world = *row.doc;
      g.rev = row.info.rev;
    });
    return g;
  }

  // The stored column is the canonical text of the working graph (write_graph and
  // insert_world write versions::canonical(doc)): one row read, no parse.
  GraphText get_graph_text(const Scope& scope, const std::string& world_id) override {
    check_scope(scope);
    check_id(world_id, "world");
    GraphText g;
    read_tx([&](Conn& c) {
      Stmt s = c.prepare("SELECT app_id, mode, rev, doc FROM worlds WHERE id=? AND deleted_at IS NULL");
      s.args(world_id);
      if (!s.step() || s.text(0) != scope.app_id || s.text(1) != scope.mode) {
        throw Error(ErrorCode::kNotFound, "world not found");
      }
      g.rev = s.text(2);
      g.text = s.text(3);
    });
    return g;
  }

  Page<WorldInfo> list_worlds(const Scope& scope, int limit, const std::string& cursor) override {
    check_scope(scope);
    check_limit(limit);
    std::int64_t after = parse_cursor(cursor);
    Page<WorldInfo> page;
    bool more = false;
    read_tx([&](Conn& c) {
      Stmt s = c.prepare("SELECT " WORLD_COLS " FROM worlds WHERE app_id=? AND mode=? AND deleted_at IS NULL AND seq>? "
                         "ORDER BY seq LIMIT ?");
      s.args(scope.app_id, scope.mode, after, limit + 1);
      while (s.step()) {
        if (static_cast<int>(page.data.size()) == limit) {
          more = true;
          break;
        }
        page.data.push_back(info_from(s));
        page.next_cursor = std::to_string(s.i64(0));
      }
    });
    if (!more) page.next_cursor.clear();
    return page;
  }

  // Runs a graph write: loads the world in a write transaction, checks the rev,
  // lets `edit` compute the new document, gates it and stores it.
  GraphWrite graph_write(const Scope& scope, const std::string& world_id, const std::string& expected_rev,
                         const GateOptions& gate, const std::function<Json(const Json&, GraphWrite&)>& edit,
                         bool allow_unchanged = false, const std::string& head = "") {
    check_scope(scope);
    GraphWrite out;
    pending_graph_ = {};
    write_tx([&](Conn& c) {
      WorldRow row = load_world(c, scope, world_id, true);
      check_rev(row, expected_rev);
      Json doc = edit(*row.doc, out);
      normalise(doc);
      doc["id"] = row.info.id;
      if (allow_unchanged && doc == *row.doc) {
        GateResult r = run_gate(doc, gate);
        out.diagnostics = std::move(r.diagnostics);
        out.rev = row.info.rev;
        out.world = std::move(doc);
        return;
      }
      check_doc_size(versions::canonical(doc), gate);
      GateResult r = gate_or_throw(doc, gate);
      out.diagnostics = std::move(r.diagnostics);
      out.rev = write_graph(c, row, doc, head);
      out.world = std::move(doc);
    });
    if (pending_graph_.doc) graphs_.put(pending_graph_.id, pending_graph_.rev, pending_graph_.doc);
    pending_graph_ = {};
    if (!head.empty()) out.head = head;
    return out;
  }

  GraphWrite patch_world(const Scope& scope, const std::string& world_id, const Json& patch,
                         const std::string& expected_rev, const GateOptions& gate) override {
    if (!patch.is_object() || patch.empty()) {
      throw Error(ErrorCode::kBadInput, "patch: expected an object with any of name, description, cover, visibility");
    }
    for (auto it = patch.begin(); it != patch.end(); ++it) {
      const std::string& k = it.key();
      if (k != "name" && k != "description" && k != "cover" && k != "visibility") {
        throw Error(ErrorCode::kBadInput, "patch." + k + ": not a metadata field (name, description, cover, visibility)");
      }
      if (!it->is_string() && !it->is_null()) throw Error(ErrorCode::kBadInput, "patch." + k + ": expected a string or null");
      if (k == "visibility" && it->is_string() && *it != "private" && *it != "public") {
        throw Error(ErrorCode::kBadInput, "patch.visibility: \"private\" or \"public\"");
      }
    }
    return graph_write(scope, world_id, expected_rev, gate, [&](const Json& doc, GraphWrite&) {
      Json next = doc;
      for (auto it = patch.begin(); it != patch.end(); ++it) {
        if (it->is_null()) {
          next.erase(it.key());
        } else {
          next[it.key()] = *it;
        }
      }
      return next;
    });
  }

  void delete_world(const Scope& scope, const std::string& world_id, const std::string& expected_rev) override {
    check_scope(scope);
    write_tx([&](Conn& c) {
      WorldRow row = load_world(c, scope, world_id, false);
      check_rev(row, expected_rev);
      c.prepare("UPDATE worlds SET deleted_at=?, updated_at=? WHERE seq=?").args(now_rfc3339(), now_rfc3339(), row.seq).run();
    });
  }

  GraphWrite fork_world(const Scope& scope, const std::string& world_id, const std::string& name,
                        const GateOptions& gate) override {
    check_scope(scope);
    if (name.size() > 4000) throw Error(ErrorCode::kBadInput, "name: too long");
    Json doc;
    std::string base_version;  // the source's head: the fork's first manifest is stored against it
    read_tx([&](Conn& c) {
      WorldRow row = load_world(c, scope, world_id, true, true);
      doc = *row.doc;
      base_version = row.info.head;
    });
    doc["id"] = auth::uuid4();
    doc["visibility"] = "private";
    if (!name.empty()) doc["name"] = name;
    return insert_world(scope, std::move(doc), gate, world_id, base_version);
  }

  GraphWrite apply_ops(const Scope& scope, const std::string& world_id, const Json& ops,
                       const std::string& expected_rev, const GateOptions& gate) override {
    check_ops(ops);
    return graph_write(
        scope, world_id, expected_rev, gate,
        [&](const Json& doc, GraphWrite& out) {
          OpsResult r = conjure::apply_ops(doc, ops);
          out.apply_errors = std::move(r.apply_errors);
          return std::move(r.world);
        },
        true);
  }

  GraphWrite put_world(const Scope& scope, const std::string& world_id, const Json& world,
                       const std::string& expected_rev, const GateOptions& gate) override {
    if (!world.is_object()) throw Error(ErrorCode::kBadInput, "world: expected a JSON object");
    return graph_write(scope, world_id, expected_rev, gate, [&](const Json&, GraphWrite&) { return world; });
  }

  // ------------------------------------------------ blobs
  static std::string raw_hash(const std::string& hex) { return auth::from_hex(hex); }
  static std::string hex_hash(const std::string& raw) {
    return auth::to_hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
  }
  static std::string raw_digest(const std::string& text) {
    auth::Digest d = auth::sha256(text);
    return std::string(reinterpret_cast<const char*>(d.data()), d.size());
  }
  // Cache-size estimate of a decoded manifest or bucket.
  static std::size_t decoded_bytes(const Json& v) { return v.is_object() ? 64 * (v.size() + 1) : 256; }

  // Stores `value` (unless present) and returns its id; `base` (a blob id or 0)
  // is the blob it most likely changed from, used for delta encoding. A blob is
  // found by content through the index on the first 6 bytes of its SHA-256.
  std::int64_t put_blob(Conn& c, const Json& value, std::int64_t base) {
    std::string text = versions::canonical(value);
    std::string raw = raw_digest(text);
    {
      Stmt s = c.prepare("SELECT id FROM blobs WHERE substr(hash, 1, 6)=? AND hash=?");
      s.bind_blob(1, std::string_view(raw).substr(0, 6)).bind_blob(2, raw);
      if (s.step()) return s.i64(0);
    }
    std::int64_t stored_base = 0;
    std::string data = text;
    if (base > 0) {
      std::int64_t base_chain = chain_bytes(c, base);
      Json patch;
      if (base_chain >= 0 && versions::make_delta(*load_blob(c, base), value, &patch)) {
        std::string ptext = versions::canonical(patch);
        std::int64_t next = base_chain + static_cast<std::int64_t>(ptext.size());
        // A whole copy is stored again once the patches since the last one pass
        // four times its size: storage stays near the change, reads bounded.
        if (ptext.size() < text.size() && next <= 4 * static_cast<std::int64_t>(text.size())) {
          stored_base = base;
          data = std::move(ptext);
        }
      }
    }
    Stmt s = c.prepare("INSERT INTO blobs(hash, base, data) VALUES (?,?,?)");
    s.bind_blob(1, raw);
    if (stored_base > 0) {
      s.bind(2, stored_base);
    } else {
      s.bind(2, nullptr);
    }
    s.bind_blob(3, data);
    s.run();
    blobs_.put(raw, std::make_shared<const Json>(value), text.size());
    return sqlite3_last_insert_rowid(c.db());
  }

  // Bytes of the patches from blob `id` back to the whole blob it is built on
  // (-1: no such blob).
  std::int64_t chain_bytes(Conn& c, std::int64_t id) {
    Stmt s = c.prepare(
        "WITH RECURSIVE ch(base, n, depth) AS (SELECT base, length(data), 0 FROM blobs WHERE id=?1 "
        "UNION ALL SELECT b.base, length(b.data), ch.depth + 1 FROM blobs b JOIN ch ON b.id=ch.base "
        "WHERE ch.depth < 1000000) "
        "SELECT count(*), coalesce(sum(CASE WHEN base IS NULL THEN 0 ELSE n END), 0) FROM ch");
    s.bind(1, id);
    if (!s.step() || s.i64(0) == 0) return -1;
    return s.i64(1);
  }

  // The blob `id`, its delta chain replayed. The cache is keyed by content hash,
  // so it stays right whatever becomes of the ids of a rolled-back transaction.
  std::shared_ptr<const Json> load_blob(Conn& c, std::int64_t id) {
    std::vector<std::string> patches;  // newest first
    std::string first_hash;
    std::int64_t cur = id;
    Json value;
    for (;;) {
      Stmt s = c.prepare("SELECT hash, base, data FROM blobs WHERE id=?");
      s.bind(1, cur);
      if (!s.step()) {
        throw Error(ErrorCode::kStorage,
                    "the store is missing content blob " + std::to_string(cur) + " (run `conjure store check`)");
      }
      std::string h = s.blob(0);
      if (first_hash.empty()) first_hash = h;
      if (auto v = blobs_.get(h)) {
        if (patches.empty()) return v;
        value = *v;
        break;
      }
      if (s.is_null(1)) {
        value = parse_stored(s.blob(2), "content blob");
        break;
      }
      patches.push_back(s.blob(2));
      cur = s.i64(1);
      if (patches.size() > 1000000) throw Error(ErrorCode::kStorage, "a content blob's delta chain is damaged");
    }
    for (auto it = patches.rbegin(); it != patches.rend(); ++it) {
      versions::apply_delta(value, parse_stored(*it, "content delta"));
    }
    std::size_t bytes = decoded_bytes(value);
    auto out = std::make_shared<const Json>(std::move(value));
    blobs_.put(first_hash, out, bytes);
    return out;
  }

  // ------------------------------------------------ versions
  // A manifest: {v: 2, rest, order, sb, s: {bucket: blob id}, eb, e: {...}}; a
  // bucket blob maps each key to its part's blob id. Equal content has one id,
  // so equal ids mean equal parts.

  // A version id as stored: a lowercase UUID as its 16 bytes (`packed`), any
  // other id as its text.
  static std::string stored_version_id(const std::string& id, bool* packed) {
    std::string hex;
    bool uuid = id.size() == 36;
    for (std::size_t k = 0; uuid && k < id.size(); ++k) {
      char ch = id[k];
      if (k == 8 || k == 13 || k == 18 || k == 23) {
        uuid = ch == '-';
      } else if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')) {
        hex += ch;
      } else {
        uuid = false;
      }
    }
    *packed = uuid;
    return uuid ? auth::from_hex(hex) : id;
  }
  static void bind_version_id(Stmt& s, int i, const std::string& id) {
    bool packed = false;
    std::string stored = stored_version_id(id, &packed);
    if (packed) {
      s.bind_blob(i, stored);
    } else {
      s.bind(i, stored);
    }
  }
  // The version id in column `col` (NULL: empty), its typeof() in `col + 1`.
  static std::string version_id_at(const Stmt& s, int col) {
    if (s.is_null(col)) return {};
    if (s.text(col + 1) != "blob") return s.text(col);
    std::string hex = hex_hash(s.blob(col));
    return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
           hex.substr(20);
  }
  // A version time as stored: milliseconds since the epoch when `at` is in the
  // store's own RFC 3339 form (and reads back identical), else its text.
  static void bind_time(Stmt& s, int i, const std::string& at) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0;
    char z = 0;
    if (at.size() == 24 &&
        std::sscanf(at.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &y, &mo, &d, &h, &mi, &sec, &ms, &z) == 8 && z == 'Z') {
      std::tm tm{};
      tm.tm_year = y - 1900;
      tm.tm_mon = mo - 1;
      tm.tm_mday = d;
      tm.tm_hour = h;
      tm.tm_min = mi;
      tm.tm_sec = sec;
      std::int64_t secs = static_cast<std::int64_t>(timegm(&tm));
      if (secs >= 0 && format_time(secs, ms) == at) {
        s.bind(i, secs * 1000 + ms);
        return;
      }
    }
    s.bind(i, at);
  }
  static std::string time_at(const Stmt& s, int col) {
    if (s.text(col + 1) != "integer") return s.text(col);
    std::int64_t v = s.i64(col);
    return format_time(v / 1000, static_cast<int>(v % 1000));
  }
  // A new version id: a UUID (version 7) led by `ms`, its time in milliseconds
  // since the epoch, so ids arrive in order and the id index grows at its end.
  static std::string new_version_id(std::int64_t ms) {
    std::string b = auth::random_bytes(16);
    for (int i = 0; i < 6; ++i) b[i] = static_cast<char>((ms >> (40 - 8 * i)) & 0xff);
    b[6] = static_cast<char>((b[6] & 0x0f) | 0x70);
    b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
    std::string hex = hex_hash(b);
    return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
           hex.substr(20);
  }
  // The milliseconds leading a version-7 UUID stored as 16 bytes (-1: none).
  static std::int64_t uuid7_ms(const std::string& raw) {
    if (raw.size() != 16 || (static_cast<unsigned char>(raw[6]) >> 4) != 7) return -1;
    std::int64_t ms = 0;
    for (int i = 0; i < 6; ++i) ms = ms << 8 | static_cast<unsigned char>(raw[i]);
    return ms;
  }
  static VersionInfo version_from(Stmt& s) {
    VersionInfo v;
    v.id = version_id_at(s, 0);
    v.world_id = s.text(2);
    v.parent_id = version_id_at(s, 3);
    v.message = s.text(5);
    if (s.is_null(6)) {  // the time leads the id
      std::int64_t ms = uuid7_ms(s.blob(0));
      v.created_at = format_time(ms / 1000, static_cast<int>(ms % 1000));
    } else {
      v.created_at = time_at(s, 6);
    }
    return v;
  }
#define VERSION_COLS                                                                                     \
  "v.id, typeof(v.id), w.id, p.id, typeof(p.id), v.message, v.created_at, typeof(v.created_at), v.seq " \
  "FROM versions v JOIN worlds w ON w.seq=v.world LEFT JOIN versions p ON p.seq=v.parent"

  // The version `version_id` of `world_id` and its seq (kNotFound otherwise).
  VersionInfo load_version(Conn& c, const std::string& world_id, const std::string& version_id, std::int64_t* seq) {
    check_id(version_id, "version");
    Stmt s = c.prepare("SELECT " VERSION_COLS " WHERE v.id=? AND w.id=?");
    bind_version_id(s, 1, version_id);
    s.bind(2, world_id);
    if (!s.step()) throw Error(ErrorCode::kNotFound, "version not found");
    VersionInfo v = version_from(s);
    if (seq) *seq = s.i64(8);
    return v;
  }

  // The cache key of a version's root manifest: "v" and its stored id (content
  // keys are raw SHA-256 digests).
  static std::string root_key(const std::string& stored_id) {
    std::string key(1, 'v');
    key += stored_id;
    return key;
  }

  // The root manifest of version `seq`: kept in its row, whole (root_chain 0)
  // or as a merge patch against its parent's root. Cached by version id (a
  // fresh UUID, never reused).
  std::shared_ptr<const Json> load_root(Conn& c, std::int64_t seq) {
    std::vector<std::string> patches;  // newest first
    std::string first_key;
    std::int64_t cur = seq;
    Json value;
    for (;;) {
      Stmt s = c.prepare("SELECT id, parent, root_chain, root FROM versions WHERE seq=?");
      s.bind(1, cur);
      if (!s.step()) throw Error(ErrorCode::kStorage, "a version's manifest chain is damaged (run `conjure store check`)");
      std::string key = root_key(s.blob(0));
      if (first_key.empty()) first_key = key;
      if (auto v = blobs_.get(key)) {
        if (patches.empty()) return v;
        value = *v;
        break;
      }
      if (s.i64(2) == 0) {
        value = parse_stored(s.blob(3), "version manifest");
        break;
      }
      if (s.is_null(1)) throw Error(ErrorCode::kStorage, "a version's manifest chain is damaged");
      patches.push_back(s.blob(3));
      cur = s.i64(1);
      if (patches.size() > 1000000) throw Error(ErrorCode::kStorage, "a version's manifest chain is damaged");
    }
    for (auto it = patches.rbegin(); it != patches.rend(); ++it) {
      versions::apply_delta(value, parse_stored(*it, "manifest delta"));
    }
    auto out = std::make_shared<const Json>(std::move(value));
    blobs_.put(first_key, out, 32 * (out->value("sb", 1) + out->value("eb", 1) + 8));
    return out;
  }

  // Inserts a version row holding `root`, as a patch against its parent's root
  // under the same rule as blob deltas (a patch is never empty of bytes, so a
  // chain above 0 marks one); returns its seq.
  std::int64_t insert_version(Conn& c, const VersionInfo& v, std::int64_t world_seq, std::int64_t parent_seq,
                              const Json& root) {
    std::string text = versions::canonical(root);
    std::string data = text;
    std::int64_t chain = 0;
    if (parent_seq > 0) {
      std::int64_t base_chain = -1;
      {
        Stmt s = c.prepare("SELECT root_chain FROM versions WHERE seq=?");
        s.bind(1, parent_seq);
        if (s.step()) base_chain = s.i64(0);
      }
      Json patch;
      if (base_chain >= 0 && versions::make_delta(*load_root(c, parent_seq), root, &patch)) {
        std::string ptext = versions::canonical(patch);
        std::int64_t next = base_chain + static_cast<std::int64_t>(ptext.size());
        if (ptext.size() < text.size() && next <= 4 * static_cast<std::int64_t>(text.size())) {
          chain = next;
          data = std::move(ptext);
        }
      }
    }
    Stmt s = c.prepare(
        "INSERT INTO versions(id, world, parent, message, created_at, root_chain, root) VALUES (?,?,?,?,?,?,?)");
    bind_version_id(s, 1, v.id);
    s.bind(2, world_seq);
    if (parent_seq > 0) {
      s.bind(3, parent_seq);
    } else {
      s.bind(3, nullptr);
    }
    s.bind(4, v.message);
    bool packed = false;
    std::int64_t ms = uuid7_ms(stored_version_id(v.id, &packed));
    if (packed && ms >= 0 && format_time(ms / 1000, static_cast<int>(ms % 1000)) == v.created_at) {
      s.bind(5, nullptr);  // read back from the id
    } else {
      bind_time(s, 5, v.created_at);
    }
    s.bind(6, chain).bind_blob(7, data);
    s.run();
    blobs_.put(root_key(stored_version_id(v.id, &packed)), std::make_shared<const Json>(root),
               32 * (root.value("sb", 1) + root.value("eb", 1) + 8));
    return sqlite3_last_insert_rowid(c.db());
  }

  // Part ids of a bucket level: key -> blob id, over all buckets.
  std::map<std::string, std::int64_t> bucket_entries(Conn& c, const Json& buckets) {
    std::map<std::string, std::int64_t> out;
    if (!buckets.is_object()) return out;
    for (auto it = buckets.begin(); it != buckets.end(); ++it) {
      auto b = load_blob(c, it->get<std::int64_t>());
      for (auto e = b->begin(); e != b->end(); ++e) out.emplace(e.key(), e->get<std::int64_t>());
    }
    return out;
  }

  // The blob id of `key` in a manifest level (0: absent).
  std::int64_t part_in(Conn& c, const Json& root, const char* level, const char* count, const std::string& key) {
    if (!root.is_object() || !root.contains(level)) return 0;
    std::size_t nb = root.value(count, static_cast<std::size_t>(1));
    std::string bucket = versions::bucket_of(key, nb);
    auto it = root[level].find(bucket);
    if (it == root[level].end()) return 0;
    auto b = load_blob(c, it->get<std::int64_t>());
    auto e = b->find(key);
    return e == b->end() ? 0 : e->get<std::int64_t>();
  }

  // Stores the parts of `doc` and returns its manifest; `base` (a manifest or
  // null) is the one the snapshot most likely changed from.
  Json store_parts(Conn& c, const Json& doc, const Json& base) {
    versions::Parts parts = versions::split_world(doc);
    auto level = [&](const char* name, const char* count, const std::vector<std::pair<std::string, const Json*>>& items,
                     Json& root) {
      std::size_t nb = versions::bucket_count(items.size());
      bool same_layout = base.is_object() && base.value(count, static_cast<std::size_t>(0)) == nb && base.contains(name);
      std::map<std::string, std::int64_t> prev_parts;
      if (same_layout) prev_parts = bucket_entries(c, base.at(name));
      std::map<std::string, Json> buckets;
      for (const auto& [key, value] : items) {
        auto prev = prev_parts.find(key);
        buckets[versions::bucket_of(key, nb)][key] = put_blob(c, *value, prev == prev_parts.end() ? 0 : prev->second);
      }
      Json level_json = Json::object();
      for (auto& [b, entries] : buckets) {
        std::int64_t prev = 0;
        if (same_layout) {
          auto it = base.at(name).find(b);
          if (it != base.at(name).end()) prev = it->get<std::int64_t>();
        }
        level_json[b] = put_blob(c, entries, prev);
      }
      root[count] = nb;
      root[name] = std::move(level_json);
    };
    Json root = {{"v", 2}};
    std::vector<std::pair<std::string, const Json*>> states, events;
    for (const auto& [id, s] : parts.states) states.emplace_back(id, &s);
    Json order = Json::array();
    for (const auto& [name, e] : parts.events) {
      events.emplace_back(name, &e);
      order.push_back(name);
    }
    level("s", "sb", states, root);
    level("e", "eb", events, root);
    auto base_of = [&](const char* k) { return base.is_object() ? base.value(k, static_cast<std::int64_t>(0)) : 0; };
    root["order"] = put_blob(c, order, base_of("order"));
    root["rest"] = put_blob(c, parts.rest, base_of("rest"));
    return root;
  }

  Json materialise(Conn& c, const Json& root) {
    versions::Parts parts;
    parts.rest = *load_blob(c, root.at("rest").get<std::int64_t>());
    for (auto& [id, b] : bucket_entries(c, root.at("s"))) parts.states.emplace(id, *load_blob(c, b));
    auto events = bucket_entries(c, root.at("e"));
    for (const Json& name : *load_blob(c, root.at("order").get<std::int64_t>())) {
      auto it = events.find(name.get<std::string>());
      if (it == events.end()) throw Error(ErrorCode::kStorage, "a version's event list is damaged");
      parts.events.emplace_back(it->first, *load_blob(c, it->second));
    }
    return versions::join_world(std::move(parts));
  }

  // Writes a version of `row` holding `doc`. Its parts are stored against the
  // parent's manifest; with no parent, against that of version `base_version`
  // (an id or empty: a fork's source head), so a fork shares them by reference.
  VersionInfo write_snapshot(Conn& c, WorldRow& row, const Json& doc, const std::string& parent_id,
                             const std::string& message, const std::string& base_version) {
    std::string parent = parent_id.empty() ? row.info.head : parent_id;
    std::int64_t parent_seq = 0, base_seq = 0;
    if (!parent.empty()) {
      load_version(c, row.info.id, parent, &parent_seq);
      base_seq = parent_seq;
    } else if (!base_version.empty()) {
      Stmt s = c.prepare("SELECT seq FROM versions WHERE id=?");
      bind_version_id(s, 1, base_version);
      if (s.step()) base_seq = s.i64(0);
    }
    Json root = store_parts(c, doc, base_seq > 0 ? *load_root(c, base_seq) : Json());
    VersionInfo v;
    std::int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
    v.id = new_version_id(ms);
    v.world_id = row.info.id;
    v.parent_id = parent;
    v.message = message;
    v.created_at = format_time(ms / 1000, static_cast<int>(ms % 1000));
    insert_version(c, v, row.seq, parent_seq, root);
    if (parent == row.info.head) {
      c.prepare("UPDATE worlds SET head_version_id=? WHERE seq=?").args(v.id, row.seq).run();
      v.head = true;
    }
    return v;
  }

  // Migration 3: re-snapshots every schema-2 version (legacy_versions, whose
  // manifests and delta bases name blobs by hex SHA-256) into the compact
  // layout, in seq order, keeping ids, worlds, parents, messages and times.
  void convert_legacy_versions(Conn& c) {
    std::unordered_map<std::string, std::shared_ptr<const Json>> cache;  // raw hash -> value
    auto legacy_blob = [&](const std::string& raw) {
      if (auto it = cache.find(raw); it != cache.end()) return it->second;
      std::vector<std::string> patches;  // newest first
      std::string cur = raw;
      Json value;
      for (;;) {
        if (auto it = cache.find(cur); it != cache.end()) {
          value = *it->second;
          break;
        }
        Stmt s = c.prepare("SELECT base, data FROM legacy_blobs WHERE hash=?");
        s.bind_blob(1, cur);
        if (!s.step()) throw Error(ErrorCode::kStorage, "upgrading the store: missing content blob " + hex_hash(cur));
        if (s.is_null(0)) {
          value = parse_stored(s.blob(1), "content blob");
          break;
        }
        patches.push_back(s.blob(1));
        cur = s.blob(0);
        if (patches.size() > 1000000) throw Error(ErrorCode::kStorage, "a content blob's delta chain is damaged");
      }
      for (auto it = patches.rbegin(); it != patches.rend(); ++it) {
        versions::apply_delta(value, parse_stored(*it, "content delta"));
      }
      if (cache.size() > 100000) cache.clear();
      auto out = std::make_shared<const Json>(std::move(value));
      cache[raw] = out;
      return out;
    };
    auto ref = [&](const Json& hex) { return legacy_blob(raw_hash(hex.get<std::string>())); };
    auto entries = [&](const Json& level) {
      std::map<std::string, std::string> out;  // key -> raw hash
      for (auto it = level.begin(); it != level.end(); ++it) {
        auto b = ref(*it);
        for (auto e = b->begin(); e != b->end(); ++e) out.emplace(e.key(), raw_hash(e->get<std::string>()));
      }
      return out;
    };
    Stmt s = c.prepare(
        "SELECT lv.id, w.seq, coalesce(lv.parent_id, ''), lv.root, lv.message, lv.created_at "
        "FROM legacy_versions lv JOIN worlds w ON w.id=lv.world_id ORDER BY lv.seq");
    while (s.step()) {
      VersionInfo v;
      v.id = s.text(0);
      std::int64_t world_seq = s.i64(1);
      std::string parent = s.text(2);
      auto old_root = legacy_blob(s.blob(3));
      v.message = s.text(4);
      v.created_at = s.text(5);
      versions::Parts parts;
      parts.rest = *ref(old_root->at("rest"));
      for (auto& [id, h] : entries(old_root->at("s"))) parts.states.emplace(id, *legacy_blob(h));
      auto events = entries(old_root->at("e"));
      for (const Json& name : *ref(old_root->at("order"))) {
        auto it = events.find(name.get<std::string>());
        if (it == events.end()) throw Error(ErrorCode::kStorage, "upgrading the store: a version's event list is damaged");
        parts.events.emplace_back(it->first, *legacy_blob(it->second));
      }
      std::int64_t parent_seq = 0;
      if (!parent.empty()) {
        Stmt p = c.prepare("SELECT seq FROM versions WHERE id=?");
        bind_version_id(p, 1, parent);
        if (!p.step()) throw Error(ErrorCode::kStorage, "upgrading the store: version " + v.id + " has a missing parent");
        parent_seq = p.i64(0);
      }
      Json root = store_parts(c, versions::join_world(std::move(parts)), parent_seq > 0 ? *load_root(c, parent_seq) : Json());
      insert_version(c, v, world_seq, parent_seq, root);
    }
  }

  VersionInfo snapshot(const Scope& scope, const std::string& world_id, const std::string& parent_id,
                       const std::string& message) override {
    check_scope(scope);
    if (message.size() > 10000) throw Error(ErrorCode::kBadInput, "message: at most 10000 characters");
    VersionInfo v;
    write_tx([&](Conn& c) {
      WorldRow row = load_world(c, scope, world_id, true);
      v = write_snapshot(c, row, *row.doc, parent_id, message, "");
    });
    return v;
  }

  VersionTree list_versions(const Scope& scope, const std::string& world_id) override {
    check_scope(scope);
    VersionTree tree;
    read_tx([&](Conn& c) {
      WorldRow row = load_world(c, scope, world_id, false);
      tree.head = row.info.head;
      Stmt s = c.prepare("SELECT " VERSION_COLS " WHERE v.world=? ORDER BY v.seq");
      s.args(row.seq);
      while (s.step()) {
        tree.data.push_back(version_from(s));
        tree.data.back().head = tree.data.back().id == tree.head;
      }
    });
    return tree;
  }

  VersionInfo get_version(const Scope& scope, const std::string& world_id, const std::string& version_id,
                          Json* world) override {
    check_scope(scope);
    VersionInfo v;
    read_tx([&](Conn& c) {
      WorldRow row = load_world(c, scope, world_id, false);
      std::int64_t seq = 0;
      v = load_version(c, world_id, version_id, &seq);
      v.head = v.id == row.info.head;
      if (world) *world = materialise(c, *load_root(c, seq));
    });
    return v;
  }

  GraphWrite checkout(const Scope& scope, const std::string& world_id, const std::string& version_id,
                      const std::string& expected_rev, const GateOptions& gate) override {
    check_scope(scope);
    check_id(version_id, "version");
    GraphWrite out;
    pending_graph_ = {};
    write_tx([&](Conn& c) {
      WorldRow row = load_world(c, scope, world_id, true);
      check_rev(row, expected_rev);
      std::int64_t seq = 0;
      load_version(c, world_id, version_id, &seq);
      Json doc = materialise(c, *load_root(c, seq));
      normalise(doc);
      doc["id"] = row.info.id;
      GateResult r = gate_or_throw(doc, gate);
      out.diagnostics = std::move(r.diagnostics);
      out.rev = write_graph(c, row, doc, version_id);
      out.head = version_id;
      out.world = std::move(doc);
    });
    if (pending_graph_.doc) graphs_.put(pending_graph_.id, pending_graph_.rev, pending_graph_.doc);
    pending_graph_ = {};
    return out;
  }

  // Keys whose part differs between two manifests' levels: walks bucket ids
  // first, so equal buckets cost one comparison.
  void changed_keys(Conn& c, const Json& ra, const Json& rb, const char* level, const char* count,
                    std::set<std::string>* in_a, std::set<std::string>* in_b) {
    using Entries = std::map<std::string, std::int64_t>;
    auto compare = [&](const Entries& ea, const Entries& eb) {
      for (auto& [k, h] : ea) {
        auto it = eb.find(k);
        if (it == eb.end() || it->second != h) in_a->insert(k);
      }
      for (auto& [k, h] : eb) {
        auto it = ea.find(k);
        if (it == ea.end() || it->second != h) in_b->insert(k);
      }
    };
    if (ra.value(count, 0) == rb.value(count, 0)) {
      const Json& la = ra.at(level);
      const Json& lb = rb.at(level);
      // Both levels are sorted maps: walk them side by side.
      auto ia = la.begin(), ib = lb.begin();
      while (ia != la.end() || ib != lb.end()) {
        if (ia != la.end() && ib != lb.end() && ia.key() == ib.key() && *ia == *ib) {
          ++ia;
          ++ib;
          continue;  // equal bucket hashes: nothing below them changed
        }
        Json one_a = Json::object(), one_b = Json::object();
        if (ib == lb.end() || (ia != la.end() && ia.key() < ib.key())) {
          one_a[ia.key()] = *ia;
          ++ia;
        } else if (ia == la.end() || ib.key() < ia.key()) {
          one_b[ib.key()] = *ib;
          ++ib;
        } else {
          one_a[ia.key()] = *ia;
          one_b[ib.key()] = *ib;
          ++ia;
          ++ib;
        }
        compare(bucket_entries(c, one_a), bucket_entries(c, one_b));
      }
    } else {
      compare(bucket_entries(c, ra.at(level)), bucket_entries(c, rb.at(level)));
    }
  }

  // A world holding only the given states and events of a version (plus its rest).
  Json partial_world(Conn& c, const Json& root, const std::set<std::string>& states,
                     const std::set<std::string>& events) {
    versions::Parts parts;
    parts.rest = *load_blob(c, root.at("rest").get<std::int64_t>());
    for (const std::string& id : states) {
      std::int64_t h = part_in(c, root, "s", "sb", id);
      if (h > 0) parts.states.emplace(id, *load_blob(c, h));
    }
    for (const std::string& name : events) {
      std::int64_t h = part_in(c, root, "e", "eb", name);
      if (h > 0) parts.events.emplace_back(name, *load_blob(c, h));
    }
    Json w = versions::join_world(std::move(parts));
    // Keep the containers even when empty so both sides have the same shape.
    if (w.is_object() && w.contains("scene") && w["scene"].is_object()) {
      if (!w["scene"].contains("states")) w["scene"]["states"] = Json::object();
      if (!w["scene"].contains("events")) w["scene"]["events"] = Json::array();
    }
    return w;
  }

  Json diff(const Scope& scope, const std::string& world_id, const std::string& a, const std::string& b) override {
    check_scope(scope);
    Json result;
    read_tx([&](Conn& c) {
      load_world(c, scope, world_id, false);
      std::int64_t seq_a = 0, seq_b = 0;
      load_version(c, world_id, a, &seq_a);
      load_version(c, world_id, b, &seq_b);
      auto ra = load_root(c, seq_a);
      auto rb = load_root(c, seq_b);
      std::set<std::string> sa, sb, ea, eb;
      if (seq_a != seq_b) {
        changed_keys(c, *ra, *rb, "s", "sb", &sa, &sb);
        changed_keys(c, *ra, *rb, "e", "eb", &ea, &eb);
      }
      result = diff_worlds(partial_world(c, *ra, sa, ea), partial_world(c, *rb, sb, eb));
    });
    result["a"] = a;
    result["b"] = b;
    return result;
  }

  // ------------------------------------------------ idempotency
  IdemBegin idem_begin(const Scope& scope, const std::string& key, const std::string& request_hash) override {
    check_scope(scope);
    if (key.empty() || key.size() > 255) throw Error(ErrorCode::kBadInput, "Idempotency-Key: 1-255 characters");
    if (request_hash.size() > 1024) throw Error(ErrorCode::kBadInput, "request hash too long");
    IdemBegin out;
    std::int64_t now = unix_now();
    write_tx([&](Conn& c) {
      // Expired records go first (a bounded batch per call keeps the table small).
      c.prepare("DELETE FROM idempotency WHERE (app_id, mode, key) IN "
                "(SELECT app_id, mode, key FROM idempotency WHERE created_unix<=? LIMIT 100)")
          .args(now - kIdempotencyTtl)
          .run();
      Stmt s = c.prepare(
          "SELECT request_hash, state, status, body, created_unix, updated_unix FROM idempotency "
          "WHERE app_id=? AND mode=? AND key=?");
      s.args(scope.app_id, scope.mode, key);
      bool found = s.step();
      bool take_over = false;
      if (found) {
        bool expired = s.i64(4) <= now - kIdempotencyTtl;
        bool abandoned = s.text(1) == "in_flight" && s.i64(5) <= now - kIdempotencyInFlightLease;
        if (expired || abandoned) {
          take_over = true;
        } else if (s.text(0) != request_hash) {
          out.kind = IdemBegin::Kind::kConflict;
        } else if (s.text(1) == "in_flight") {
          out.kind = IdemBegin::Kind::kInFlight;
        } else {
          out.kind = IdemBegin::Kind::kReplay;
          out.status = static_cast<int>(s.i64(2));
          out.body = s.text(3);
        }
      }
      if (!found || take_over) {
        out.kind = IdemBegin::Kind::kNew;
        c.prepare(
             "INSERT OR REPLACE INTO idempotency(app_id, mode, key, request_hash, state, status, body, created_unix, "
             "updated_unix) VALUES (?,?,?,?,'in_flight',0,'',?,?)")
            .args(scope.app_id, scope.mode, key, request_hash, now, now)
            .run();
      }
    });
    return out;
  }

  void idem_complete(const Scope& scope, const std::string& key, int status, const std::string& body) override {
    check_scope(scope);
    if (status >= 500) {
      idem_release(scope, key);
      return;
    }
    if (status < 100 || status > 599) throw Error(ErrorCode::kBadInput, "status: an HTTP status code");
    write_tx([&](Conn& c) {
      Stmt s = c.prepare(
          "UPDATE idempotency SET state='done', status=?, body=?, updated_unix=? "
          "WHERE app_id=? AND mode=? AND key=? AND state='in_flight'");
      s.args(status, body, unix_now(), scope.app_id, scope.mode, key).run();
      if (s.changes() == 0) throw Error(ErrorCode::kNotFound, "no request in flight under this idempotency key");
    });
  }

  void idem_release(const Scope& scope, const std::string& key) override {
    check_scope(scope);
    write_tx([&](Conn& c) {
      c.prepare("DELETE FROM idempotency WHERE app_id=? AND mode=? AND key=? AND state='in_flight'")
          .args(scope.app_id, scope.mode, key)
          .run();
    });
  }

  // ------------------------------------------------ meters
  std::int64_t meter_limit(Conn& c, const std::string& app_id, const std::string& meter) {
    Stmt s = c.prepare("SELECT lim FROM meter_limits WHERE app_id=? AND meter=?");
    s.args(app_id, meter);
    return s.step() ? s.i64(0) : options_.default_meter_limit;
  }

  MeterState meter_state(Conn& c, const std::string& app_id, const std::string& day, const std::string& meter) {
    MeterState m;
    m.meter = meter;
    m.limit = meter_limit(c, app_id, meter);
    Stmt s = c.prepare("SELECT used, reserved FROM meters WHERE app_id=? AND day=? AND meter=?");
    s.args(app_id, day, meter);
    if (s.step()) {
      m.used = s.i64(0);
      m.reserved = s.i64(1);
    }
    return m;
  }

  static void check_meter(const std::string& meter) {
    if (!quota::is_meter(meter)) {
      throw Error(ErrorCode::kBadInput, "meter: one of generate, edit, session, session_minutes");
    }
  }

  std::string day_or_today(const std::string& day) {
    if (day.empty()) return utc_day();
    if (!quota::is_day(day)) throw Error(ErrorCode::kBadInput, "day: expected YYYY-MM-DD");
    return day;
  }

  Reservation meter_reserve(const std::string& app_id, const std::string& meter, std::int64_t amount,
                            const std::string& day) override {
    check_id(app_id, "app");
    check_meter(meter);
    if (amount <= 0 || amount > kMaxMeterAmount) throw Error(ErrorCode::kBadInput, "amount: a positive number");
    Reservation r{auth::uuid4(), app_id, meter, day_or_today(day), amount};
    write_tx([&](Conn& c) { reserve_in(c, r); });
    return r;
  }

  // Reserves r.amount of r.meter inside the caller's write transaction.
  void reserve_in(Conn& c, const Reservation& r) {
    const std::string& app_id = r.app_id;
    const std::string& meter = r.meter;
    std::int64_t amount = r.amount;
    {
      MeterState m = meter_state(c, app_id, r.day, meter);
      if (m.used + m.reserved + amount > m.limit) {
        throw Error(ErrorCode::kQuotaExceeded, "quota exceeded: " + meter + " would reach " +
                                                   std::to_string(m.used + m.reserved + amount) + " of a daily limit of " +
                                                   std::to_string(m.limit) + "; nothing was charged");
      }
      c.prepare(
           "INSERT INTO meters(app_id, day, meter, used, reserved) VALUES (?,?,?,0,?) "
           "ON CONFLICT(app_id, day, meter) DO UPDATE SET reserved=reserved+excluded.reserved")
          .args(app_id, r.day, meter, amount)
          .run();
      c.prepare("INSERT INTO reservations(id, app_id, day, meter, amount, state, created_at) VALUES (?,?,?,?,?,'held',?)")
          .args(r.id, app_id, r.day, meter, amount, now_rfc3339())
          .run();
    }
  }

  MeterState settle(const std::string& reservation_id, std::int64_t used, bool refund) {
    check_id(reservation_id, "reservation");
    MeterState out;
    write_tx([&](Conn& c) { out = settle_in(c, reservation_id, used, refund); });
    return out;
  }

  // Commits (or refunds) a held reservation inside the caller's write transaction.
  MeterState settle_in(Conn& c, const std::string& reservation_id, std::int64_t used, bool refund) {
    MeterState out;
    {
      std::string app_id, day, meter, state;
      std::int64_t amount = 0;
      {
        Stmt s = c.prepare("SELECT app_id, day, meter, amount, state FROM reservations WHERE id=?");
        s.args(reservation_id);
        if (!s.step()) throw Error(ErrorCode::kNotFound, "reservation not found");
        app_id = s.text(0);
        day = s.text(1);
        meter = s.text(2);
        amount = s.i64(3);
        state = s.text(4);
      }
      if (state != "held") throw Error(ErrorCode::kConflict, "the reservation was already " + state);
      std::int64_t charge = refund ? 0 : (used < 0 ? amount : used);
      if (charge > amount) throw Error(ErrorCode::kBadInput, "used: more than was reserved");
      c.prepare("UPDATE meters SET used=used+?, reserved=reserved-? WHERE app_id=? AND day=? AND meter=?")
          .args(charge, amount, app_id, day, meter)
          .run();
      c.prepare("UPDATE reservations SET state=?, charged=? WHERE id=?")
          .args(refund ? "refunded" : "committed", charge, reservation_id)
          .run();
      out = meter_state(c, app_id, day, meter);
    }
    return out;
  }

  MeterState meter_commit(const std::string& reservation_id, std::int64_t used) override {
    return settle(reservation_id, used, false);
  }
  MeterState meter_refund(const std::string& reservation_id) override { return settle(reservation_id, 0, true); }

  std::vector<MeterState> meter_usage(const std::string& app_id, const std::string& day) override {
    std::string d = day_or_today(day);
    std::vector<MeterState> out;
    read_tx([&](Conn& c) {
      for (auto m : quota::kMeters) out.push_back(meter_state(c, app_id, d, std::string(m)));
    });
    return out;
  }

  void set_meter_limit(const std::string& app_id, const std::string& meter, std::int64_t limit) override {
    check_id(app_id, "app");
    check_meter(meter);
    if (limit < 0 || limit > kMaxMeterAmount) throw Error(ErrorCode::kBadInput, "limit: a non-negative number");
    write_tx([&](Conn& c) {
      c.prepare("INSERT OR REPLACE INTO meter_limits(app_id, meter, lim) VALUES (?,?,?)").args(app_id, meter, limit).run();
    });
  }

  // ------------------------------------------------ jobs
#define JOB_COLS \
  "id, app_id, mode, kind, status, payload, coalesce(result, 'null'), coalesce(error, ''), coalesce(worker, ''), created_at, updated_at, attempts"
  static Job job_from(Stmt& s) {
    Job j;
    j.id = s.text(0);
    j.app_id = s.text(1);
    j.mode = s.text(2);
    j.kind = s.text(3);
    j.status = s.text(4);
    j.payload = parse_stored(s.text(5), "job payload");
    j.result = parse_stored(s.text(6), "job result");
    j.error = s.text(7);
    j.worker = s.text(8);
    j.created_at = s.text(9);
    j.updated_at = s.text(10);
    j.attempts = static_cast<int>(s.i64(11));
    return j;
  }

  Job load_job(Conn& c, const std::string& job_id) {
    check_id(job_id, "job");
    Stmt s = c.prepare("SELECT " JOB_COLS " FROM jobs WHERE id=?");
    s.args(job_id);
    if (!s.step()) throw Error(ErrorCode::kNotFound, "job not found");
    return job_from(s);
  }

  Job create_job(const Scope& scope, const std::string& kind, const Json& payload) override {
    check_scope(scope);
    if (kind.empty() || kind.size() > 100) throw Error(ErrorCode::kBadInput, "kind: 1-100 characters");
    Job j;
    write_tx([&](Conn& c) {
      std::string id = auth::uuid4(), now = now_rfc3339();
      c.prepare("INSERT INTO jobs(id, app_id, mode, kind, status, payload, created_at, updated_at) VALUES (?,?,?,?,'queued',?,?,?)")
          .args(id, scope.app_id, scope.mode, kind, versions::canonical(payload), now, now)
          .run();
      j = load_job(c, id);
    });
    return j;
  }

  Job get_job(const Scope& scope, const std::string& job_id) override {
    check_scope(scope);
    Job j;
    read_tx([&](Conn& c) { j = load_job(c, job_id); });
    if (j.app_id != scope.app_id || j.mode != scope.mode) throw Error(ErrorCode::kNotFound, "job not found");
    return j;
  }

  std::optional<Job> claim_job(const std::string& worker, int lease_seconds) override {
    if (lease_seconds < 1) throw Error(ErrorCode::kBadInput, "lease_seconds: at least 1");
    std::optional<Job> out;
    std::int64_t now = unix_now();
    write_tx([&](Conn& c) {
      std::string id;
      {
        Stmt s = c.prepare(
            "SELECT id FROM jobs WHERE status='queued' OR (status='running' AND locked_until<?) ORDER BY seq LIMIT 1");
        s.args(now);
        if (!s.step()) return;
        id = s.text(0);
      }
      c.prepare("UPDATE jobs SET status='running', worker=?, attempts=attempts+1, locked_until=?, updated_at=? WHERE id=?")
          .args(worker, now + lease_seconds, now_rfc3339(), id)
          .run();
      out = load_job(c, id);
    });
    return out;
  }

  // Ends a job that has not ended yet (kConflict otherwise), in the caller's transaction.
  Job finish_job_in(Conn& c, const std::string& job_id, const char* status, const Json* result,
                    const std::string& error) {
    Job cur = load_job(c, job_id);
    if (cur.status == "succeeded" || cur.status == "failed") {
      throw Error(ErrorCode::kConflict, "the job already " + cur.status);
    }
    c.prepare("UPDATE jobs SET status=?, result=?, error=?, locked_until=0, updated_at=? WHERE id=?")
        .bind(1, status)
        .bind(2, result ? versions::canonical(*result) : std::string("null"))
        .bind_opt(3, error)
        .bind(4, now_rfc3339())
        .bind(5, job_id)
        .run();
    return load_job(c, job_id);
  }

  Job finish_job(const std::string& job_id, const char* status, const Json* result, const std::string& error) {
    Job j;
    write_tx([&](Conn& c) { j = finish_job_in(c, job_id, status, result, error); });
    return j;
  }

  Job complete_job(const std::string& job_id, const Json& result) override {
    return finish_job(job_id, "succeeded", &result, "");
  }
  Job fail_job(const std::string& job_id, const std::string& error) override {
    return finish_job(job_id, "failed", nullptr, error.empty() ? "failed" : error);
  }

  GenerationDone complete_generation_job(const std::string& job_id, const Json& world, const std::string& event_type,
                                         const GateOptions& gate) override {
    check_id(job_id, "job");
    if (!world.is_object()) throw Error(ErrorCode::kBadInput, "world: expected a JSON object");
    if (event_type.empty() || event_type.size() > 100) throw Error(ErrorCode::kBadInput, "event_type: an event type");
    Json doc = world;
    normalise(doc);
    std::string id = auth::uuid4();
    doc["id"] = id;
    std::string text = versions::canonical(doc);
    check_doc_size(text, gate);
    GenerationDone out;
    write_tx([&](Conn& c) {
      Job cur = load_job(c, job_id);
      if (cur.status == "succeeded" || cur.status == "failed") {
        throw Error(ErrorCode::kConflict, "the job already " + cur.status);
      }
      Scope scope{cur.app_id, cur.mode};
      check_scope(scope);
      insert_world_row(c, scope, doc, text, gate, "", out.world);
      Json result = {{"worldId", id}, {"rev", out.world.rev}};
      out.event = enqueue_in(c, scope, event_type, {{"jobId", job_id}, {"worldId", id}, {"rev", out.world.rev}});
      out.job = finish_job_in(c, job_id, "succeeded", &result, "");
    });
    graphs_.put(id, out.world.rev, std::make_shared<const Json>(doc));
    out.world.world = std::move(doc);
    return out;
  }

  // ------------------------------------------------ webhooks and outbox
  static WebhookEndpoint endpoint_from(Stmt& s) {
    WebhookEndpoint e;
    e.id = s.text(0);
    e.app_id = s.text(1);
    e.url = s.text(2);
    for (const Json& t : parse_stored(s.text(3), "webhook events")) e.events.push_back(t.get<std::string>());
    e.description = s.text(4);
    e.created_at = s.text(5);
    return e;
  }
#define ENDPOINT_COLS "id, app_id, url, events, description, created_at"

  static bool loopback_http(const std::string& url) {
    for (const char* host : {"http://localhost", "http://127.0.0.1", "http://[::1]"}) {
      std::string h = host;
      if (url.compare(0, h.size(), h) == 0 && (url.size() == h.size() || url[h.size()] == ':' || url[h.size()] == '/')) {
        return true;
      }
    }
    return false;
  }

  CreatedWebhook create_webhook(const std::string& app_id, const std::string& url, const std::vector<std::string>& events,
                                const std::string& description) override {
    check_id(app_id, "app");
    if (url.size() > 2048 || url.find_first_of(" \t\r\n") != std::string::npos ||
        !((url.rfind("https://", 0) == 0 && url.size() > 8) || loopback_http(url))) {
      throw Error(ErrorCode::kBadInput, "url: an https:// URL (plain http:// only to loopback)");
    }
    if (events.empty() || events.size() > 100) throw Error(ErrorCode::kBadInput, "events: 1-100 event types");
    for (const auto& e : events) {
      if (e.empty() || e.size() > 100) throw Error(ErrorCode::kBadInput, "events: each an event type");
    }
    if (description.size() > 1000) throw Error(ErrorCode::kBadInput, "description: at most 1000 characters");
    CreatedWebhook out;
    out.secret = "whsec_" + auth::random_token(32);
    out.endpoint = WebhookEndpoint{auth::uuid4(), app_id, url, description, now_rfc3339(), events};
    write_tx([&](Conn& c) {
      Stmt q = c.prepare("SELECT 1 FROM apps WHERE id=?");
      q.args(app_id);
      if (!q.step()) throw Error(ErrorCode::kNotFound, "app not found");
      c.prepare("INSERT INTO webhook_endpoints(id, app_id, url, events, description, secret, created_at) VALUES (?,?,?,?,?,?,?)")
          .args(out.endpoint.id, app_id, url, Json(events).dump(), description, out.secret, out.endpoint.created_at)
          .run();
    });
    return out;
  }

  Page<WebhookEndpoint> list_webhooks(const std::string& app_id, int limit, const std::string& cursor) override {
    check_limit(limit);
    std::int64_t after = parse_cursor(cursor);
    Page<WebhookEndpoint> page;
    bool more = false;
    read_tx([&](Conn& c) {
      Stmt s = c.prepare("SELECT " ENDPOINT_COLS ", seq FROM webhook_endpoints WHERE app_id=? AND deleted_at IS NULL AND seq>? ORDER BY seq LIMIT ?");
      s.args(app_id, after, limit + 1);
      while (s.step()) {
        if (static_cast<int>(page.data.size()) == limit) {
          more = true;
          break;
        }
        page.data.push_back(endpoint_from(s));
        page.next_cursor = std::to_string(s.i64(6));
      }
    });
    if (!more) page.next_cursor.clear();
    return page;
  }

  void delete_webhook(const std::string& app_id, const std::string& webhook_id) override {
    check_id(webhook_id, "webhook");
    write_tx([&](Conn& c) {
      Stmt s = c.prepare("UPDATE webhook_endpoints SET deleted_at=? WHERE id=? AND app_id=? AND deleted_at IS NULL");
      s.args(now_rfc3339(), webhook_id, app_id).run();
      if (s.changes() == 0) throw Error(ErrorCode::kNotFound, "webhook not found");
    });
  }

  OutboxEvent enqueue_event(const Scope& scope, const std::string& type, const Json& data) override {
    check_scope(scope);
    if (type.empty() || type.size() > 100) throw Error(ErrorCode::kBadInput, "type: an event type");
    OutboxEvent ev;
    write_tx([&](Conn& c) { ev = enqueue_in(c, scope, type, data); });
    return ev;
  }

  // Records an event and its pending deliveries in the caller's write transaction.
  OutboxEvent enqueue_in(Conn& c, const Scope& scope, const std::string& type, const Json& data) {
    OutboxEvent ev{auth::uuid4(), scope.app_id, scope.mode, type, now_rfc3339(), data};
    std::int64_t now = unix_now();
    {
      c.prepare("INSERT INTO outbox(id, app_id, mode, type, data, created_at) VALUES (?,?,?,?,?,?)")
          .args(ev.id, ev.app_id, ev.mode, type, versions::canonical(data), ev.created_at)
          .run();
      std::vector<std::string> targets;
      {
        Stmt s = c.prepare("SELECT id, events FROM webhook_endpoints WHERE app_id=? AND deleted_at IS NULL ORDER BY seq");
        s.args(scope.app_id);
        while (s.step()) {
          for (const Json& t : parse_stored(s.text(1), "webhook events")) {
            if (t == type || t == "*") {
              targets.push_back(s.text(0));
              break;
            }
          }
        }
      }
      for (const auto& endpoint : targets) {
        c.prepare(
             "INSERT INTO deliveries(id, event_id, endpoint_id, status, next_attempt_unix, created_at, updated_at) "
             "VALUES (?,?,?,'pending',?,?,?)")
            .args(auth::uuid4(), ev.id, endpoint, now, ev.created_at, ev.created_at)
            .run();
      }
    }
    return ev;
  }

#define DELIVERY_SELECT                                                                                        \
  "SELECT d.id, d.event_id, d.endpoint_id, w.url, w.secret, o.type, d.status, d.attempt, d.response_status, " \
  "d.created_at, d.next_attempt_unix, o.id, o.created_at, o.app_id, o.mode, o.data, d.seq "                  \
  "FROM deliveries d JOIN webhook_endpoints w ON w.id=d.endpoint_id JOIN outbox o ON o.id=d.event_id "

  static Delivery delivery_from(Stmt& s) {
    Delivery d;
    d.id = s.text(0);
    d.event_id = s.text(1);
    d.endpoint_id = s.text(2);
    d.url = s.text(3);
    d.secret = s.text(4);
    d.type = s.text(5);
    d.status = s.text(6);
    d.attempt = static_cast<int>(s.i64(7));
    d.response_status = static_cast<int>(s.i64(8));
    d.created_at = s.text(9);
    d.next_attempt_at = d.status == "pending" ? format_time(s.i64(10), 0) : std::string();
    d.body = {{"id", s.text(11)},  {"type", d.type},  {"createdAt", s.text(12)},
              {"appId", s.text(13)}, {"mode", s.text(14)}, {"data", parse_stored(s.text(15), "event data")}};
    return d;
  }

  std::vector<Delivery> claim_deliveries(int limit, int lease_seconds) override {
    if (limit < 1 || limit > 1000) throw Error(ErrorCode::kBadInput, "limit: 1-1000");
    if (lease_seconds < 1) throw Error(ErrorCode::kBadInput, "lease_seconds: at least 1");
    std::vector<Delivery> out;
    std::int64_t now = unix_now();
    write_tx([&](Conn& c) {
      {
        Stmt s = c.prepare(DELIVERY_SELECT
                           "WHERE d.status='pending' AND d.next_attempt_unix<=? AND d.locked_until<=? "
                           "ORDER BY d.next_attempt_unix, d.seq LIMIT ?");
        s.args(now, now, limit);
        while (s.step()) out.push_back(delivery_from(s));
      }
      for (const auto& d : out) {
        c.prepare("UPDATE deliveries SET locked_until=? WHERE id=?").args(now + lease_seconds, d.id).run();
      }
    });
    return out;
  }

  Delivery record_delivery(const std::string& delivery_id, int response_status, bool success,
                           const std::string& error, std::optional<double> next_attempt_in) override {
    check_id(delivery_id, "delivery");
    if (next_attempt_in && !(std::isfinite(*next_attempt_in) && *next_attempt_in <= 366.0 * 86400)) {
      throw Error(ErrorCode::kBadInput, "next_attempt_in: seconds, at most 366 days (negative: give up)");
    }
    Delivery out;
    std::int64_t now = unix_now();
    write_tx([&](Conn& c) {
      std::string status;
      int attempt = 0;
      {
        Stmt s = c.prepare("SELECT status, attempt FROM deliveries WHERE id=?");
        s.args(delivery_id);
        if (!s.step()) throw Error(ErrorCode::kNotFound, "delivery not found");
        status = s.text(0);
        attempt = static_cast<int>(s.i64(1));
      }
      if (status != "pending") throw Error(ErrorCode::kConflict, "the delivery already " + status);
      ++attempt;
      std::string now_s = now_rfc3339();
      c.prepare("INSERT INTO delivery_attempts(delivery_id, attempt, response_status, error, created_at) VALUES (?,?,?,?,?)")
          .args(delivery_id, attempt, response_status, error, now_s)
          .run();
      // The caller's schedule (next_attempt_in) replaces the built-in backoff and its attempt cap.
      bool give_up = next_attempt_in ? *next_attempt_in < 0 : attempt >= kMaxDeliveryAttempts;
      std::string next_status = success ? "succeeded" : (give_up ? "failed" : "pending");
      std::int64_t delay = next_attempt_in ? static_cast<std::int64_t>(std::ceil(*next_attempt_in))
                                           : (give_up ? 0 : kBackoff[attempt - 1]);
      std::int64_t next = success || give_up ? now : now + delay;
      c.prepare(
           "UPDATE deliveries SET status=?, attempt=?, response_status=?, next_attempt_unix=?, locked_until=0, "
           "updated_at=? WHERE id=?")
          .args(next_status, attempt, response_status, next, now_s, delivery_id)
          .run();
      Stmt s = c.prepare(DELIVERY_SELECT "WHERE d.id=?");
      s.args(delivery_id);
      if (s.step()) out = delivery_from(s);
    });
    return out;
  }

  std::vector<DeliveryAttempt> list_delivery_attempts(const std::string& delivery_id) override {
    check_id(delivery_id, "delivery");
    std::vector<DeliveryAttempt> out;
    read_tx([&](Conn& c) {
      std::string status;
      {
        Stmt s = c.prepare("SELECT status FROM deliveries WHERE id=?");
        s.args(delivery_id);
        if (!s.step()) throw Error(ErrorCode::kNotFound, "delivery not found");
        status = s.text(0);
      }
      Stmt s = c.prepare(
          "SELECT attempt, response_status, error, created_at FROM delivery_attempts WHERE delivery_id=? ORDER BY seq");
      s.args(delivery_id);
      while (s.step()) {
        DeliveryAttempt a;
        a.attempt = static_cast<int>(s.i64(0));
        a.response_status = static_cast<int>(s.i64(1));
        a.error = s.text(2);
        a.created_at = s.text(3);
        out.push_back(std::move(a));
      }
      // Only the last attempt can end a delivery: every earlier one failed and was retried.
      for (std::size_t i = 0; i < out.size(); ++i) out[i].status = i + 1 == out.size() ? status : "pending";
    });
    return out;
  }

  Page<Delivery> list_deliveries(const std::string& app_id, const std::string& webhook_id, int limit,
                                 const std::string& cursor) override {
    check_limit(limit);
    std::int64_t after = parse_cursor(cursor);
    Page<Delivery> page;
    bool more = false;
    read_tx([&](Conn& c) {
      Stmt s = c.prepare(DELIVERY_SELECT "WHERE w.app_id=? AND d.endpoint_id=? AND d.seq>? ORDER BY d.seq LIMIT ?");
      s.args(app_id, webhook_id, after, limit + 1);
      while (s.step()) {
        if (static_cast<int>(page.data.size()) == limit) {
          more = true;
          break;
        }
        page.data.push_back(delivery_from(s));
        page.next_cursor = std::to_string(s.i64(16));
      }
    });
    if (!more) page.next_cursor.clear();
    return page;
  }

  // ------------------------------------------------ user tokens
  // The user-token key is derived from the server secret and never leaves the core.
  std::string user_token_key() const {
    auto d = auth::hmac_sha256(secret_, "conjure user token v1");
    return std::string(reinterpret_cast<const char*>(d.data()), d.size());
  }

  static std::string sign_b64(const std::string& key, const std::string& payload) {
    auto d = auth::hmac_sha256(key, payload);
    return auth::base64url_encode(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
  }

  // Splits "<prefix><payload>.<signature>" and checks the signature in constant
  // time; the claims object on success, nullopt otherwise. `key_of` picks the
  // key from the (not yet trusted) claims, or returns empty for an unknown key.
  static std::optional<Json> open_signed(const std::string& token, const char* prefix,
                                         const std::function<std::string(const Json&)>& key_of) {
    std::size_t plen = std::char_traits<char>::length(prefix);
    if (token.size() > 4096 || token.compare(0, plen, prefix) != 0) return std::nullopt;
    std::size_t dot = token.find('.', plen);
    if (dot == std::string::npos || dot == plen || dot + 1 == token.size()) return std::nullopt;
    std::string payload = token.substr(plen, dot - plen);
    std::string signature = token.substr(dot + 1);
    std::string raw;
    if (!auth::base64url_decode(payload, &raw)) return std::nullopt;
    Json claims;
    try {
      claims = Json::parse(raw);
    } catch (const Json::exception&) {
      return std::nullopt;
    }
    if (!claims.is_object()) return std::nullopt;
    std::string key = key_of(claims);
    if (key.empty()) return std::nullopt;
    if (!auth::equal_ct(sign_b64(key, payload), signature)) return std::nullopt;
    return claims;
  }

  std::optional<User> find_user(const std::string& email) override {
    if (email.empty() || email.size() > 254) return std::nullopt;
    std::optional<User> out;
    read_tx([&](Conn& c) {
      Stmt s = c.prepare("SELECT id, email, created_at FROM users WHERE email=?");
      s.args(email);
      if (s.step()) out = user_from(s);
    });
    return out;
  }

  UserToken issue_user_token(const std::string& user_id, std::int64_t ttl_seconds) override {
    if (ttl_seconds < 60 || ttl_seconds > 366 * 24 * 3600) {
      throw Error(ErrorCode::kBadInput, "ttl_seconds: between 60 seconds and 366 days");
    }
    get_user(user_id);  // kNotFound for an unknown user
    std::int64_t now = unix_now(), exp = now + ttl_seconds;
    Json claims = {{"sub", user_id}, {"iat", now}, {"exp", exp}, {"jti", auth::random_token(12)}};
    std::string payload = auth::base64url_encode(versions::canonical(claims));
    return UserToken{"us_" + payload + "." + sign_b64(user_token_key(), payload), format_time(exp, 0)};
  }

  User verify_user_token(const std::string& token) override {
    const Error bad(ErrorCode::kUnauthorized, "the user token is invalid or expired");
    std::string key = user_token_key();
    auto claims = open_signed(token, "us_", [&](const Json&) { return key; });
    if (!claims) throw bad;
    auto sub = claims->find("sub");
    auto exp = claims->find("exp");
    if (sub == claims->end() || !sub->is_string() || exp == claims->end() || !exp->is_number_integer()) throw bad;
    if (exp->get<std::int64_t>() <= unix_now()) throw bad;
    try {
      return get_user(sub->get<std::string>());
    } catch (const Error& e) {
      if (e.code() == ErrorCode::kNotFound) throw bad;
      throw;
    }
  }

  // ------------------------------------------------ play sessions
  static constexpr std::int64_t kConnectWindow = 60;
  static constexpr int kMaxSessionTtl = 3600;

  std::string session_key_of_seed(const std::string& seed) const {
    auto d = auth::hmac_sha256(secret_, "conjure session key v1|" + seed);
    return std::string(reinterpret_cast<const char*>(d.data()), d.size());
  }

  // Inserts a new current signing key (inside a write transaction); older keys
  // are retired now and dropped once every token they signed has expired.
  std::string add_session_key(Conn& c, std::int64_t now) {
    std::string kid = auth::random_token(6);
    c.prepare("UPDATE session_keys SET retired_unix=? WHERE retired_unix IS NULL").args(now).run();
    c.prepare("DELETE FROM session_keys WHERE retired_unix IS NOT NULL AND retired_unix<?")
        .args(now - kMaxSessionTtl - 60)
        .run();
    c.prepare("INSERT INTO session_keys(kid, seed, created_unix) VALUES (?,?,?)")
        .bind(1, kid)
        .bind_blob(2, auth::random_bytes(32))
        .bind(3, now)
        .run();
    return kid;
  }

  std::string rotate_session_key() override {
    std::string kid;
    write_tx([&](Conn& c) { kid = add_session_key(c, unix_now()); });
    std::lock_guard<std::mutex> lock(keys_mu_);
    session_keys_.clear();  // re-read: retirements may have dropped keys
    return kid;
  }

  // The signing key of `kid` (cached; keys are immutable), or empty when unknown.
  std::string session_key(const std::string& kid) {
    if (kid.empty() || kid.size() > 64) return {};
    {
      std::lock_guard<std::mutex> lock(keys_mu_);
      auto it = session_keys_.find(kid);
      if (it != session_keys_.end()) return it->second;
    }
    std::string seed;
    read_tx([&](Conn& c) {
      Stmt s = c.prepare("SELECT seed FROM session_keys WHERE kid=?");
      s.args(kid);
      if (s.step()) seed = s.blob(0);
    });
    if (seed.empty()) return {};
    std::string key = session_key_of_seed(seed);
    std::lock_guard<std::mutex> lock(keys_mu_);
    if (session_keys_.size() >= 64) session_keys_.clear();
    session_keys_[kid] = key;
    return key;
  }

  SessionToken mint_session_token(const Scope& scope, const std::string& world_id, const std::string& player_id,
                                  const std::string& origin, int ttl_seconds) override {
    check_scope(scope);
    if (ttl_seconds < 1 || ttl_seconds > kMaxSessionTtl) throw Error(ErrorCode::kBadInput, "ttlSeconds: 1-3600");
    if (player_id.empty() || player_id.size() > 200) throw Error(ErrorCode::kBadInput, "playerId: 1-200 characters");
    if (origin.size() > 2048) throw Error(ErrorCode::kBadInput, "origin: at most 2048 characters");
    std::string kid, seed;
    auto current = [&](Conn& c) {
      Stmt s = c.prepare("SELECT kid, seed FROM session_keys ORDER BY seq DESC LIMIT 1");
      if (s.step()) {
        kid = s.text(0);
        seed = s.blob(1);
      }
    };
    read_tx([&](Conn& c) {
      load_world(c, scope, world_id, false);
      current(c);
    });
    if (kid.empty()) {  // the first mint: generate the first key (once, whoever wins)
      write_tx([&](Conn& c) {
        current(c);
        if (kid.empty()) add_session_key(c, unix_now());
        current(c);
      });
    }
    std::int64_t exp = unix_now() + ttl_seconds;
    SessionToken out;
    out.jti = auth::random_token(16);
    Json claims = {{"app", scope.app_id}, {"mode", scope.mode}, {"world", world_id}, {"player", player_id},
                   {"exp", exp},          {"jti", out.jti},     {"kid", kid}};
    if (!origin.empty()) claims["origin"] = origin;
    std::string payload = auth::base64url_encode(versions::canonical(claims));
    out.token = "st_" + payload + "." + sign_b64(session_key_of_seed(seed), payload);
    out.expires_at = format_time(exp, 0);
    return out;
  }

  static bool claims_from(const Json& j, SessionClaims* out) {
    auto str = [&](const char* k, std::string* v, bool required) {
      auto it = j.find(k);
      if (it == j.end()) return !required;
      if (!it->is_string()) return false;
      *v = it->get<std::string>();
      return !required || !v->empty();
    };
    auto exp = j.find("exp");
    if (exp == j.end() || !exp->is_number_integer()) return false;
    out->exp = exp->get<std::int64_t>();
    return str("app", &out->app, true) && str("mode", &out->mode, true) && str("world", &out->world, true) &&
           str("player", &out->player, true) && str("jti", &out->jti, true) && str("kid", &out->kid, true) &&
           str("origin", &out->origin, false);
  }

  SessionClaims verify_session_token(const std::string& token, const std::string& origin,
                                     std::int64_t now_unix) override {
    const Error bad(ErrorCode::kUnauthorized, "the session token is invalid or expired");
    auto claims = open_signed(token, "st_", [&](const Json& c) {
      auto kid = c.find("kid");
      return kid != c.end() && kid->is_string() ? session_key(kid->get<std::string>()) : std::string();
    });
    SessionClaims out;
    if (!claims || !claims_from(*claims, &out)) throw bad;
    if (out.exp <= (now_unix ? now_unix : unix_now())) throw bad;
    if (!out.origin.empty() && !auth::equal_ct(out.origin, origin)) {
      throw Error(ErrorCode::kForbidden, "origin_mismatch: the session token is bound to another origin");
    }
    return out;
  }

  static void check_claims(const SessionClaims& c) {
    if (c.app.empty() || c.jti.empty() || c.world.empty() || c.player.empty() || (c.mode != "test" && c.mode != "live")) {
      throw Error(ErrorCode::kBadInput, "claims: the claims of a verified session token");
    }
  }

#define SESSION_COLS \
  "id, app_id, mode, world_id, player_id, origin, status, expires_unix, coalesce(seconds_used, -1), reservation_id, " \
  "minutes, created_unix, coalesce(bound_unix, 0), seq"

  struct SessionRow {
    SessionInfo info;
    std::string reservation_id;
    std::int64_t minutes = 0, created_unix = 0, bound_unix = 0, expires_unix = 0, seq = 0;
  };

  static SessionRow session_from(Stmt& s) {
    SessionRow r;
    r.info.id = s.text(0);
    r.info.app_id = s.text(1);
    r.info.mode = s.text(2);
    r.info.world_id = s.text(3);
    r.info.player_id = s.text(4);
    r.info.origin = s.text(5);
    r.info.status = s.text(6);
    r.expires_unix = s.i64(7);
    r.info.expires_at = format_time(r.expires_unix, 0);
    r.info.seconds_used = s.i64(8);
    r.reservation_id = s.text(9);
    r.minutes = s.i64(10);
    r.created_unix = s.i64(11);
    r.bound_unix = s.i64(12);
    r.seq = s.i64(13);
    return r;
  }

  SessionRow load_session(Conn& c, const std::string& session_id, const SessionClaims* owner) {
    check_id(session_id, "session");
    Stmt s = c.prepare("SELECT " SESSION_COLS " FROM sessions WHERE id=?");
    s.args(session_id);
    if (!s.step()) throw Error(ErrorCode::kNotFound, "session not found");
    SessionRow r = session_from(s);
    if (owner && (owner->app != r.info.app_id || owner->mode != r.info.mode)) {
      throw Error(ErrorCode::kNotFound, "session not found");
    }
    return r;
  }

  std::string connect_hash(const std::string& token) const {
    auto d = auth::hmac_sha256(secret_, "connect|" + token);
    return std::string(reinterpret_cast<const char*>(d.data()), d.size());
  }

  AdmittedSession admit_session(const SessionClaims& claims, int app_cap, int global_cap, int minutes) override {
    check_claims(claims);
    if (app_cap < 0 || global_cap < 0) throw Error(ErrorCode::kBadInput, "caps: non-negative numbers");
    if (minutes < 1 || minutes > 24 * 60) throw Error(ErrorCode::kBadInput, "minutes: 1-1440");
    std::int64_t now = unix_now();
    if (claims.exp <= now) throw Error(ErrorCode::kUnauthorized, "the session token is invalid or expired");
    AdmittedSession out;
    out.session_id = auth::uuid4();
    out.connect_token = "ct_" + auth::random_token(32);
    std::int64_t expires = std::min<std::int64_t>(claims.exp, now + 60 * static_cast<std::int64_t>(minutes));
    std::int64_t connect_expires = std::min(now + kConnectWindow, expires);
    out.expires_at = format_time(expires, 0);
    out.connect_expires_at = format_time(connect_expires, 0);
    write_tx([&](Conn& c) {
      load_world(c, Scope{claims.app, claims.mode}, claims.world, false);
      {
        Stmt s = c.prepare("SELECT 1 FROM sessions WHERE jti=? AND status<>'settled'");
        s.args(claims.jti);
        if (s.step()) {
          throw Error(ErrorCode::kConflict,
                      "session_active: this session token already has a live session; settle it first");
        }
      }
      auto count = [&](const char* sql, const std::string* app) {
        Stmt s = c.prepare(sql);
        if (app) s.args(*app);
        return s.step() ? s.i64(0) : 0;
      };
      std::int64_t app_live = count("SELECT count(*) FROM sessions WHERE app_id=? AND status<>'settled'", &claims.app);
      if (app_live >= app_cap) {
        throw Error(ErrorCode::kCapacity, "concurrency_cap: the app has " + std::to_string(app_live) +
                                              " live sessions, its cap; nothing was admitted");
      }
      std::int64_t all_live = count("SELECT count(*) FROM sessions WHERE status<>'settled'", nullptr);
      if (all_live >= global_cap) {
        throw Error(ErrorCode::kCapacity, "concurrency_cap: the server is at its cap of " +
                                              std::to_string(global_cap) + " live sessions; nothing was admitted");
      }
      Reservation r{auth::uuid4(), claims.app, "session_minutes", utc_day(), minutes};
      reserve_in(c, r);
      c.prepare(
           "INSERT INTO sessions(id, app_id, mode, world_id, player_id, origin, jti, status, reservation_id, minutes, "
           "connect_hash, connect_expires_unix, created_unix, expires_unix, created_at) "
           "VALUES (?,?,?,?,?,?,?,'admitted',?,?,?,?,?,?,?)")
          .args(out.session_id, claims.app, claims.mode, claims.world, claims.player, claims.origin, claims.jti, r.id,
                minutes)
          .bind_blob(10, connect_hash(out.connect_token))
          .bind(11, connect_expires)
          .bind(12, now)
          .bind(13, expires)
          .bind(14, now_rfc3339())
          .run();
    });
    return out;
  }

  SessionInfo consume_connect_token(const std::string& token, std::int64_t now_unix) override {
    const Error bad(ErrorCode::kUnauthorized, "the connect token is invalid, used or expired");
    if (token.size() < 4 || token.size() > 200 || token.compare(0, 3, "ct_") != 0) throw bad;
    std::int64_t now = now_unix ? now_unix : unix_now();
    std::string hash = connect_hash(token);
    SessionInfo out;
    write_tx([&](Conn& c) {
      std::string stored;
      std::int64_t until = 0;
      {
        Stmt s = c.prepare("SELECT " SESSION_COLS ", connect_hash, connect_expires_unix FROM sessions WHERE connect_hash=?");
        s.bind_blob(1, hash);
        if (!s.step()) throw bad;
        out = session_from(s).info;
        stored = s.blob(14);
        until = s.i64(15);
      }
      if (!auth::equal_ct(stored, hash) || until <= now || out.status == "settled") throw bad;
      // Used once: the hash goes with this use.
      c.prepare("UPDATE sessions SET connect_hash=NULL WHERE id=?").args(out.id).run();
    });
    return out;
  }

  SessionInfo bind_session(const std::string& session_id, const SessionClaims& claims) override {
    check_claims(claims);
    SessionInfo out;
    write_tx([&](Conn& c) {
      SessionRow r = load_session(c, session_id, &claims);
      if (r.info.status == "settled") throw Error(ErrorCode::kConflict, "the session was settled");
      if (r.info.status == "admitted") {
        c.prepare("UPDATE sessions SET status='bound', bound_unix=? WHERE seq=?").args(unix_now(), r.seq).run();
        r.info.status = "bound";
      }
      out = r.info;
    });
    return out;
  }

  // Settles a live session inside the caller's write transaction.
  void settle_row(Conn& c, SessionRow& r, std::int64_t seconds, const std::string& reason, std::int64_t now) {
    if (seconds < 0) seconds = std::max<std::int64_t>(0, std::min(now, r.expires_unix) - r.created_unix);
    std::int64_t used_minutes = std::min(r.minutes, (seconds + 59) / 60);
    settle_in(c, r.reservation_id, used_minutes, false);
    c.prepare(
         "UPDATE sessions SET status='settled', settled_unix=?, seconds_used=?, settle_reason=?, connect_hash=NULL "
         "WHERE seq=?")
        .args(now, seconds, reason, r.seq)
        .run();
    r.info.status = "settled";
    r.info.seconds_used = seconds;
  }

  SessionInfo settle_session(const std::string& session_id, std::int64_t seconds_used,
                             const SessionClaims* claims) override {
    if (claims) check_claims(*claims);
    if (seconds_used > 366ll * 24 * 3600) throw Error(ErrorCode::kBadInput, "secondsUsed: too large");
    SessionInfo out;
    write_tx([&](Conn& c) {
      SessionRow r = load_session(c, session_id, claims);
      if (r.info.status != "settled") settle_row(c, r, seconds_used, "client", unix_now());
      out = r.info;
    });
    return out;
  }

  // Settles the live sessions matching `where` (its '?' are bound to `now`).
  // An admitted session whose connect token was never used opened no socket: 0 seconds.
  int settle_where(const std::string& where, std::int64_t now, const std::string& reason) {
    int n = 0;
    write_tx([&](Conn& c) {
      std::vector<std::pair<SessionRow, bool>> rows;
      {
        std::string sql = "SELECT " SESSION_COLS ", connect_hash IS NOT NULL FROM sessions WHERE status<>'settled'" + where;
        Stmt s = c.prepare(sql.c_str());
        int params = static_cast<int>(std::count(where.begin(), where.end(), '?'));
        for (int i = 1; i <= params; ++i) s.bind(i, now);
        while (s.step()) {
          SessionRow r = session_from(s);
          bool unconnected = r.info.status == "admitted" && s.i64(14) != 0;
          rows.emplace_back(std::move(r), unconnected);
        }
      }
      for (auto& [r, unconnected] : rows) {
        settle_row(c, r, unconnected ? 0 : -1, reason, now);
        ++n;
      }
    });
    return n;
  }

  int reap_sessions(std::int64_t now_unix) override {
    std::int64_t now = now_unix ? now_unix : unix_now();
    return settle_where(
        " AND (expires_unix<=? OR (status='admitted' AND connect_hash IS NOT NULL AND connect_expires_unix<=?))", now,
        "reaped");
  }

  int settle_all_active(const std::string& reason) override {
    if (reason.size() > 200) throw Error(ErrorCode::kBadInput, "reason: at most 200 characters");
    return settle_where("", unix_now(), reason.empty() ? "restart" : reason);
  }

  WebhookEndpoint get_webhook(const std::string& webhook_id) override {
    check_id(webhook_id, "webhook");
    WebhookEndpoint e;
    read_tx([&](Conn& c) {
      Stmt s = c.prepare("SELECT " ENDPOINT_COLS " FROM webhook_endpoints WHERE id=? AND deleted_at IS NULL");
      s.args(webhook_id);
      if (!s.step()) throw Error(ErrorCode::kNotFound, "webhook not found");
      e = endpoint_from(s);
    });
    return e;
  }

  // ------------------------------------------------ maintenance
  CheckReport check() override {
    CheckReport r;
    read_tx([&](Conn& c) {
      {
        Stmt s = c.prepare("PRAGMA integrity_check");
        while (s.step()) r.integrity.push_back(s.text(0));
      }
      {
        Stmt s = c.prepare("PRAGMA foreign_key_check");
        while (s.step()) {
          r.foreign_keys.push_back(s.text(0) + " row " + std::to_string(s.i64(1)) + " -> " + s.text(2));
        }
      }
      auto count = [&](const char* sql) {
        Stmt s = c.prepare(sql);
        return s.step() ? s.i64(0) : 0;
      };
      r.blobs = count("SELECT count(*) FROM blobs");
      r.versions = count("SELECT count(*) FROM versions");
      r.worlds = count("SELECT count(*) FROM worlds");
      // Walk every manifest: each referenced part must exist.
      std::set<std::int64_t> referenced;
      std::vector<std::int64_t> todo;
      {
        Stmt s = c.prepare("SELECT seq FROM versions");
        while (s.step()) todo.push_back(s.i64(0));
      }
      auto exists = [&](std::int64_t id) {
        Stmt s = c.prepare("SELECT 1 FROM blobs WHERE id=?");
        s.bind(1, id);
        return s.step();
      };
      auto visit = [&](std::int64_t id) -> bool {
        if (!referenced.insert(id).second) return false;
        if (!exists(id)) {
          ++r.missing_blobs;
          return false;
        }
        return true;
      };
      for (std::int64_t seq : todo) {
        std::shared_ptr<const Json> m;
        try {
          m = load_root(c, seq);
        } catch (const Error&) {
          ++r.missing_blobs;
          continue;
        }
        for (const char* k : {"rest", "order"}) {
          if (m->contains(k)) visit(m->at(k).get<std::int64_t>());
        }
        for (const char* level : {"s", "e"}) {
          if (!m->contains(level)) continue;
          for (auto it = m->at(level).begin(); it != m->at(level).end(); ++it) {
            std::int64_t bid = it->get<std::int64_t>();
            if (!visit(bid)) continue;
            try {
              auto b = load_blob(c, bid);
              for (auto e = b->begin(); e != b->end(); ++e) visit(e->get<std::int64_t>());
            } catch (const Error&) {
              ++r.missing_blobs;
            }
          }
        }
      }
      // Delta bases are references too; a blob nobody references is an orphan.
      std::set<std::int64_t> bases;
      {
        Stmt s = c.prepare("SELECT DISTINCT base FROM blobs WHERE base IS NOT NULL");
        while (s.step()) bases.insert(s.i64(0));
      }
      for (std::int64_t b : bases) {
        if (!exists(b)) ++r.missing_blobs;
      }
      Stmt s = c.prepare("SELECT id FROM blobs");
      while (s.step()) {
        std::int64_t id = s.i64(0);
        if (!referenced.count(id) && !bases.count(id)) ++r.orphan_blobs;
      }
    });
    r.ok = r.integrity.size() == 1 && r.integrity[0] == "ok" && r.foreign_keys.empty() && r.missing_blobs == 0;
    return r;
  }

  void backup(const std::string& path) override {
    if (path.empty()) throw Error(ErrorCode::kBadInput, "backup path is empty");
    auto lease = pool_.take();
    sqlite3* dest = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = dest ? sqlite3_errmsg(dest) : sqlite3_errstr(rc);
      sqlite3_close_v2(dest);
      throw Error(ErrorCode::kStorage, "cannot open the backup file " + path + ": " + msg);
    }
    sqlite3_backup* b = sqlite3_backup_init(dest, "main", lease->db(), "main");
    if (!b) {
      std::string msg = sqlite3_errmsg(dest);
      sqlite3_close_v2(dest);
      throw Error(ErrorCode::kStorage, "cannot back up to " + path + ": " + msg);
    }
    for (;;) {
      rc = sqlite3_backup_step(b, 256);
      if (rc == SQLITE_DONE) break;
      if (rc == SQLITE_OK) continue;
      if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
        sqlite3_sleep(5);
        continue;
      }
      break;
    }
    sqlite3_backup_finish(b);
    int err = sqlite3_errcode(dest);
    sqlite3_close_v2(dest);
    if (rc != SQLITE_DONE) {
      std::remove(path.c_str());
      throw Error(ErrorCode::kStorage, "backup to " + path + " failed: " + sqlite3_errstr(rc != SQLITE_OK ? rc : err));
    }
  }

 private:
  void write_tx(const std::function<void(Conn&)>& fn) {
    if (options_.read_only) throw Error(ErrorCode::kStorage, "the store is read-only; nothing was written");
    sqlite::write_tx(pool_, fn);
  }
  void read_tx(const std::function<void(Conn&)>& fn) { sqlite::read_tx(pool_, fn); }

  struct PendingGraph {
    std::string id, rev;
    std::shared_ptr<const Json> doc;
  };

  StoreOptions options_;
  sqlite::Pool pool_;
  std::string secret_;
  std::mutex keys_mu_;
  std::unordered_map<std::string, std::string> session_keys_;  // kid -> signing key
  BlobCache blobs_;
  GraphCache graphs_;
  static thread_local PendingGraph pending_graph_;
};

thread_local SqliteStore::PendingGraph SqliteStore::pending_graph_;

std::unique_ptr<Store> open_store(const std::string& path, const StoreOptions& options) {
  return std::make_unique<SqliteStore>(path, options);
}

}  // namespace conjure
