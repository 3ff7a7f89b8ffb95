// Private to the kernel gate: the typed model of a world that the lints run on.
// One model, filled by one builder from either reader: the parsed JSON document
// (run_gate) or the fast reader's document (run_gate_text). Prose is never
// copied: every text is a view into the reader's document, which outlives the model.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "conjure/json.hpp"
#include "conjure/kernel/diagnostic.hpp"
#include "conjure/kernel/tokenizer.hpp"
#include "conjure/world/limits.hpp"

namespace simdjson::dom {
class element;
}  // namespace simdjson::dom

namespace conjure::kernel {

inline constexpr std::size_t kNone = static_cast<std::size_t>(-1);

// Where a prose field lives.
enum class Owner : std::uint8_t { kState, kVariant, kEvent, kCutscene };

// One piece of a parsed template: literal text, or a `{slot}` reference.
struct Segment {
  bool is_slot = false;
  std::string_view text;   // literal text (escapes undone) or the slot name; a view
                           // into the template's JSON string, which outlives the model
  std::size_t slot = kNone;  // index into Model::slots when is_slot and defined
};

struct ProseField {
  std::string path;           // state[cellar].base, event[Open door].detail, ...
  std::string_view raw;       // the text as written (escapes of JSON undone)
  Json* site = nullptr;       // the string in a JSON document to fill (run_gate only)
  Owner owner = Owner::kState;
  std::size_t owner_index = 0;  // state / event / cutscene index
  bool override_prose = false;  // prose of an `override` event (lethal-override)
  std::vector<Segment> segments;
  bool fillable = false;        // every slot it uses is defined, acyclic, within limits
  bool verbatim = false;        // compiling leaves the text as written (no slots, no escapes)
  std::string filled;           // the text with slots filled, when fillable and not verbatim

  // The compiled text (only meaningful when fillable).
  std::string_view text() const { return verbatim ? raw : std::string_view(filled); }
};

struct Slot {
  std::string name;
  std::string path;             // scene.slots.<name>
  std::string_view raw;         // the string value
  std::vector<Segment> segments;
  bool defined_ok = false;      // a string value
};

struct Ending {
  bool present = false;
  bool valid = false;
};

struct State {
  std::string id;
  std::string path;             // state[id]
  bool id_ok = true;            // matches the id pattern
  Ending ending;
  // Indices into Model::prose of the state's own layers (kNone when absent).
  std::size_t base = kNone, cam_static = kNone, cam_dynamic = kNone, mov_static = kNone,
              mov_dynamic = kNone;
  std::vector<std::size_t> ambient;
};

enum class EventKind : std::uint8_t { kTransition, kOverride, kTerminal, kInvalid };

struct Event {
  std::string name;
  std::string path;             // event[name] or scene.events[i] when the name is unusable
  bool name_ok = false;
  EventKind kind = EventKind::kInvalid;
  bool from_ok = false;         // `from` is a non-empty array of strings
  std::vector<std::string> from;
  bool has_to = false;          // `to` present (and not null)
  bool to_ok = false;           // `to` is a string
  std::string to;
  std::string hotkey;           // empty when none
  std::vector<std::string> requires_;
  std::vector<std::string> grants;
  bool hidden = false;
  double after = 0;
  Ending ending;
};

struct Cutscene {
  std::string name;
  std::string path;             // cutscene[name] or scene.cutscenes[i]
  bool name_ok = false;
  bool has_state = false;
  std::string state;
};

struct Model {
  bool fatal = false;           // the document cannot be read as a world at all
  bool entrance_ok = false;
  std::string entrance;         // entrance.state when entrance_ok
  std::vector<Slot> slots;
  std::unordered_map<std::string_view, std::size_t> slot_index;  // views into the JSON keys
  std::vector<State> states;
  std::unordered_map<std::string_view, std::size_t> state_index;  // views into State::id
  std::vector<Event> events;
  std::vector<Cutscene> cutscenes;
  std::vector<ProseField> prose;
  std::size_t states_count = 0;  // entries of scene.states (for the limit)
  std::size_t events_count = 0;
};

struct Context {
  const Limits& limits;
  const Tokenizer& tokenizer;
  std::vector<Diagnostic>& out;

  void add(const char* lint, Severity sev, std::string path, std::string message,
           Json loc = Json()) {
    Diagnostic d;
    d.lint = lint;
    d.severity = sev;
    d.path = std::move(path);
    d.message = std::move(message);
    d.loc = std::move(loc);
    out.push_back(std::move(d));
  }
  void error(const char* lint, std::string path, std::string message, Json loc = Json()) {
    add(lint, Severity::kError, std::move(path), std::move(message), std::move(loc));
  }
};

// ---- helpers shared by the lint files ----
std::size_t count_code_points(std::string_view s) noexcept;
bool valid_id(std::string_view s) noexcept;          // 1–64 chars of [A-Za-z0-9_.-]
std::string quote(std::string_view s);                // 'text', clipped for messages
// Length in bytes of a valid `{name}` slot reference starting at s[i] (name:
// 1–64 chars of [A-Za-z0-9_.-]), or 0 when s[i] does not start one.
std::size_t slot_ref_length(std::string_view s, std::size_t i) noexcept;

// model.cpp: builds the model and reports `schema` errors, from a parsed JSON
// document (normalised; ProseField::site points into it) or from the fast
// reader's document (simdjson; a single-string `from` reads as a one-item list).
void build_model(Json& world, Model& model, Context& cx);
void build_model(const simdjson::dom::element& world, Model& model, Context& cx);

// compile.cpp: parses templates, checks slots (undefined, cycles, limits), fills.
void compile(Model& model, Context& cx);

// lints_structural.cpp: refs, names, kinds, hotkeys, endings, limits on counts.
void lint_structural(const Model& model, Context& cx);

// lints_graph.cpp: kernel-cycle, unreachable, stuck, unsatisfiable-requires, no-ending.
void lint_graph(const Model& model, Context& cx);

// lints_doctrine.cpp: negation, whiteout, intent, lethal-override; budget.
void lint_doctrine(const Model& model, Context& cx);
void lint_budget(const Model& model, Context& cx);

// Strongly connected components of a directed graph (iterative Tarjan). Returns
// the components that form a cycle (more than one node, or a self-loop), each
// listing its nodes in ascending order.
std::vector<std::vector<std::size_t>> cyclic_components(
    std::size_t n, const std::vector<std::vector<std::size_t>>& adj);

}  // namespace conjure::kernel
