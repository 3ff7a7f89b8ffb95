// The kernel gate (WORLD.md §2): one function decides whether a world may persist.
#pragma once
#include <memory>
#include <optional>
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
  // Build GateResult::resolved when the world is accepted. Callers that only
  // want the findings set it false (resolve_text builds the resolved world later).
  bool resolve = true;
  // The character ids a world may place (its app's and mode's), supplied by the
  // store; unset, the gate checks placements against the world's states only.
  std::optional<std::vector<std::string>> characters;
};

struct GateResult {
  bool ok = false;                       // no error-severity diagnostic
  std::vector<Diagnostic> diagnostics;   // every finding, stable order
  Json resolved;                         // the resolved world when ok (and options.resolve), else null
};

// Runs the gate on a parsed world document (normalises a copy first, or the
// document itself when it is handed over).
GateResult run_gate(const Json& world, const GateOptions& options = GateOptions{});
GateResult run_gate(Json&& world, const GateOptions& options = GateOptions{});

// Reads `text` (limits apply) then runs the gate. Malformed JSON or a
// document over the byte/depth limits throws Error(kParse / kLimit), exactly as
// parse_json does.
GateResult run_gate_text(std::string_view text, const GateOptions& options = GateOptions{});

// The resolved world of JSON text (slots filled, `from` normalised,
// schemaVersion set): what run_gate_text puts in GateResult::resolved when it
// accepts the text. Throws as parse_json does; null when the text is no world.
Json resolve_text(std::string_view text, const Limits& limits = Limits{});

// The gate's fast JSON reader alone, for measuring: reads `text` with the
// limits and discards it. Throws Error(kLimit) over the byte limit; false when
// the reader refuses the text (run_gate_text then reports it as parse_json does).
bool read_text_only(std::string_view text, const Limits& limits = Limits{});

struct LintInfo {
  std::string id;
  Severity severity;
  bool structural;          // structural lints always block the write
  std::string description;  // one line
};

// Every built-in lint id (plus `plugin-error`), in the order of WORLD.md's tables.
const std::vector<LintInfo>& lint_catalogue();

}  // namespace conjure
