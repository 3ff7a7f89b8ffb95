// The error a write path throws when the kernel gate refuses the world.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "conjure/errors.hpp"
#include "conjure/kernel/diagnostic.hpp"

namespace conjure {

// Error(kGateFailed) carrying every diagnostic of the refused world (stable
// order). The bindings' translator exposes them as GateError.diagnostics.
class GateFailed : public Error {
 public:
  explicit GateFailed(std::vector<Diagnostic> diagnostics,
                      const std::string& message = "the world failed the kernel gate")
      : Error(ErrorCode::kGateFailed, message), diagnostics_(std::move(diagnostics)) {}
  const std::vector<Diagnostic>& diagnostics() const noexcept { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

}  // namespace conjure
