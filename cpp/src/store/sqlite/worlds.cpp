#include "store/sqlite/worlds.hpp"

#include "store/sqlite/characters.hpp"

#include "conjure/auth/crypto.hpp"
#include "conjure/versions/snapshot.hpp"
#include "conjure/world/world.hpp"
#include "store/sqlite/versions.hpp"
#include "store/sqlite/world_rows.hpp"

namespace conjure::sqlite {

using store::check_scope;

GraphWrite SqliteWorlds::create_world(const Scope& scope, const Json& world, const GateOptions& gate) {
  check_scope(scope);
  if (!world.is_object()) throw Error(ErrorCode::kBadInput, "world: expected a JSON object");
  Json doc = world;
  normalise(doc);
  doc["id"] = auth::uuid4();
  return insert_world(scope, doc, gate, "", "");
}

GraphWrite SqliteWorlds::insert_world(const Scope& scope, Json doc, const GateOptions& gate,
                                      const std::string& forked_from, const std::string& base_version) {
  std::string text = versions::canonical(doc);
  store::check_doc_size(text, gate);
  GraphWrite out;
  std::string id = doc["id"].get<std::string>();
  ctx_.write_tx([&](Conn& c) {
    insert_world_row(c, scope, doc, text, gate, forked_from, out);
    if (!forked_from.empty()) {
      WorldRow row = load_world(ctx_, c, scope, id, false);
      VersionInfo v = write_snapshot(ctx_, c, row, doc, "", "fork of " + forked_from, base_version);
      out.head = v.id;
    }
  });
  ctx_.graphs().put(id, out.rev, std::make_shared<const Json>(doc));
  out.world = std::move(doc);
  return out;
}

WorldInfo SqliteWorlds::get_world_info(const Scope& scope, const std::string& world_id) {
  check_scope(scope);
  WorldInfo info;
  ctx_.read_tx([&](Conn& c) { info = load_world(ctx_, c, scope, world_id, false).info; });
  return info;
}

Graph SqliteWorlds::get_graph(const Scope& scope, const std::string& world_id) {
  check_scope(scope);
  Graph g;
  ctx_.read_tx([&](Conn& c) {
    WorldRow row = load_world(ctx_, c, scope, world_id, true);
    g.world = *row.doc;
    g.rev = row.info.rev;
  });
  return g;
}

// The stored column is the canonical text of the working graph (write_graph and
// insert_world_row write versions::canonical(doc)): one row read, no parse.
GraphText SqliteWorlds::get_graph_text(const Scope& scope, const std::string& world_id) {
  check_scope(scope);
  store::check_id(world_id, "world");
  GraphText g;
  ctx_.read_tx([&](Conn& c) {
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

Page<WorldInfo> SqliteWorlds::list_worlds(const Scope& scope, int limit, const std::string& cursor) {
  check_scope(scope);
  return ctx_.page<WorldInfo>("SELECT " WORLD_COLS " FROM worlds WHERE app_id=? AND mode=? AND deleted_at IS NULL "
                              "AND seq>? ORDER BY seq LIMIT ?",
                              limit, cursor, 0, world_info_from, scope.app_id, scope.mode);
}

GraphWrite SqliteWorlds::graph_write(const Scope& scope, const std::string& world_id, const std::string& expected_rev,
                                     const GateOptions& gate, const Edit& edit, bool allow_unchanged) {
  check_scope(scope);
  GraphWrite out;
  std::shared_ptr<const Json> written;  // the new working graph, cached once committed
  ctx_.write_tx([&](Conn& c) {
    WorldRow row = load_world(ctx_, c, scope, world_id, true);
    store::check_rev(row.info, expected_rev);
    Json doc = edit(*row.doc, out);
    normalise(doc);
    doc["id"] = row.info.id;
    if (allow_unchanged && doc == *row.doc) {
      GateResult r = run_gate(doc, placement_gate(c, scope, doc, gate));
      out.diagnostics = std::move(r.diagnostics);
      out.rev = row.info.rev;
      out.world = std::move(doc);
      return;
    }
    store::check_doc_size(versions::canonical(doc), gate);
    GateResult r = store::gate_or_throw(doc, placement_gate(c, scope, doc, gate));
    out.diagnostics = std::move(r.diagnostics);
    out.rev = write_graph(c, row, doc, "");
    written = std::make_shared<const Json>(doc);
    out.world = std::move(doc);
  });
  if (written) ctx_.graphs().put(world_id, out.rev, std::move(written));
  return out;
}

GraphWrite SqliteWorlds::patch_world(const Scope& scope, const std::string& world_id, const Json& patch,
                                     const std::string& expected_rev, const GateOptions& gate) {
  if (!patch.is_object() || patch.empty()) {
    throw Error(ErrorCode::kBadInput,
                "patch: expected an object with any of name, description, cover, visibility, characters");
  }
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    const std::string& k = it.key();
    if (k == "characters") {  // the characters the world places: checked by the gate
      if (!it->is_array() && !it->is_null()) throw Error(ErrorCode::kBadInput, "patch.characters: an array or null");
      continue;
    }
    if (k != "name" && k != "description" && k != "cover" && k != "visibility") {
      throw Error(ErrorCode::kBadInput,
                  "patch." + k + ": not a metadata field (name, description, cover, visibility, characters)");
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

void SqliteWorlds::delete_world(const Scope& scope, const std::string& world_id, const std::string& expected_rev) {
  check_scope(scope);
  ctx_.write_tx([&](Conn& c) {
    WorldRow row = load_world(ctx_, c, scope, world_id, false);
    store::check_rev(row.info, expected_rev);
    std::string now = now_rfc3339();
    c.prepare("UPDATE worlds SET deleted_at=?, updated_at=? WHERE seq=?").args(now, now, row.seq).run();
  });
}

GraphWrite SqliteWorlds::fork_world(const Scope& scope, const std::string& world_id, const std::string& name,
                                    const GateOptions& gate) {
  check_scope(scope);
  if (name.size() > 4000) throw Error(ErrorCode::kBadInput, "name: too long");
  Json doc;
  std::string base_version;  // the source's head: the fork's first manifest is stored against it
  ctx_.read_tx([&](Conn& c) {
    WorldRow row = load_world(ctx_, c, scope, world_id, true, true);
    doc = *row.doc;
    base_version = row.info.head;
  });
  doc["id"] = auth::uuid4();
  doc["visibility"] = "private";
  if (!name.empty()) doc["name"] = name;
  return insert_world(scope, std::move(doc), gate, world_id, base_version);
}

GraphWrite SqliteWorlds::apply_ops(const Scope& scope, const std::string& world_id, const Json& ops,
                                   const std::string& expected_rev, const GateOptions& gate) {
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

GraphWrite SqliteWorlds::put_world(const Scope& scope, const std::string& world_id, const Json& world,
                                   const std::string& expected_rev, const GateOptions& gate) {
  if (!world.is_object()) throw Error(ErrorCode::kBadInput, "world: expected a JSON object");
  return graph_write(scope, world_id, expected_rev, gate, [&](const Json&, GraphWrite&) { return world; });
}

}  // namespace conjure::sqlite
