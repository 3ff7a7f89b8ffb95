// Worlds and their working graph (store.hpp: the contract).
//
// rev: an opaque token of the working graph, "<n>-<h>" where n is the world's
// write counter (increments on every write, never reused) and h the first 16 hex
// digits of the SHA-256 of the stored document. Compare with ==, never parse.
#pragma once
#include <string>
#include <vector>

#include "conjure/json.hpp"
#include "conjure/kernel/diagnostic.hpp"
#include "conjure/kernel/gate.hpp"
#include "conjure/ops/ops.hpp"
#include "conjure/store/common.hpp"

namespace conjure {

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

class WorldStore {
 public:
  virtual ~WorldStore() = default;

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
};

}  // namespace conjure
