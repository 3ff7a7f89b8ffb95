// Integrity checks and online backups of a store.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace conjure {

struct CheckReport {
  bool ok = false;
  std::vector<std::string> integrity;   // PRAGMA integrity_check lines ("ok" when clean)
  std::vector<std::string> foreign_keys;  // one line per violation
  std::int64_t missing_blobs = 0;       // referenced by a version or a delta, absent
  std::int64_t orphan_blobs = 0;        // stored, referenced by nothing
  std::int64_t blobs = 0, versions = 0, worlds = 0;
};

class MaintenanceStore {
 public:
  virtual ~MaintenanceStore() = default;

  virtual CheckReport check() = 0;
  virtual void backup(const std::string& path) = 0;
  virtual std::string path() const = 0;
};

}  // namespace conjure
