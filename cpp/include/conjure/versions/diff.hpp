// Structural diff of two worlds (WORLD.md §4, API.md diff body, docs/ops.md "Diff").
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "conjure/json.hpp"

namespace conjure {

// Returns {states: {added: [id], removed: [id], changed: [{id, fields: [path]}]},
//          events: {added: [name], removed: [name], changed: [{name, fields: [path]}]},
//          entrance: {from, to, fields: [path]} | null,
//          slots: {added: [name], removed: [name], changed: [name]}}
// Lists are sorted; field paths are dotted (`base`, `camera.static`, `ambient`, `ending.kind`).
// Worlds are normalised copies (event `from` compared as arrays).
Json diff_worlds(const Json& a, const Json& b);

// Sorted dotted paths of the fields that differ between two state (or event)
// objects: objects are walked key by key (unknown keys too), arrays and scalars
// are compared whole and reported by their own path. A top-level `from` written
// as a string equals the one-element array. When `a` or `b` is not an object
// and they differ, the answer is ["*"] (the whole item).
Json diff_fields(const Json& a, const Json& b);

// The `entrance` member of the diff between the documents `a` and `b` (whole
// worlds, or any object holding their `entrance`): null when the two entrance
// values are equal, else {from: state|null, to: state|null, fields: [path]}.
// When only the image changes, from == to and `fields` names the image paths.
Json diff_entrance(const Json& a, const Json& b);

// The `slots` member: {added, removed, changed} from the two documents'
// `scene.slots` (a missing or non-object `slots` reads as {}).
Json diff_slots(const Json& a, const Json& b);

// Assembles the diff shape from parts found by any walk (the storage engine
// walks per-item content hashes and reports only the items that differ).
// Items may be reported in any order; build() sorts every list.
class DiffBuilder {
 public:
  void state_added(std::string id);
  void state_removed(std::string id);
  // `fields` as from diff_fields; an empty list records nothing.
  void state_changed(std::string id, Json fields);
  void event_added(std::string name);
  void event_removed(std::string name);
  void event_changed(std::string name, Json fields);
  void set_entrance(Json entrance);  // a diff_entrance result (default null)
  void set_slots(Json slots);        // a diff_slots result (default: all empty)
  Json build() &&;

 private:
  std::vector<std::string> states_added_, states_removed_, events_added_, events_removed_;
  std::vector<std::pair<std::string, Json>> states_changed_, events_changed_;
  Json entrance_;
  Json slots_;
};

}  // namespace conjure
