// Python objects <-> conjure::Json, depth bounded, without going through text.
#pragma once
#include <pybind11/pybind11.h>

#include <cstddef>
#include <string>

#include "conjure/json.hpp"
#include "conjure/world/limits.hpp"

namespace conjure_py {

// Converts dict/list/tuple/str/int/float/bool/None. Anything else, a non-str
// dict key, NaN/inf, an int outside 64 bits, or nesting deeper than `max_depth`
// throws conjure::Error(kBadInput / kLimit) naming the path (`what`.a[2].b).
conjure::Json to_json(pybind11::handle obj, std::size_t max_depth, const std::string& what = "value");

// Converts a Json value to fresh Python objects (dict/list/str/int/float/bool/None).
pybind11::object from_json(const conjure::Json& value);

// A world argument: a dict is converted, str/bytes are parsed as JSON text with
// `limits` (GIL released while parsing). Throws conjure::Error.
conjure::Json world_arg(pybind11::handle obj, const conjure::Limits& limits, const std::string& what = "world");

// The UTF-8 text of a str or bytes-like argument, or throws Error(kBadInput).
std::string text_arg(pybind11::handle obj, const std::string& what);

}  // namespace conjure_py

namespace conjure_py {

// A `limits` argument: None gives the defaults, else a conjure._core.Limits.
conjure::Limits limits_arg(pybind11::handle obj);

}  // namespace conjure_py
