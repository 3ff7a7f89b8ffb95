// Content-addressed snapshots (WORLD.md §4): a world is split into parts that
// are stored as separate blobs named by the SHA-256 of their canonical JSON —
// one per state, one per event, the event order, and the rest of the document —
// and indexed by a two-level manifest (root -> buckets -> part hashes), so an
// unchanged part is shared between versions and diff skips equal buckets.
// These functions are pure; the store persists the blobs.
#pragma once
#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "conjure/json.hpp"

namespace conjure::versions {

// Canonical JSON text (sorted keys, compact, UTF-8 kept) and its SHA-256 (hex).
std::string canonical(const Json& value);
std::string content_hash(const std::string& canonical_text);

// A world cut into parts. `rest` is the document with scene.states replaced by {}
// and scene.events by [] (when present); `states` maps id -> state; `events`
// keeps document order. A world whose states/events are not well formed (not an
// object / not named objects with unique names) is kept whole in `rest`.
struct Parts {
  Json rest;
  std::map<std::string, Json> states;
  std::vector<std::pair<std::string, Json>> events;
};
Parts split_world(const Json& world);
Json join_world(Parts parts);

// Buckets of the manifest: a power of two chosen from the number of keys
// (about 16 keys per bucket), and the bucket of a key (from its SHA-256).
std::size_t bucket_count(std::size_t keys) noexcept;
std::string bucket_of(const std::string& key, std::size_t buckets);

// Delta encoding of a blob against a base: an RFC 7386 merge patch. Returns
// false when a merge patch cannot express `target` exactly (a null object
// member in the changed part), in which case the blob is stored whole.
// apply_delta applies one (conjure::merge_patch).
bool make_delta(const Json& base, const Json& target, Json* patch);
void apply_delta(Json& target, const Json& patch);

}  // namespace conjure::versions
