// Maps the core's one error enum to conjure.errors' exception classes, once.
#include <pybind11/gil_safe_call_once.h>
#include <pybind11/pybind11.h>

#include <exception>
#include <new>
#include <string>

#include "bindings.hpp"
#include "conjure/errors.hpp"
#include "conjure/json.hpp"
#include "conjure/store/errors.hpp"
#include "errors_bridge.hpp"
#include "json_convert.hpp"

namespace py = pybind11;

namespace conjure_py {

// conjure.errors._from_core(code, message, offset, diagnostics), imported once.
static py::object& factory() {
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<py::object> storage;
  return storage
      .call_once_and_store_result(
          []() { return py::module_::import("conjure.errors").attr("_from_core"); })
      .get_stored();
}

void raise_error(const conjure::Error& e, py::object diagnostics) {
  py::object offset = e.offset() == conjure::Error::npos ? py::object(py::none()) : py::object(py::int_(e.offset()));
  py::object exc = factory()(conjure::error_code_name(e.code()), e.what(), offset, diagnostics);
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
}

void set_internal(const std::string& message) {
  conjure::Error e(conjure::ErrorCode::kInternal, message);
  raise_error(e, py::none());
}


}  // namespace conjure_py

void init_errors(py::module_& m) {
  py::register_exception_translator([](std::exception_ptr p) {
    if (!p) return;
    try {
      std::rethrow_exception(p);
    } catch (const conjure::Error& e) {
      py::object diags = py::none();
      if (const auto* refused = dynamic_cast<const conjure::GateFailed*>(&e)) {
        py::list list;
        for (const auto& d : refused->diagnostics()) list.append(conjure_py::from_json(d.to_json()));
        diags = std::move(list);
      }
      conjure_py::raise_error(e, diags);
    } catch (const conjure::Json::exception& e) {
      conjure_py::set_internal(std::string("internal JSON fault: ") + e.what());
    }
  });
  m.def("error_code_names", []() {
    py::list names;
    for (int c = static_cast<int>(conjure::ErrorCode::kBadInput);
         c <= static_cast<int>(conjure::ErrorCode::kCapacity); ++c) {
      names.append(conjure::error_code_name(static_cast<conjure::ErrorCode>(c)));
    }
    return names;
  }, "Every core error code's snake_case name, in enum order.");
}
