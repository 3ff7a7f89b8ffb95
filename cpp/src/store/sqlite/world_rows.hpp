// Internal: the worlds table as the other units use it — load a world of a
// scope, write its working graph, insert a new one — inside the caller's
// transaction. Nothing here touches a cache: callers fill the graph cache only
// after their transaction commits.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "conjure/store/worlds.hpp"
#include "store/sqlite/context.hpp"

namespace conjure::sqlite {

#define WORLD_COLS                                                                                      \
  "seq, id, app_id, mode, name, description, cover, visibility, created_at, updated_at, rev, writes, " \
  "coalesce(head_version_id, ''), coalesce(forked_from, '')"

// A row selected with WORLD_COLS.
WorldInfo world_info_from(Stmt& s);

struct WorldRow {
  std::int64_t seq = 0;
  WorldInfo info;
  std::int64_t writes = 0;
  std::shared_ptr<const Json> doc;
};

// Loads a live world of `scope` (or, with `allow_public`, a public one of
// another app in the same mode); kNotFound otherwise. With `with_doc` the
// document is parsed (or taken from the graph cache when its rev matches).
WorldRow load_world(Context& ctx, Conn& c, const Scope& scope, const std::string& world_id, bool with_doc,
                    bool allow_public = false);

// Writes `doc` as the working graph of `row` with a new rev (returned); a
// non-empty `head` also moves the world's HEAD.
std::string write_graph(Conn& c, const WorldRow& row, const Json& doc, const std::string& head);

// Gates `doc` (its canonical `text`) and inserts it as a new world of `scope`;
// sets out.diagnostics and out.rev.
void insert_world_row(Conn& c, const Scope& scope, const Json& doc, const std::string& text, const GateOptions& gate,
                      const std::string& forked_from, GraphWrite& out);

}  // namespace conjure::sqlite
