// Shared by the binding files: raising conjure.errors exceptions.
#pragma once
#include <pybind11/pybind11.h>

#include <string>

#include "conjure/errors.hpp"

namespace conjure_py {

// Sets the Python error for `e` (the class for its code), with `diagnostics`
// (a list of dicts or None) for GateError.
void raise_error(const conjure::Error& e, pybind11::object diagnostics);

}  // namespace conjure_py
