// The curated graph-op vocabulary (WORLD.md §3, seed 003 GraphOp).
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "conjure/errors.hpp"
#include "conjure/json.hpp"

namespace conjure {

struct ApplyError {
  std::size_t index;   // position of the op in the batch
  ErrorCode code;      // kNotFound (unknown id/name/label), kConflict (exists), kBadInput (refused, e.g. delete the entrance)
  std::string message; // readable, names the op: "op 2 (delete_state cellar): ..."
};

struct OpsResult {
  Json world;                            // the edited copy (not yet gated)
  std::vector<ApplyError> apply_errors;  // ops that were skipped
};

// Checks the shape of an ops batch: a non-empty array of objects, each with a
// known `op` and its required fields of the right types. Throws
// Error(kBadInput) naming every problem ("ops[1].id: expected a string", ...).
void check_ops(const Json& ops);

// Applies `ops` in order to a copy of `world`. Ops that cannot apply are
// skipped and reported; the rest go on. The caller runs the gate once on the
// result. Calls check_ops first.
OpsResult apply_ops(const Json& world, const Json& ops);

// A fresh, readable state id derived from prose ("cellar", "cellar-2", ...)
// that is not a key of world.scene.states.
std::string derive_state_id(const Json& world, const std::string& prose);

// RFC 7386 JSON merge patch: objects merge recursively, null deletes a field.
void merge_patch(Json& target, const Json& patch);

}  // namespace conjure
