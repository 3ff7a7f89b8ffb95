// Idempotency keys (scope: app, mode, key); records expire after 24 h.
#pragma once
#include <string>

#include "conjure/store/common.hpp"

namespace conjure {

struct IdemBegin {
  enum class Kind { kNew, kReplay, kConflict, kInFlight };
  Kind kind = Kind::kNew;
  int status = 0;    // replay
  std::string body;  // replay
};

class IdempotencyStore {
 public:
  virtual ~IdempotencyStore() = default;

  virtual IdemBegin idem_begin(const Scope& scope, const std::string& key, const std::string& request_hash) = 0;
  // Stores status/body for replay; a 5xx status releases the key instead.
  virtual void idem_complete(const Scope& scope, const std::string& key, int status, const std::string& body) = 0;
  virtual void idem_release(const Scope& scope, const std::string& key) = 0;
};

}  // namespace conjure
