// Internal: worlds and their working graph on SQLite.
#pragma once
#include <functional>

#include "conjure/store/worlds.hpp"
#include "store/sqlite/context.hpp"

namespace conjure::sqlite {

class SqliteWorlds : public virtual WorldStore {
 public:
  explicit SqliteWorlds(Context& ctx) : ctx_(ctx) {}

  GraphWrite create_world(const Scope& scope, const Json& world, const GateOptions& gate) override;
  WorldInfo get_world_info(const Scope& scope, const std::string& world_id) override;
  Graph get_graph(const Scope& scope, const std::string& world_id) override;
  GraphText get_graph_text(const Scope& scope, const std::string& world_id) override;
  Page<WorldInfo> list_worlds(const Scope& scope, int limit, const std::string& cursor) override;
  GraphWrite patch_world(const Scope& scope, const std::string& world_id, const Json& patch,
                         const std::string& expected_rev, const GateOptions& gate) override;
  void delete_world(const Scope& scope, const std::string& world_id, const std::string& expected_rev) override;
  GraphWrite fork_world(const Scope& scope, const std::string& world_id, const std::string& name,
                        const GateOptions& gate) override;
  GraphWrite apply_ops(const Scope& scope, const std::string& world_id, const Json& ops,
                       const std::string& expected_rev, const GateOptions& gate) override;
  GraphWrite put_world(const Scope& scope, const std::string& world_id, const Json& world,
                       const std::string& expected_rev, const GateOptions& gate) override;

 private:
  using Edit = std::function<Json(const Json&, GraphWrite&)>;
  // Loads the world in a write transaction, checks the rev, lets `edit`
  // compute the new document, gates it and stores it. With `allow_unchanged`
  // an edit that changes nothing is gated but not written (the rev stays).
  GraphWrite graph_write(const Scope& scope, const std::string& world_id, const std::string& expected_rev,
                         const GateOptions& gate, const Edit& edit, bool allow_unchanged = false);
  // Inserts `doc` (normalised, with its new id) as a new world; a fork also
  // gets its first version, stored against `base_version` (the source's head).
  GraphWrite insert_world(const Scope& scope, Json doc, const GateOptions& gate, const std::string& forked_from,
                          const std::string& base_version);

  Context& ctx_;
};

}  // namespace conjure::sqlite
