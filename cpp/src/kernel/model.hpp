// Private to the kernel gate: the typed model of a world that the lints run on.
// One model, filled by one builder from either reader: the parsed JSON document
// (run_gate) or the fast reader's document (run_gate_text). Prose is never
// copied: every text is a view into the reader's document, which outlives the model,
// and paths are formatted only for the findings that name them.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
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

// Strings (views, which must outlive the index) to numbers, in one flat
// open-addressing table: one hash of the bytes per look-up, no node per entry.
class ViewIndex {
 public:
  void reserve(std::size_t n);
  // Adds key -> value unless key is present; returns the value key now holds.
  std::size_t insert(std::string_view key, std::size_t value);
  // The value of key, or kNone.
  std::size_t find(std::string_view key) const noexcept;
  bool contains(std::string_view key) const noexcept { return find(key) != kNone; }
  std::size_t size() const noexcept { return entries_.size(); }

 private:
  std::size_t slot(std::string_view key, std::uint64_t hash) const noexcept;
  void rehash(std::size_t buckets);

  std::vector<std::pair<std::string_view, std::size_t>> entries_;
  std::vector<std::uint64_t> hashes_;   // of entries_, for rehashing and quick rejects
  std::vector<std::uint32_t> table_;    // 1 + index into entries_, 0 when empty
};

// Where a prose field lives.
enum class Owner : std::uint8_t { kState, kVariant, kEvent, kCutscene };

// Which field of its owner a prose field is.
enum class Layer : std::uint8_t {
  kBase, kDetail, kCameraStatic, kCameraDynamic, kMovementStatic, kMovementDynamic, kAmbient
};

// One piece of a parsed template: literal text, or a `{slot}` reference.
struct Segment {
  bool is_slot = false;
  std::string_view text;   // literal text (escapes undone) or the slot name; a view
                           // into the template's JSON string, which outlives the model
  std::size_t slot = kNone;  // index into Model::slots when is_slot and defined
};

// Ids, names and prose are views into the reader's document, which outlives the
// model. Paths are built only when a finding names them (the path() functions).
struct ProseField {
  std::string_view raw;       // the text as written (escapes of JSON undone)
  Json* site = nullptr;       // the string in a JSON document to fill (run_gate only)
  Owner owner = Owner::kState;
  Layer layer = Layer::kBase;
  bool override_prose = false;  // prose of an `override` event (lethal-override)
  std::size_t owner_index = 0;  // state / event / cutscene index
  std::size_t variant = 0;      // variants[i] when owner is kVariant
  std::size_t item = 0;         // ambient[i] when layer is kAmbient
  std::vector<Segment> segments;  // empty when the text holds no brace (then verbatim)
  bool fillable = false;        // every slot it uses is defined, acyclic, within limits
  bool verbatim = false;        // compiling leaves the text as written (no slots, no escapes)
  std::string filled;           // the text with slots filled, when fillable and not verbatim

  // The compiled text (only meaningful when fillable).
  std::string_view text() const { return verbatim ? raw : std::string_view(filled); }
};

struct Slot {
  std::string_view name;
  std::string_view raw;         // the string value
  std::vector<Segment> segments;
  bool defined_ok = false;      // a string value

  std::string path() const;     // scene.slots.<name>
};

struct Ending {
  bool present = false;
  bool valid = false;
};

struct State {
  std::string_view id;
  bool id_ok = true;            // matches the id pattern
  Ending ending;
  // Indices into Model::prose of the state's own layers (kNone when absent).
  std::size_t base = kNone, cam_static = kNone, cam_dynamic = kNone, mov_static = kNone,
              mov_dynamic = kNone;
  std::vector<std::size_t> ambient;

  std::string path() const;     // state[id]
  void path_to(std::string& out) const;  // writes path() into out (reusing its storage)
};

enum class EventKind : std::uint8_t { kTransition, kOverride, kTerminal, kInvalid };

struct Event {
  std::size_t index = 0;        // position in scene.events
  std::string_view name;
  bool name_ok = false;
  EventKind kind = EventKind::kInvalid;
  bool from_ok = false;         // `from` is a non-empty array of strings
  bool has_to = false;          // `to` present (and not null)
  bool to_ok = false;           // `to` is a string
  bool hidden = false;
  std::vector<std::string_view> from;
  std::string_view to;
  std::string_view hotkey;      // empty when none
  std::vector<std::string_view> requires_;
  std::vector<std::string_view> grants;
  double after = 0;
  Ending ending;

  std::string path() const;     // event[name] or scene.events[i] when the name is unusable
  void path_to(std::string& out) const;  // writes path() into out (reusing its storage)
};

struct Cutscene {
  std::size_t index = 0;        // position in scene.cutscenes
  std::string_view name;
  bool name_ok = false;
  bool has_state = false;
  std::string_view state;

  std::string path() const;     // cutscene[name] or scene.cutscenes[i]
};

// A character's brain (kind "character"): persona, lore, voice. Views into the document.
struct Brain {
  bool present = false;         // `brain` is an object
  bool persona_seen = false;    // `persona` is present (of any type)
  bool persona_ok = false;      // `persona` is a string
  std::string_view persona;
  bool lore_is_text = false;    // one text the server splits into passages
  std::vector<std::string_view> lore;  // the entries (or the one text)
  bool has_voice = false;
  std::string_view engine;      // empty when absent
  std::string_view voice_name;  // empty when absent
  bool has_rate = false, has_pitch = false;
  double rate = 1, pitch = 0.5;
};

// One entry of a world's top-level `characters`: {id, states}.
struct Placement {
  std::size_t index = 0;        // position in `characters`
  std::string_view id;
  bool id_ok = false;
  std::vector<std::string_view> states;
};

struct Model {
  bool fatal = false;           // the document cannot be read as a world at all
  bool character = false;       // kind "character": a stance graph with a brain
  Brain brain;
  std::vector<Placement> placements;  // a world's `characters`
  bool entrance_ok = false;
  std::string_view entrance;    // entrance.state when entrance_ok
  std::vector<Slot> slots;
  ViewIndex slot_index;          // slot name -> index into slots
  std::vector<State> states;
  ViewIndex state_index;         // state id -> index into states
  std::vector<Event> events;
  std::vector<Cutscene> cutscenes;
  std::vector<ProseField> prose;
  std::size_t states_count = 0;  // entries of scene.states (for the limit)
  std::size_t events_count = 0;

  std::string path(const ProseField& f) const;  // state[cellar].base, event[Open door].detail, ...
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

// lints_character.cpp: the character-… lints (persona, lore, voice, stances,
// a world's placements; `known` lists the characters a placement may name, or
// is null when the caller does not say).
void lint_character(const Model& model, Context& cx, const std::vector<std::string>* known);

// lints_graph.cpp: kernel-cycle, unreachable, stuck, unsatisfiable-requires, no-ending.
void lint_graph(const Model& model, Context& cx);

// lints_doctrine.cpp: negation, whiteout, intent, lethal-override; budget.
// lint_doctrine writes, per prose field, the conjure-words-v1 token count of its
// raw text when that holds no brace (kNone otherwise); lint_budget reuses them.
void lint_doctrine(const Model& model, Context& cx, std::vector<std::size_t>& prose_tokens);
void lint_budget(const Model& model, Context& cx, const std::vector<std::size_t>& prose_tokens);

// Strongly connected components of a directed graph (iterative Tarjan). Returns
// the components that form a cycle (more than one node, or a self-loop), each
// listing its nodes in ascending order.
std::vector<std::vector<std::size_t>> cyclic_components(
    std::size_t n, const std::vector<std::vector<std::size_t>>& adj);

}  // namespace conjure::kernel
