// The version tree of a world (store.hpp: the contract).
#pragma once
#include <string>
#include <vector>

#include "conjure/json.hpp"
#include "conjure/kernel/gate.hpp"
#include "conjure/store/common.hpp"
#include "conjure/store/worlds.hpp"

namespace conjure {

struct VersionInfo {
  std::string id, world_id, parent_id, message, created_at;
  bool head = false;
};
struct VersionTree {
  std::vector<VersionInfo> data;  // oldest-first
  std::string head;               // empty: no version yet
};

class VersionStore {
 public:
  virtual ~VersionStore() = default;

  virtual VersionInfo snapshot(const Scope& scope, const std::string& world_id, const std::string& parent_id,
                               const std::string& message) = 0;
  virtual VersionTree list_versions(const Scope& scope, const std::string& world_id) = 0;
  virtual VersionInfo get_version(const Scope& scope, const std::string& world_id,
                                  const std::string& version_id, Json* world) = 0;
  virtual GraphWrite checkout(const Scope& scope, const std::string& world_id, const std::string& version_id,
                              const std::string& expected_rev, const GateOptions& gate) = 0;
  virtual Json diff(const Scope& scope, const std::string& world_id, const std::string& a,
                    const std::string& b) = 0;
};

}  // namespace conjure
