// The kernel gate (WORLD.md §2): one function decides whether a world may persist.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "conjure/json.hpp"
#include "conjure/kernel/diagnostic.hpp"
#include "conjure/kernel/tokenizer.hpp"
#include "conjure/world/limits.hpp"

namespace conjure {

// A lint that lives outside the core (a Python plugin). Called after the
// built-in lints with the resolved world, with no core lock held. Any exception
// it throws becomes one `plugin-error` diagnostic; the gate never fails because
// of a plugin.
class ExternalLint {
 public:
  virtual ~ExternalLint() = default;
  virtual std::string id() const = 0;   // "plugin.<name>"
  virtual std::vector<Diagnostic> run(const Json& resolved_world) = 0;
};

struct GateOptions {
  Limits limits;
  const Tokenizer* tokenizer = nullptr;   // nullptr: default_tokenizer()
  std::vector<std::shared_ptr<ExternalLint>> plugins;
};

struct GateResult {
  bool ok = false;                       // no error-severity diagnostic
  std::vector<Diagnostic> diagnostics;   // every finding, stable order
  Json resolved;                         // the resolved world when ok, else null
};

// Runs the gate on a parsed world document (normalises a copy first).
GateResult run_gate(const Json& world, const GateOptions& options = GateOptions{});

// Parses `text` (limits apply) then runs the gate. Malformed JSON or a
// document over the byte/depth limits throws Error(kParse / kLimit).
GateResult run_gate_text(std::string_view text, const GateOptions& options = GateOptions{});

struct LintInfo {
  std::string id;
  Severity severity;
  bool structural;          // structural lints always block the write
  std::string description;  // one line
};

// Every built-in lint id (plus `plugin-error`), in the order of WORLD.md's tables.
const std::vector<LintInfo>& lint_catalogue();

}  // namespace conjure
