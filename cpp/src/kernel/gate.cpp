// The kernel gate (WORLD.md §2): read the document, build the typed model
// (schema), compile (slots), run every built-in lint, then the plugin lints,
// then sort. JSON text is read with the fast reader (simdjson); a parsed
// document is read as it is. Both fill the one model the lints run on.
#include "conjure/kernel/gate.hpp"

#include <simdjson.h>

#include <algorithm>
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

// Every built-in lint on a built model (not fatal).
// A character's prose is stance descriptions and triggers, not pixels: the
// doctrine and budget lints do not apply to it.
void run_lints(kernel::Model& model, kernel::Context& cx, const GateOptions& options) {
  kernel::compile(model, cx);
  kernel::lint_structural(model, cx);
  if (!model.character) {
    std::vector<std::size_t> prose_tokens;  // counted by the doctrine scan, reused by the budget
    kernel::lint_doctrine(model, cx, prose_tokens);
    kernel::lint_budget(model, cx, prose_tokens);
  }
  kernel::lint_graph(model, cx);
  kernel::lint_character(model, cx, options.characters ? &*options.characters : nullptr);
}

// Writes the compiled prose of a model built from `doc` into `doc` and sets
// schemaVersion: `doc` becomes the resolved world.
void fill_resolved(Json& doc, kernel::Model& model) {
  for (kernel::ProseField& f : model.prose) {
    if (f.fillable && !f.verbatim && f.site) *f.site = std::move(f.filled);
  }
  auto sv = doc.find("schemaVersion");
  if (sv == doc.end() || sv->is_null()) doc["schemaVersion"] = kSchemaVersion;
}

const Tokenizer& tokenizer_of(const GateOptions& options) {
  return options.tokenizer ? *options.tokenizer : default_tokenizer();
}

GateResult gate_owned(Json doc, const GateOptions& options) {
  GateResult result;
  normalise(doc);
  kernel::Context cx{options.limits, tokenizer_of(options), result.diagnostics};
  kernel::Model model;
  kernel::build_model(doc, model, cx);
  if (!model.fatal) {
    run_lints(model, cx, options);
    fill_resolved(doc, model);
    run_plugins(options, doc, result.diagnostics);
  }
  sort_diagnostics(result.diagnostics);
  result.ok = !has_errors(result.diagnostics);
  if (result.ok && options.resolve) result.resolved = std::move(doc);
  return result;
}

// The fast reader keeps its buffers (about 14 bytes per byte of text) between
// calls on a thread for documents up to this size; a larger one gets buffers
// of its own, released when the call returns.
constexpr std::size_t kKeepParserBytes = 1u << 20;

}  // namespace

GateResult run_gate(const Json& world, const GateOptions& options) {
  return gate_owned(world, options);
}

GateResult run_gate(Json&& world, const GateOptions& options) {
  return gate_owned(std::move(world), options);
}

namespace {

simdjson::dom::parser& thread_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

// Reads `text` with the fast reader. Over the byte limit it throws as
// parse_json does; false when the reader refuses the text.
bool fast_read(std::string_view text, const Limits& limits, simdjson::dom::parser& parser,
               simdjson::dom::element& root) {
  if (text.size() > limits.max_document_bytes) parse_json(text, limits);  // throws the limit error
  if (text.empty()) return false;  // no bytes to hand the reader; the standard parse reports it
  simdjson::error_code err = simdjson::SUCCESS;
  if (parser.capacity() < text.size() || parser.max_depth() != limits.max_depth) {
    err = parser.allocate(std::max(parser.capacity(), text.size()), limits.max_depth);
  }
  if (!err) err = parser.parse(text.data(), text.size(), true).get(root);
  return !err;
}

}  // namespace

GateResult run_gate_text(std::string_view text, const GateOptions& options) {
  const Limits& limits = options.limits;
  simdjson::dom::parser own;
  simdjson::dom::element root;
  if (!fast_read(text, limits, text.size() <= kKeepParserBytes ? thread_parser() : own, root)) {
    // The reader refuses whatever the standard parse refuses (malformed JSON,
    // invalid UTF-8, too deep); the standard parse reports it with its position.
    // What it refuses alone (a number it cannot hold) takes the standard path.
    return gate_owned(parse_json(text, limits), options);
  }
  GateResult result;
  kernel::Context cx{limits, tokenizer_of(options), result.diagnostics};
  kernel::Model model;
  kernel::build_model(root, model, cx);
  if (!model.fatal) run_lints(model, cx, options);
  bool ok = !has_errors(result.diagnostics);
  if (!model.fatal && (!options.plugins.empty() || (ok && options.resolve))) {
    Json doc = resolve_text(text, limits);
    run_plugins(options, doc, result.diagnostics);  // a plugin may run the gate again
    ok = !has_errors(result.diagnostics);
    if (ok && options.resolve) result.resolved = std::move(doc);
  }
  sort_diagnostics(result.diagnostics);
  result.ok = ok;
  return result;
}

bool read_text_only(std::string_view text, const Limits& limits) {
  simdjson::dom::parser own;
  simdjson::dom::element root;
  return fast_read(text, limits, text.size() <= kKeepParserBytes ? thread_parser() : own, root);
}

Json resolve_text(std::string_view text, const Limits& limits) {
  Json doc = parse_json(text, limits);
  normalise(doc);
  std::vector<Diagnostic> scratch;
  kernel::Context cx{limits, default_tokenizer(), scratch};
  kernel::Model model;
  kernel::build_model(doc, model, cx);
  if (model.fatal) return Json();
  kernel::compile(model, cx);
  fill_resolved(doc, model);
  return doc;
}

}  // namespace conjure
