// The version manifest over stored parts (snapshot.hpp cuts a world into
// parts): {v: 2, rest, order, sb, s: {bucket: blob id}, eb, e: {...}}, where a
// bucket blob maps each key (a state id, an event name) to its part's blob id.
// Equal content has one id, so equal ids mean equal parts and a diff skips
// equal buckets. The layout is the backend's concern only through PartStore:
// any store that keeps content blobs under integer ids reuses these functions.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "conjure/json.hpp"

namespace conjure::versions {

// Where a manifest's blobs live (one store transaction).
class PartStore {
 public:
  virtual ~PartStore() = default;
  // Stores `value` (unless present) and returns its id; `base` (a blob id or 0)
  // is the blob it most likely changed from, a hint for delta encoding.
  virtual std::int64_t put(const Json& value, std::int64_t base) = 0;
  // The blob `id` (Error(kStorage) when it is missing).
  virtual std::shared_ptr<const Json> get(std::int64_t id) = 0;
};

// Stores the parts of `doc` and returns its manifest; `base` (a manifest or
// null) is the one the snapshot most likely changed from.
Json store_parts(PartStore& parts, const Json& doc, const Json& base);
// The world a manifest holds.
Json materialise(PartStore& parts, const Json& root);
// Part ids of a bucket level: key -> blob id, over all buckets.
std::map<std::string, std::int64_t> bucket_entries(PartStore& parts, const Json& level);
// The structural diff (diff.hpp) of two manifests' worlds, reading only the
// parts whose ids differ.
Json diff_manifests(PartStore& parts, const Json& a, const Json& b);
// The blob ids a manifest names directly: its whole parts (rest, order) and
// its bucket blobs (whose entries name the state and event parts).
void manifest_refs(const Json& root, std::vector<std::int64_t>* parts, std::vector<std::int64_t>* buckets);

}  // namespace conjure::versions
