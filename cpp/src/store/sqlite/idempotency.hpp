// Internal: idempotency records on SQLite.
#pragma once
#include "conjure/store/idempotency.hpp"
#include "store/sqlite/context.hpp"

namespace conjure::sqlite {

class SqliteIdempotency : public virtual IdempotencyStore {
 public:
  explicit SqliteIdempotency(Context& ctx) : ctx_(ctx) {}

  IdemBegin idem_begin(const Scope& scope, const std::string& key, const std::string& request_hash) override;
  void idem_complete(const Scope& scope, const std::string& key, int status, const std::string& body) override;
  void idem_release(const Scope& scope, const std::string& key) override;

 private:
  Context& ctx_;
};

}  // namespace conjure::sqlite
