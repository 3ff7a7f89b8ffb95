// A kernel diagnostic (WORLD.md §2): {lint, severity, path, message, loc?}.
#pragma once
#include <string>
#include <vector>

#include "conjure/json.hpp"

namespace conjure {

enum class Severity { kError = 0, kWarning = 1, kInfo = 2 };

const char* severity_name(Severity s) noexcept;      // "error" | "warning" | "info"
bool parse_severity(const std::string& s, Severity* out) noexcept;

struct Diagnostic {
  std::string lint;      // lint id, e.g. "dangling-ref", "plugin.spelling"
  Severity severity = Severity::kError;
  std::string path;      // human readable: state[cellar].base, event[Step outside].to, ...
  std::string message;   // what is wrong and how to fix it
  Json loc;              // null when absent; {field, template, slot, fill} or {field, start, end, match}

  Json to_json() const;
};

// Sorts diagnostics in the stable public order: by path, then lint id; ties keep
// their emission order (e.g. matches in one field stay in text order).
void sort_diagnostics(std::vector<Diagnostic>& diags);

bool has_errors(const std::vector<Diagnostic>& diags) noexcept;

}  // namespace conjure
