// conjure._core: structural diff of two worlds (cpp/include/conjure/versions).
#include <pybind11/pybind11.h>

#include "bindings.hpp"
#include "conjure/versions/diff.hpp"
#include "conjure/world/limits.hpp"
#include "json_convert.hpp"

namespace py = pybind11;
using conjure::Json;

void init_versions(py::module_& m) {
  m.def(
      "diff",
      [](py::handle a, py::handle b, py::handle limits) {
        conjure::Limits lim = conjure_py::limits_arg(limits);
        Json wa = conjure_py::world_arg(a, lim, "a");
        Json wb = conjure_py::world_arg(b, lim, "b");
        Json out;
        {
          py::gil_scoped_release release;
          out = conjure::diff_worlds(wa, wb);
        }
        return conjure_py::from_json(out);
      },
      py::arg("a"), py::arg("b"), py::arg("limits") = py::none(),
      "Structural diff: states/events added, removed, changed (with field paths), entrance and slots.");
}
