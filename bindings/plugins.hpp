// Python plugin lints -> the core's ExternalLint callbacks, shared by every
// binding that runs the kernel gate (kernel.cpp defines it; store.cpp uses it).
#pragma once
#include <pybind11/pybind11.h>

#include <memory>
#include <vector>

#include "conjure/kernel/gate.hpp"

namespace conjure_py {

// None -> no plugins; otherwise an iterable of callables, each with a str `id`
// "plugin.<name>" and an optional `allow_error`. The lints are called with the
// GIL taken, from whatever thread runs the gate. Throws Error(kBadInput).
// Call with the GIL held; drop the result with the GIL held.
std::vector<std::shared_ptr<conjure::ExternalLint>> plugins_arg(pybind11::handle plugins);

}  // namespace conjure_py
