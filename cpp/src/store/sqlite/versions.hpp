// Internal: the version tree on SQLite. A version row keeps its manifest
// (versions/manifest.hpp) whole or as a merge patch against its parent's; the
// parts live in the blobs table (blobs.hpp).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "conjure/store/versions.hpp"
#include "store/sqlite/context.hpp"
#include "store/sqlite/world_rows.hpp"

namespace conjure::sqlite {

// Binds a version id as stored: a lowercase UUID as its 16 bytes, any other id as its text.
void bind_version_id(Stmt& s, int i, const std::string& id);
// The version `version_id` of `world_id` and its seq (kNotFound otherwise).
VersionInfo load_version(Conn& c, const std::string& world_id, const std::string& version_id, std::int64_t* seq);
// The root manifest of version `seq` (cached by version id: a fresh UUID, never reused).
std::shared_ptr<const Json> load_root(Context& ctx, Conn& c, std::int64_t seq);
// Inserts a version row holding `root`; returns its seq.
std::int64_t insert_version(Context& ctx, Conn& c, const VersionInfo& v, std::int64_t world_seq,
                            std::int64_t parent_seq, const Json& root);
// Writes a version of `row` holding `doc`. Its parts are stored against the
// parent's manifest; with no parent, against that of version `base_version`
// (an id or empty: a fork's source head), so a fork shares them by reference.
VersionInfo write_snapshot(Context& ctx, Conn& c, const WorldRow& row, const Json& doc, const std::string& parent_id,
                           const std::string& message, const std::string& base_version);
// Migration 3 (legacy_versions.cpp): re-snapshots every schema-2 version into the compact layout.
void convert_legacy_versions(Context& ctx, Conn& c);

class SqliteVersions : public virtual VersionStore {
 public:
  explicit SqliteVersions(Context& ctx) : ctx_(ctx) {}

  VersionInfo snapshot(const Scope& scope, const std::string& world_id, const std::string& parent_id,
                       const std::string& message) override;
  VersionTree list_versions(const Scope& scope, const std::string& world_id) override;
  VersionInfo get_version(const Scope& scope, const std::string& world_id, const std::string& version_id,
                          Json* world) override;
  GraphWrite checkout(const Scope& scope, const std::string& world_id, const std::string& version_id,
                      const std::string& expected_rev, const GateOptions& gate) override;
  Json diff(const Scope& scope, const std::string& world_id, const std::string& a, const std::string& b) override;

 private:
  Context& ctx_;
};

}  // namespace conjure::sqlite
