// Internal: the content blobs of the version tree on SQLite, delta-encoded
// against the blob they most likely changed from. One BlobRepo serves one
// transaction (its connection); decoded blobs are cached across all of them.
#pragma once
#include <cstdint>
#include <memory>

#include "conjure/versions/manifest.hpp"
#include "store/sqlite/context.hpp"

namespace conjure::sqlite {

class BlobRepo final : public versions::PartStore {
 public:
  BlobRepo(Context& ctx, Conn& c) : ctx_(ctx), c_(c) {}

  // A blob is found by content through the index on the first 6 bytes of its SHA-256.
  std::int64_t put(const Json& value, std::int64_t base) override;
  // The blob `id`, its delta chain replayed. The cache is keyed by content hash,
  // so it stays right whatever becomes of the ids of a rolled-back transaction.
  std::shared_ptr<const Json> get(std::int64_t id) override;

 private:
  // Bytes of the patches from blob `id` back to the whole blob it is built on (-1: no such blob).
  std::int64_t chain_bytes(std::int64_t id);

  Context& ctx_;
  Conn& c_;
};

}  // namespace conjure::sqlite
