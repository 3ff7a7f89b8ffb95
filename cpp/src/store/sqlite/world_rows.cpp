#include "store/sqlite/world_rows.hpp"

#include "store/sqlite/characters.hpp"

#include "conjure/versions/snapshot.hpp"

namespace conjure::sqlite {

WorldInfo world_info_from(Stmt& s) {
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

WorldRow load_world(Context& ctx, Conn& c, const Scope& scope, const std::string& world_id, bool with_doc,
                    bool allow_public) {
  store::check_id(world_id, "world");
  WorldRow row;
  {
    Stmt s = c.prepare("SELECT " WORLD_COLS " FROM worlds WHERE id=? AND deleted_at IS NULL");
    s.args(world_id);
    if (!s.step()) throw Error(ErrorCode::kNotFound, "world not found");
    row.seq = s.i64(0);
    row.info = world_info_from(s);
    row.writes = s.i64(11);
    bool own = row.info.app_id == scope.app_id && row.info.mode == scope.mode;
    bool visible = allow_public && row.info.visibility == "public" && row.info.mode == scope.mode;
    if (!own && !visible) throw Error(ErrorCode::kNotFound, "world not found");
    if (with_doc) row.doc = ctx.graphs().get(world_id, row.info.rev);
  }
  if (with_doc && !row.doc) {
    // The document is read only when it is not cached (it may be megabytes).
    std::string text;
    Stmt d = c.prepare("SELECT doc FROM worlds WHERE seq=?");
    d.args(row.seq);
    if (d.step()) text = d.text(0);
    row.doc = std::make_shared<const Json>(store::parse_stored(text, "world document"));
    // A committed rev (read in this transaction): safe to share.
    ctx.graphs().put(world_id, row.info.rev, row.doc);
  }
  return row;
}

std::string write_graph(Conn& c, const WorldRow& row, const Json& doc, const std::string& head) {
  std::string text = versions::canonical(doc);
  std::int64_t writes = row.writes + 1;
  std::string rev = store::make_rev(writes, text);
  WorldInfo info = row.info;
  store::mirror_columns(doc, info);
  std::string now = now_rfc3339();
  c.prepare(
       "UPDATE worlds SET doc=?, rev=?, writes=?, name=?, description=?, cover=?, visibility=?, updated_at=?, "
       "head_version_id=coalesce(?, head_version_id) WHERE seq=?")
      .args(text, rev, writes, info.name, info.description, info.cover, info.visibility, now)
      .bind_opt(9, head)
      .bind(10, row.seq)
      .run();
  return rev;
}

void insert_world_row(Conn& c, const Scope& scope, const Json& doc, const std::string& text, const GateOptions& gate,
                      const std::string& forked_from, GraphWrite& out) {
  GateResult r = store::gate_or_throw(doc, placement_gate(c, scope, doc, gate));
  out.diagnostics = std::move(r.diagnostics);
  WorldInfo info;
  store::mirror_columns(doc, info);
  std::string now = now_rfc3339();
  out.rev = store::make_rev(1, text);
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

}  // namespace conjure::sqlite
