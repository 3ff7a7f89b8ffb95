// The world document (SMWorld 1.0, WORLD.md §1): parse, normalise, serialise.
// A world is held as JSON so unknown properties survive verbatim; the kernel
// builds a typed model from it when it runs the gate.
#pragma once
#include <string>
#include <string_view>

#include "conjure/json.hpp"
#include "conjure/world/limits.hpp"

namespace conjure {

inline constexpr const char* kSchemaVersion = "1.0";

// Parses JSON text. Throws Error(kLimit) when the text is over
// limits.max_document_bytes or nests deeper than limits.max_depth, and
// Error(kParse) with a "line L, column C" message and a byte offset for
// malformed JSON or invalid UTF-8. Never recurses on the input's depth.
Json parse_json(std::string_view text, const Limits& limits = Limits{});

// Normalises a world in place, touching only well-typed fields: sets
// `schemaVersion` to "1.0" when absent and writes every event's `from` as an array.
void normalise(Json& world);

// parse_json + normalise.
Json parse_world(std::string_view text, const Limits& limits = Limits{});

// Compact (indent < 0) or pretty JSON text. Never throws on odd strings.
std::string serialise(const Json& value, int indent = -1);

// Depth of the deepest nesting in `value` (iterative).
std::size_t json_depth(const Json& value);

}  // namespace conjure
