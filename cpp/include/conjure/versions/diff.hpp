// Structural diff of two worlds (WORLD.md §4, API.md diff body).
#pragma once
#include "conjure/json.hpp"

namespace conjure {

// Returns {states: {added: [id], removed: [id], changed: [{id, fields: [path]}]},
//          events: {added: [name], removed: [name], changed: [{name, fields: [path]}]},
//          entrance: {from, to} | null,
//          slots: {added: [name], removed: [name], changed: [name]}}
// Lists are sorted; field paths are dotted (`base`, `camera.static`, `ambient`, `ending.kind`).
// Worlds are normalised copies (event `from` compared as arrays).
Json diff_worlds(const Json& a, const Json& b);

}  // namespace conjure
