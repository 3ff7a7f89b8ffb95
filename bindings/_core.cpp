#include <pybind11/pybind11.h>

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  m.doc() = "conjure's native core (private: import conjure instead)";
  m.attr("__version__") = CONJURE_VERSION;
}
