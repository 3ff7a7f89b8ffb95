// Internal: the rules every store backend shares — the clock, input checks,
// cursors, the rev of a working graph, and the world checks a write runs.
#pragma once
#include <cstdint>
#include <string>

#include "conjure/json.hpp"
#include "conjure/kernel/gate.hpp"
#include "conjure/store/common.hpp"
#include "conjure/store/worlds.hpp"

namespace conjure::store {

std::int64_t unix_now();
// RFC 3339 UTC with milliseconds ("2026-01-02T03:04:05.678Z").
std::string format_time(std::int64_t unix_seconds, int millis);
std::int64_t unix_millis_now();

// kBadInput for a scope that is not (1-200 characters, "test" | "live").
void check_scope(const Scope& s);
// kNotFound for an id no row can have (empty or over 200 characters).
void check_id(const std::string& id, const char* what);
// kBadInput outside 1..100.
int check_limit(int limit);
// The seq a cursor this store issued stands for (0: the first page); kBadInput otherwise.
std::int64_t parse_cursor(const std::string& cursor);

// A string member of `doc`, or empty.
std::string str_field(const Json& doc, const char* key);
// A stored JSON text; kStorage when it does not parse (the store is damaged).
Json parse_stored(const std::string& text, const char* what);

// The rev of write `writes` of a working graph whose canonical text is `canonical_doc`.
std::string make_rev(std::int64_t writes, const std::string& canonical_doc);
// The metadata columns a world's document carries (name, description, cover, visibility).
void mirror_columns(const Json& doc, WorldInfo& info);
// The gate's result; GateFailed (nothing written) when it refuses the world.
GateResult gate_or_throw(const Json& doc, const GateOptions& gate);
// kLimit when the canonical text is over the gate's document size limit.
void check_doc_size(const std::string& text, const GateOptions& gate);
// kConflict when `expected_rev` is given and is not the world's rev.
void check_rev(const WorldInfo& info, const std::string& expected_rev);

}  // namespace conjure::store
