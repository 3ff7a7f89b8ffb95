// conjure._core: Limits, parse, normalise, serialise (cpp/include/conjure/world).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>

#include "bindings.hpp"
#include "conjure/errors.hpp"
#include "conjure/world/limits.hpp"
#include "conjure/world/world.hpp"
#include "json_convert.hpp"

namespace py = pybind11;
using conjure::Json;
using conjure::Limits;

namespace conjure_py {

Limits limits_arg(py::handle obj) {
  if (obj.is_none()) return Limits{};
  if (!py::isinstance<Limits>(obj)) {
    throw conjure::Error(conjure::ErrorCode::kBadInput,
                         std::string("limits: expected conjure.Limits or None, got ") +
                             Py_TYPE(obj.ptr())->tp_name);
  }
  return obj.cast<Limits>();
}

}  // namespace conjure_py

void init_world(py::module_& m) {
  const Limits d{};
  py::class_<Limits>(m, "Limits", "Size limits of a world (all configurable).")
      .def(py::init([](std::size_t max_states, std::size_t max_events, std::size_t max_prose_chars,
                       std::size_t max_document_bytes, std::size_t max_depth,
                       std::size_t budget_tokens) {
             return Limits{max_states, max_events, max_prose_chars, max_document_bytes, max_depth,
                           budget_tokens};
           }),
           py::kw_only(), py::arg("max_states") = d.max_states, py::arg("max_events") = d.max_events,
           py::arg("max_prose_chars") = d.max_prose_chars,
           py::arg("max_document_bytes") = d.max_document_bytes, py::arg("max_depth") = d.max_depth,
           py::arg("budget_tokens") = d.budget_tokens)
      .def_readwrite("max_states", &Limits::max_states)
      .def_readwrite("max_events", &Limits::max_events)
      .def_readwrite("max_prose_chars", &Limits::max_prose_chars)
      .def_readwrite("max_document_bytes", &Limits::max_document_bytes)
      .def_readwrite("max_depth", &Limits::max_depth)
      .def_readwrite("budget_tokens", &Limits::budget_tokens)
      .def("__eq__",
           [](const Limits& a, py::object other) {
             if (!py::isinstance<Limits>(other)) return false;
             const Limits& b = other.cast<const Limits&>();
             return a.max_states == b.max_states && a.max_events == b.max_events &&
                    a.max_prose_chars == b.max_prose_chars &&
                    a.max_document_bytes == b.max_document_bytes && a.max_depth == b.max_depth &&
                    a.budget_tokens == b.budget_tokens;
           })
      .def("__repr__", [](const Limits& l) {
        return "Limits(max_states=" + std::to_string(l.max_states) +
               ", max_events=" + std::to_string(l.max_events) +
               ", max_prose_chars=" + std::to_string(l.max_prose_chars) +
               ", max_document_bytes=" + std::to_string(l.max_document_bytes) +
               ", max_depth=" + std::to_string(l.max_depth) +
               ", budget_tokens=" + std::to_string(l.budget_tokens) + ")";
      });

  m.def(
      "parse_only",
      [](py::handle text, py::handle limits) {
        std::string owned = conjure_py::text_arg(text, "text");
        Limits lim = conjure_py::limits_arg(limits);
        py::gil_scoped_release release;
        conjure::parse_json(owned, lim);
      },
      py::arg("text"), py::arg("limits") = py::none(),
      "Parses JSON text with the limits and discards it (GIL released).");

  m.def(
      "parse",
      [](py::handle text, py::handle limits) {
        std::string owned = conjure_py::text_arg(text, "text");
        Limits lim = conjure_py::limits_arg(limits);
        Json doc;
        {
          py::gil_scoped_release release;
          doc = conjure::parse_world(owned, lim);
        }
        return conjure_py::from_json(doc);
      },
      py::arg("text"), py::arg("limits") = py::none(),
      "Parses and normalises a world's JSON text; returns a dict.");

  m.def(
      "normalise",
      [](py::handle world, py::handle limits) {
        Limits lim = conjure_py::limits_arg(limits);
        Json doc = conjure_py::world_arg(world, lim);
        conjure::normalise(doc);
        return conjure_py::from_json(doc);
      },
      py::arg("world"), py::arg("limits") = py::none(),
      "A normalised copy of a world (schemaVersion set, every event's from an array).");

  m.def(
      "serialise",
      [](py::handle value, py::object indent) {
        Json doc = conjure_py::to_json(value, static_cast<std::size_t>(-1), "value");
        int ind = indent.is_none() ? -1 : indent.cast<int>();
        std::string out;
        {
          py::gil_scoped_release release;
          out = conjure::serialise(doc, ind);
        }
        return out;
      },
      py::arg("value"), py::arg("indent") = py::none(),
      "Canonical JSON text (sorted keys); compact unless indent is given.");
}
