// The one JSON type of the core. nlohmann::json keeps object keys sorted, which
// also makes canonical serialisation (content hashes, stable output) free.
#pragma once
#include <nlohmann/json.hpp>

namespace conjure {
using Json = nlohmann::json;
}  // namespace conjure
