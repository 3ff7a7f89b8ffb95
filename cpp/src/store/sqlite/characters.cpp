#include "store/sqlite/characters.hpp"

#include <unordered_set>

#include "conjure/auth/crypto.hpp"
#include "conjure/errors.hpp"
#include "conjure/ops/ops.hpp"
#include "conjure/versions/snapshot.hpp"
#include "conjure/world/world.hpp"

namespace conjure::sqlite {

using store::check_scope;

namespace {

constexpr const char* kCols = "seq, id, name, created_at, updated_at, rev";
constexpr std::size_t kMaxPlacements = 1000;  // looked up per world write; the gate's limits bound the rest
constexpr int kNamedWorlds = 10;              // worlds a refused delete names

CharacterInfo info_from(Stmt& s) {
  CharacterInfo info;
  info.id = s.text(1);
  info.name = s.text(2);
  info.created_at = s.text(3);
  info.updated_at = s.text(4);
  info.rev = s.text(5);
  return info;
}

struct Row {
  std::int64_t seq = 0, writes = 0;
  std::string rev;
  Json doc;
};

// A live character of `scope`; kNotFound otherwise (another app's is not found).
Row load(Conn& c, const Scope& scope, const std::string& id) {
  store::check_id(id, "character");
  Stmt s = c.prepare(
      "SELECT seq, writes, rev, doc FROM characters WHERE id=? AND app_id=? AND mode=? AND deleted_at IS NULL");
  s.args(id, scope.app_id, scope.mode);
  if (!s.step()) throw Error(ErrorCode::kNotFound, "character not found");
  Row row;
  row.seq = s.i64(0);
  row.writes = s.i64(1);
  row.rev = s.text(2);
  row.doc = store::parse_stored(s.text(3), "character");
  return row;
}

// Normalises `doc` as a character with `id`, gates it and returns its canonical text.
std::string prepare(Json& doc, const std::string& id, const GateOptions& gate, CharacterWrite& out) {
  normalise(doc);
  doc["id"] = id;
  doc["kind"] = "character";
  std::string text = versions::canonical(doc);
  store::check_doc_size(text, gate);
  GateResult r = store::gate_or_throw(doc, gate);
  out.diagnostics = std::move(r.diagnostics);
  return text;
}

}  // namespace

CharacterWrite SqliteCharacters::create_character(const Scope& scope, const Json& character, const GateOptions& gate) {
  check_scope(scope);
  if (!character.is_object()) throw Error(ErrorCode::kBadInput, "character: expected a JSON object");
  CharacterWrite out;
  Json doc = character;
  std::string text = prepare(doc, auth::uuid4(), gate, out);
  out.rev = store::make_rev(1, text);
  std::string now = now_rfc3339();
  ctx_.write_tx([&](Conn& c) {
    c.prepare("INSERT INTO characters(id, app_id, mode, name, doc, rev, writes, created_at, updated_at) "
              "VALUES (?,?,?,?,?,?,1,?,?)")
        .args(doc["id"].get<std::string>(), scope.app_id, scope.mode, store::str_field(doc, "name"), text, out.rev,
              now, now)
        .run();
  });
  out.character = std::move(doc);
  return out;
}

CharacterRead SqliteCharacters::get_character(const Scope& scope, const std::string& character_id) {
  check_scope(scope);
  CharacterRead out;
  ctx_.read_tx([&](Conn& c) {
    Row row = load(c, scope, character_id);
    out.character = std::move(row.doc);
    out.rev = row.rev;
  });
  return out;
}

Page<CharacterInfo> SqliteCharacters::list_characters(const Scope& scope, int limit, const std::string& cursor) {
  check_scope(scope);
  return ctx_.page<CharacterInfo>(
      "SELECT seq, id, name, created_at, updated_at, rev FROM characters WHERE app_id=? AND mode=? "
      "AND deleted_at IS NULL AND seq>? ORDER BY seq LIMIT ?",
      limit, cursor, 0, info_from, scope.app_id, scope.mode);
}

CharacterWrite SqliteCharacters::patch_character(const Scope& scope, const std::string& character_id,
                                                 const Json& patch, const std::string& expected_rev,
                                                 const GateOptions& gate) {
  check_scope(scope);
  if (!patch.is_object() || patch.empty()) {
    throw Error(ErrorCode::kBadInput, "patch: expected a JSON merge patch (an object with the fields to change)");
  }
  CharacterWrite out;
  ctx_.write_tx([&](Conn& c) {
    Row row = load(c, scope, character_id);
    if (!expected_rev.empty() && expected_rev != row.rev) {
      throw Error(ErrorCode::kConflict, "rev mismatch: the character is at rev " + row.rev + ", not " + expected_rev +
                                            "; re-read it and retry");
    }
    Json doc = row.doc;
    merge_patch(doc, patch);
    std::string text = prepare(doc, character_id, gate, out);
    out.rev = store::make_rev(row.writes + 1, text);
    c.prepare("UPDATE characters SET doc=?, rev=?, writes=?, name=?, updated_at=? WHERE seq=?")
        .args(text, out.rev, row.writes + 1, store::str_field(doc, "name"), now_rfc3339(), row.seq)
        .run();
    out.character = std::move(doc);
  });
  return out;
}

void SqliteCharacters::delete_character(const Scope& scope, const std::string& character_id,
                                        const std::string& expected_rev) {
  check_scope(scope);
  ctx_.write_tx([&](Conn& c) {
    Row row = load(c, scope, character_id);
    if (!expected_rev.empty() && expected_rev != row.rev) {
      throw Error(ErrorCode::kConflict, "rev mismatch: the character is at rev " + row.rev + ", not " + expected_rev);
    }
    // The worlds that place it, read from their working graphs in this transaction.
    Stmt s = c.prepare(
        "SELECT w.id FROM worlds w WHERE w.app_id=? AND w.mode=? AND w.deleted_at IS NULL AND EXISTS ("
        "SELECT 1 FROM json_each(w.doc, '$.characters') p WHERE json_extract(p.value, '$.id') = ?) "
        "ORDER BY w.seq LIMIT ?");
    s.args(scope.app_id, scope.mode, character_id, kNamedWorlds + 1);
    std::vector<std::string> worlds;
    while (s.step()) worlds.push_back(s.text(0));
    if (!worlds.empty()) {
      std::string names;
      for (std::size_t i = 0; i < worlds.size() && i < static_cast<std::size_t>(kNamedWorlds); ++i) {
        names += (i ? ", " : "") + worlds[i];
      }
      if (worlds.size() > static_cast<std::size_t>(kNamedWorlds)) names += " and more";
      throw Error(ErrorCode::kConflict, "character " + character_id + " is placed in world" +
                                            (worlds.size() > 1 ? "s " : " ") + names +
                                            "; remove it from their `characters` first");
    }
    c.prepare("UPDATE characters SET deleted_at=? WHERE seq=?").args(now_rfc3339(), row.seq).run();
    c.prepare("DELETE FROM character_talk WHERE character_id=?").args(character_id).run();
  });
}

Json SqliteCharacters::get_talk(const Scope& scope, const std::string& session, const std::string& character_id) {
  check_scope(scope);
  Json out;
  ctx_.read_tx([&](Conn& c) {
    Stmt s = c.prepare(
        "SELECT memory FROM character_talk WHERE session=? AND character_id=? AND app_id=? AND mode=? "
        "AND expires_unix > ?");
    s.args(session, character_id, scope.app_id, scope.mode, store::unix_now());
    if (s.step()) out = store::parse_stored(s.text(0), "talk memory");
  });
  return out;
}

void SqliteCharacters::put_talk(const Scope& scope, const std::string& session, const std::string& character_id,
                                const Json& memory, std::int64_t expires_unix) {
  check_scope(scope);
  if (session.empty() || session.size() > 200) throw Error(ErrorCode::kBadInput, "session: 1-200 characters");
  store::check_id(character_id, "character");
  std::string text = memory.dump();
  if (text.size() > kMaxTalkBytes) {
    throw Error(ErrorCode::kLimit, "talk memory is " + std::to_string(text.size()) + " bytes, over the limit of " +
                                       std::to_string(kMaxTalkBytes));
  }
  std::int64_t now = store::unix_now();
  ctx_.write_tx([&](Conn& c) {
    c.prepare("DELETE FROM character_talk WHERE expires_unix <= ?").args(now).run();
    if (expires_unix <= now) return;  // the session is over: nothing to keep
    c.prepare(
         "INSERT INTO character_talk(session, character_id, app_id, mode, memory, expires_unix) VALUES (?,?,?,?,?,?) "
         "ON CONFLICT(session, character_id) DO UPDATE SET memory=excluded.memory, expires_unix=excluded.expires_unix "
         "WHERE character_talk.app_id=excluded.app_id AND character_talk.mode=excluded.mode")
        .args(session, character_id, scope.app_id, scope.mode, text, expires_unix)
        .run();
  });
}

GateOptions placement_gate(Conn& c, const Scope& scope, const Json& doc, const GateOptions& gate) {
  auto it = doc.find("characters");
  if (it == doc.end() || !it->is_array()) return gate;
  GateOptions out = gate;
  std::vector<std::string> known;
  std::unordered_set<std::string> seen;
  std::size_t n = 0;
  for (const Json& p : *it) {
    if (++n > kMaxPlacements) break;
    if (!p.is_object()) continue;
    auto id = p.find("id");
    if (id == p.end() || !id->is_string() || !seen.insert(id->get<std::string>()).second) continue;
    Stmt s = c.prepare("SELECT 1 FROM characters WHERE id=? AND app_id=? AND mode=? AND deleted_at IS NULL");
    s.args(id->get<std::string>(), scope.app_id, scope.mode);
    if (s.step()) known.push_back(id->get<std::string>());
  }
  out.characters = std::move(known);
  return out;
}

}  // namespace conjure::sqlite
