// conjure._core: the private native module. Users import `conjure`.
#include <pybind11/pybind11.h>

#include "bindings.hpp"

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  m.doc() = "conjure's native core (private: import conjure instead)";
  m.attr("__version__") = CONJURE_VERSION;
  init_errors(m);
  init_world(m);
  init_kernel(m);
  init_ops(m);
  init_versions(m);
  init_store(m);
  init_runtime(m);
  init_postgres(m);
}
