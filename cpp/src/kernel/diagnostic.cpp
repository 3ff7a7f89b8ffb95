#include "conjure/kernel/diagnostic.hpp"

#include <algorithm>

namespace conjure {

const char* severity_name(Severity s) noexcept {
  switch (s) {
    case Severity::kError: return "error";
    case Severity::kWarning: return "warning";
    case Severity::kInfo: return "info";
  }
  return "error";
}

bool parse_severity(const std::string& s, Severity* out) noexcept {
  if (s == "error") *out = Severity::kError;
  else if (s == "warning") *out = Severity::kWarning;
  else if (s == "info") *out = Severity::kInfo;
  else return false;
  return true;
}

Json Diagnostic::to_json() const {
  Json j = {{"lint", lint}, {"severity", severity_name(severity)}, {"path", path}, {"message", message}};
  if (!loc.is_null()) j["loc"] = loc;
  return j;
}

void sort_diagnostics(std::vector<Diagnostic>& diags) {
  std::stable_sort(diags.begin(), diags.end(), [](const Diagnostic& a, const Diagnostic& b) {
    if (a.path != b.path) return a.path < b.path;
    return a.lint < b.lint;
  });
}

bool has_errors(const std::vector<Diagnostic>& diags) noexcept {
  return std::any_of(diags.begin(), diags.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::kError; });
}

}  // namespace conjure
