// Internal: integrity check and online backup of a SQLite store.
#pragma once
#include "conjure/store/maintenance.hpp"
#include "store/sqlite/context.hpp"

namespace conjure::sqlite {

class SqliteMaintenance : public virtual MaintenanceStore {
 public:
  explicit SqliteMaintenance(Context& ctx) : ctx_(ctx) {}

  CheckReport check() override;
  void backup(const std::string& path) override;
  std::string path() const override { return ctx_.path(); }

 private:
  Context& ctx_;
};

}  // namespace conjure::sqlite
