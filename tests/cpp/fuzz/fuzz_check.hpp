// Invariants every gate result must hold, whatever the input. A violation
// aborts, so libFuzzer (and the corpus replay) reports it like a crash.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "conjure/errors.hpp"
#include "conjure/kernel/diagnostic.hpp"
#include "conjure/kernel/gate.hpp"
#include "conjure/world/world.hpp"

namespace conjure_fuzz {

[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz invariant violated: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

// ok is exactly "no error diagnostic"; resolved is an object when ok and null
// otherwise; diagnostics carry a lint, a path, a message and come sorted by
// (path, lint); every diagnostic serialises.
inline void check_gate_result(const conjure::GateResult& result) {
  const auto& diags = result.diagnostics;
  if (result.ok != !conjure::has_errors(diags)) fail("ok disagrees with the error diagnostics");
  if (result.ok && !result.resolved.is_object()) fail("ok result without a resolved world object");
  if (!result.ok && !result.resolved.is_null()) fail("refused world with a resolved world");
  for (std::size_t i = 0; i < diags.size(); ++i) {
    const auto& d = diags[i];
    if (d.lint.empty()) fail("diagnostic without a lint id");
    if (d.path.empty()) fail("diagnostic " + d.lint + " without a path");
    if (d.message.empty()) fail("diagnostic " + d.lint + " at " + d.path + " without a message");
    if (i > 0) {
      const auto& p = diags[i - 1];
      if (p.path > d.path || (p.path == d.path && p.lint > d.lint)) {
        fail("diagnostics out of order: " + p.path + "/" + p.lint + " before " + d.path + "/" + d.lint);
      }
    }
    std::string text = conjure::serialise(d.to_json());
    if (text.empty()) fail("diagnostic serialised to nothing");
  }
  if (result.ok) {
    std::string text = conjure::serialise(result.resolved);
    if (text.empty()) fail("resolved world serialised to nothing");
  }
}

// Errors run_gate_text / parse may throw: malformed input or a passed limit.
inline void check_input_error(const conjure::Error& e) {
  auto code = e.code();
  if (code != conjure::ErrorCode::kParse && code != conjure::ErrorCode::kLimit) {
    fail(std::string("unexpected error code ") + conjure::error_code_name(code) + ": " + e.what());
  }
}

}  // namespace conjure_fuzz
