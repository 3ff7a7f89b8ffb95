// The kernel gate (WORLD.md §2): normalise, build the typed model (schema),
// compile (slots), run every built-in lint, then the plugin lints, then sort.
#include "conjure/kernel/gate.hpp"

#include <exception>

#include "conjure/world/world.hpp"
#include "kernel/model.hpp"

namespace conjure {

namespace {

void run_plugins(const GateOptions& options, const Json& world, std::vector<Diagnostic>& out) {
  for (const auto& plugin : options.plugins) {
    if (!plugin) continue;
    std::string id = "plugin";
    try {
      id = plugin->id();
      std::vector<Diagnostic> found = plugin->run(world);
      for (Diagnostic& d : found) out.push_back(std::move(d));
    } catch (const std::exception& e) {
      out.push_back(Diagnostic{"plugin-error", Severity::kWarning, "plugin[" + id + "]",
                               "plugin " + id + " failed: " + e.what() +
                                   "; its findings are missing from this report, fix or disable the plugin",
                               Json()});
    } catch (...) {
      out.push_back(Diagnostic{"plugin-error", Severity::kWarning, "plugin[" + id + "]",
                               "plugin " + id +
                                   " failed with an unknown exception; its findings are missing from "
                                   "this report, fix or disable the plugin",
                               Json()});
    }
  }
}

GateResult gate_owned(Json doc, const GateOptions& options) {
  GateResult result;
  normalise(doc);
  const Tokenizer& tokenizer = options.tokenizer ? *options.tokenizer : default_tokenizer();
  kernel::Context cx{options.limits, tokenizer, result.diagnostics};
  kernel::Model model;
  kernel::build_model(doc, model, cx);
  if (!model.fatal) {
    kernel::compile(model, cx);
    kernel::lint_structural(model, cx);
    kernel::lint_doctrine(model, cx);
    kernel::lint_budget(model, cx);
    kernel::lint_graph(model, cx);
    // The resolved world: every prose field that could be filled, filled.
    for (kernel::ProseField& f : model.prose) {
      if (f.fillable && !f.verbatim) *f.node = std::move(f.filled);
    }
    auto sv = doc.find("schemaVersion");
    if (sv == doc.end() || sv->is_null()) doc["schemaVersion"] = kSchemaVersion;
    run_plugins(options, doc, result.diagnostics);
  }
  sort_diagnostics(result.diagnostics);
  result.ok = !has_errors(result.diagnostics);
  if (result.ok) result.resolved = std::move(doc);
  return result;
}

}  // namespace

GateResult run_gate(const Json& world, const GateOptions& options) {
  return gate_owned(world, options);
}

GateResult run_gate_text(std::string_view text, const GateOptions& options) {
  return gate_owned(parse_json(text, options.limits), options);
}

}  // namespace conjure
