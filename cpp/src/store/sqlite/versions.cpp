#include "store/sqlite/versions.hpp"

#include "store/sqlite/characters.hpp"

#include <cstdio>
#include <ctime>
#include <vector>

#include "conjure/auth/crypto.hpp"
#include "conjure/versions/manifest.hpp"
#include "conjure/versions/snapshot.hpp"
#include "conjure/world/world.hpp"
#include "store/sqlite/blobs.hpp"

namespace conjure::sqlite {

using store::check_scope;
using store::format_time;

namespace {

std::string hex_of(const std::string& raw) {
  return auth::to_hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}

std::string uuid_text(const std::string& hex) {
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

// A version id as stored: a lowercase UUID as its 16 bytes (`packed`), any
// other id as its text.
std::string stored_version_id(const std::string& id, bool* packed) {
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

// The version id in column `col` (NULL: empty), its typeof() in `col + 1`.
std::string version_id_at(const Stmt& s, int col) {
  if (s.is_null(col)) return {};
  if (s.text(col + 1) != "blob") return s.text(col);
  return uuid_text(hex_of(s.blob(col)));
}

// A version time as stored: milliseconds since the epoch when `at` is in the
// store's own RFC 3339 form (and reads back identical), else its text.
void bind_time(Stmt& s, int i, const std::string& at) {
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

std::string time_at(const Stmt& s, int col) {
  if (s.text(col + 1) != "integer") return s.text(col);
  std::int64_t v = s.i64(col);
  return format_time(v / 1000, static_cast<int>(v % 1000));
}

// A new version id: a UUID (version 7) led by `ms`, its time in milliseconds
// since the epoch, so ids arrive in order and the id index grows at its end.
std::string new_version_id(std::int64_t ms) {
  std::string b = auth::random_bytes(16);
  for (int i = 0; i < 6; ++i) b[i] = static_cast<char>((ms >> (40 - 8 * i)) & 0xff);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x70);
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
  return uuid_text(hex_of(b));
}

// The milliseconds leading a version-7 UUID stored as 16 bytes (-1: none).
std::int64_t uuid7_ms(const std::string& raw) {
  if (raw.size() != 16 || (static_cast<unsigned char>(raw[6]) >> 4) != 7) return -1;
  std::int64_t ms = 0;
  for (int i = 0; i < 6; ++i) ms = ms << 8 | static_cast<unsigned char>(raw[i]);
  return ms;
}

VersionInfo version_from(Stmt& s) {
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

// The cache key of a version's root manifest: "v" and its stored id (content
// keys are raw SHA-256 digests).
std::string root_key(const std::string& stored_id) {
  std::string key(1, 'v');
  key += stored_id;
  return key;
}

std::size_t root_bytes(const Json& root) { return 32 * (root.value("sb", 1) + root.value("eb", 1) + 8); }

}  // namespace

void bind_version_id(Stmt& s, int i, const std::string& id) {
  bool packed = false;
  std::string stored = stored_version_id(id, &packed);
  if (packed) {
    s.bind_blob(i, stored);
  } else {
    s.bind(i, stored);
  }
}

VersionInfo load_version(Conn& c, const std::string& world_id, const std::string& version_id, std::int64_t* seq) {
  store::check_id(version_id, "version");
  Stmt s = c.prepare("SELECT " VERSION_COLS " WHERE v.id=? AND w.id=?");
  bind_version_id(s, 1, version_id);
  s.bind(2, world_id);
  if (!s.step()) throw Error(ErrorCode::kNotFound, "version not found");
  VersionInfo v = version_from(s);
  if (seq) *seq = s.i64(8);
  return v;
}

// The root manifest is kept in its row, whole (root_chain 0) or as a merge
// patch against its parent's root.
std::shared_ptr<const Json> load_root(Context& ctx, Conn& c, std::int64_t seq) {
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
    if (auto v = ctx.blobs().get(key)) {
      if (patches.empty()) return v;
      value = *v;
      break;
    }
    if (s.i64(2) == 0) {
      value = store::parse_stored(s.blob(3), "version manifest");
      break;
    }
    if (s.is_null(1)) throw Error(ErrorCode::kStorage, "a version's manifest chain is damaged");
    patches.push_back(s.blob(3));
    cur = s.i64(1);
    if (patches.size() > 1000000) throw Error(ErrorCode::kStorage, "a version's manifest chain is damaged");
  }
  for (auto it = patches.rbegin(); it != patches.rend(); ++it) {
    versions::apply_delta(value, store::parse_stored(*it, "manifest delta"));
  }
  auto out = std::make_shared<const Json>(std::move(value));
  ctx.blobs().put(first_key, out, root_bytes(*out));
  return out;
}

// A root is stored as a patch against its parent's root under the same rule as
// blob deltas (a patch is never empty of bytes, so a chain above 0 marks one).
std::int64_t insert_version(Context& ctx, Conn& c, const VersionInfo& v, std::int64_t world_seq,
                            std::int64_t parent_seq, const Json& root) {
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
    if (base_chain >= 0 && versions::make_delta(*load_root(ctx, c, parent_seq), root, &patch)) {
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
  ctx.blobs().put(root_key(stored_version_id(v.id, &packed)), std::make_shared<const Json>(root), root_bytes(root));
  return sqlite3_last_insert_rowid(c.db());
}

VersionInfo write_snapshot(Context& ctx, Conn& c, const WorldRow& row, const Json& doc, const std::string& parent_id,
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
  BlobRepo blobs(ctx, c);
  Json root = versions::store_parts(blobs, doc, base_seq > 0 ? *load_root(ctx, c, base_seq) : Json());
  VersionInfo v;
  std::int64_t ms = store::unix_millis_now();
  v.id = new_version_id(ms);
  v.world_id = row.info.id;
  v.parent_id = parent;
  v.message = message;
  v.created_at = format_time(ms / 1000, static_cast<int>(ms % 1000));
  insert_version(ctx, c, v, row.seq, parent_seq, root);
  if (parent == row.info.head) {
    c.prepare("UPDATE worlds SET head_version_id=? WHERE seq=?").args(v.id, row.seq).run();
    v.head = true;
  }
  return v;
}

VersionInfo SqliteVersions::snapshot(const Scope& scope, const std::string& world_id, const std::string& parent_id,
                                     const std::string& message) {
  check_scope(scope);
  if (message.size() > 10000) throw Error(ErrorCode::kBadInput, "message: at most 10000 characters");
  VersionInfo v;
  ctx_.write_tx([&](Conn& c) {
    WorldRow row = load_world(ctx_, c, scope, world_id, true);
    v = write_snapshot(ctx_, c, row, *row.doc, parent_id, message, "");
  });
  return v;
}

VersionTree SqliteVersions::list_versions(const Scope& scope, const std::string& world_id) {
  check_scope(scope);
  VersionTree tree;
  ctx_.read_tx([&](Conn& c) {
    WorldRow row = load_world(ctx_, c, scope, world_id, false);
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

VersionInfo SqliteVersions::get_version(const Scope& scope, const std::string& world_id, const std::string& version_id,
                                        Json* world) {
  check_scope(scope);
  VersionInfo v;
  ctx_.read_tx([&](Conn& c) {
    WorldRow row = load_world(ctx_, c, scope, world_id, false);
    std::int64_t seq = 0;
    v = load_version(c, world_id, version_id, &seq);
    v.head = v.id == row.info.head;
    if (world) {
      BlobRepo blobs(ctx_, c);
      *world = versions::materialise(blobs, *load_root(ctx_, c, seq));
    }
  });
  return v;
}

GraphWrite SqliteVersions::checkout(const Scope& scope, const std::string& world_id, const std::string& version_id,
                                    const std::string& expected_rev, const GateOptions& gate) {
  check_scope(scope);
  store::check_id(version_id, "version");
  GraphWrite out;
  std::shared_ptr<const Json> written;  // the new working graph, cached once committed
  ctx_.write_tx([&](Conn& c) {
    WorldRow row = load_world(ctx_, c, scope, world_id, true);
    store::check_rev(row.info, expected_rev);
    std::int64_t seq = 0;
    load_version(c, world_id, version_id, &seq);
    BlobRepo blobs(ctx_, c);
    Json doc = versions::materialise(blobs, *load_root(ctx_, c, seq));
    normalise(doc);
    doc["id"] = row.info.id;
    GateResult r = store::gate_or_throw(doc, placement_gate(c, scope, doc, gate));
    out.diagnostics = std::move(r.diagnostics);
    out.rev = write_graph(c, row, doc, version_id);
    out.head = version_id;
    written = std::make_shared<const Json>(doc);
    out.world = std::move(doc);
  });
  ctx_.graphs().put(world_id, out.rev, std::move(written));
  return out;
}

Json SqliteVersions::diff(const Scope& scope, const std::string& world_id, const std::string& a, const std::string& b) {
  check_scope(scope);
  Json result;
  ctx_.read_tx([&](Conn& c) {
    load_world(ctx_, c, scope, world_id, false);
    std::int64_t seq_a = 0, seq_b = 0;
    load_version(c, world_id, a, &seq_a);
    load_version(c, world_id, b, &seq_b);
    auto ra = load_root(ctx_, c, seq_a);
    auto rb = load_root(ctx_, c, seq_b);
    BlobRepo blobs(ctx_, c);
    result = versions::diff_manifests(blobs, *ra, seq_a == seq_b ? *ra : *rb);
  });
  result["a"] = a;
  result["b"] = b;
  return result;
}

}  // namespace conjure::sqlite
