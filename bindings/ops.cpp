// conjure._core: the graph-op vocabulary (cpp/include/conjure/ops).
#include <pybind11/pybind11.h>

#include <string>

#include "bindings.hpp"
#include "conjure/errors.hpp"
#include "conjure/ops/ops.hpp"
#include "conjure/world/limits.hpp"
#include "conjure/world/world.hpp"
#include "json_convert.hpp"

namespace py = pybind11;
using conjure::Json;

namespace {

Json ops_arg(py::handle ops, const conjure::Limits& limits) {
  PyObject* p = ops.ptr();
  if (PyUnicode_Check(p) || PyBytes_Check(p) || PyByteArray_Check(p)) {
    std::string text = conjure_py::text_arg(ops, "ops");
    py::gil_scoped_release release;
    return conjure::parse_json(text, limits);
  }
  return conjure_py::to_json(ops, limits.max_depth, "ops");
}

}  // namespace

void init_ops(py::module_& m) {
  m.def(
      "check_ops",
      [](py::handle ops, py::handle limits) {
        conjure::Limits lim = conjure_py::limits_arg(limits);
        Json batch = ops_arg(ops, lim);
        py::gil_scoped_release release;
        conjure::check_ops(batch);
      },
      py::arg("ops"), py::arg("limits") = py::none(),
      "Checks an ops batch's shape; raises BadInputError naming every problem.");

  m.def(
      "apply_ops",
      [](py::handle world, py::handle ops, py::handle limits) {
        conjure::Limits lim = conjure_py::limits_arg(limits);
        Json doc = conjure_py::world_arg(world, lim);
        Json batch = ops_arg(ops, lim);
        conjure::OpsResult result;
        {
          py::gil_scoped_release release;
          result = conjure::apply_ops(doc, batch);
        }
        py::list errors;
        for (const auto& e : result.apply_errors) {
          py::dict d;
          d["index"] = e.index;
          d["code"] = conjure::error_code_name(e.code);
          d["message"] = e.message;
          errors.append(std::move(d));
        }
        return py::make_tuple(conjure_py::from_json(result.world), errors);
      },
      py::arg("world"), py::arg("ops"), py::arg("limits") = py::none(),
      "Applies ops in order to a copy of the world (not gated). Returns (world, apply_errors).");

  m.def(
      "derive_state_id",
      [](py::handle world, const std::string& prose) {
        Json doc = conjure_py::world_arg(world, conjure::Limits{});
        py::gil_scoped_release release;
        return conjure::derive_state_id(doc, prose);
      },
      py::arg("world"), py::arg("prose"),
      "A fresh, readable state id derived from prose that the world does not use yet.");
}
