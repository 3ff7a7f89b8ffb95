#include "json_convert.hpp"

#include <Python.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "conjure/errors.hpp"
#include "conjure/world/world.hpp"

namespace py = pybind11;
using conjure::Error;
using conjure::ErrorCode;
using conjure::Json;

namespace conjure_py {
namespace {

// Recursion is bounded by the depth limit; this cap keeps the native stack safe
// even when a caller configures an enormous max_depth.
constexpr std::size_t kHardDepthCap = 1000;

// Thrown inside the converter; each frame adds its path segment on the way out,
// so the success path never builds path strings.
struct PathError {
  ErrorCode code;
  std::string reason;
  std::vector<std::string> segments;  // innermost first
};

std::string type_name(PyObject* obj) { return Py_TYPE(obj)->tp_name; }

class ToJson {
 public:
  explicit ToJson(std::size_t max_depth) : max_depth_(std::min(max_depth, kHardDepthCap)) {}

  Json convert(PyObject* obj, std::size_t depth) {
    if (obj == Py_None) return Json(nullptr);
    if (obj == Py_True) return Json(true);
    if (obj == Py_False) return Json(false);
    if (PyUnicode_Check(obj)) return Json(str(obj));
    if (PyLong_Check(obj)) return integer(obj);
    if (PyFloat_Check(obj)) {
      double v = PyFloat_AS_DOUBLE(obj);
      if (!std::isfinite(v)) {
        throw PathError{ErrorCode::kBadInput, "NaN and infinity are not JSON numbers", {}};
      }
      return Json(v);
    }
    if (PyDict_Check(obj)) return dict(obj, depth + 1);
    if (PyList_Check(obj) || PyTuple_Check(obj)) return sequence(obj, depth + 1);
    throw PathError{ErrorCode::kBadInput,
                    "a " + type_name(obj) +
                        " is not JSON (use dict, list, tuple, str, int, float, bool or None)",
                    {}};
  }

 private:
  std::size_t max_depth_;

  void enter(std::size_t depth) {
    if (depth > max_depth_) {
      throw PathError{ErrorCode::kLimit,
                      "nests deeper than the limit of " + std::to_string(max_depth_) + " levels",
                      {}};
    }
  }

  static std::string str(PyObject* obj) {
    Py_ssize_t n = 0;
    const char* s = PyUnicode_AsUTF8AndSize(obj, &n);
    if (s == nullptr) {
      PyErr_Clear();
      throw PathError{ErrorCode::kBadInput, "a string that is not valid UTF-8 (lone surrogate)", {}};
    }
    return std::string(s, static_cast<std::size_t>(n));
  }

  static Json integer(PyObject* obj) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (overflow == 0) {
      if (v == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        throw PathError{ErrorCode::kBadInput, "an integer that cannot be read", {}};
      }
      return Json(static_cast<std::int64_t>(v));
    }
    if (overflow > 0) {
      unsigned long long u = PyLong_AsUnsignedLongLong(obj);
      if (!(u == static_cast<unsigned long long>(-1) && PyErr_Occurred())) {
        return Json(static_cast<std::uint64_t>(u));
      }
      PyErr_Clear();
    }
    throw PathError{ErrorCode::kBadInput, "an integer outside the 64-bit range", {}};
  }

  Json dict(PyObject* obj, std::size_t depth) {
    enter(depth);
    Json out = Json::object();
    auto& map = out.get_ref<Json::object_t&>();
    PyObject* key = nullptr;
    PyObject* value = nullptr;
    Py_ssize_t pos = 0;
    while (PyDict_Next(obj, &pos, &key, &value)) {
      if (!PyUnicode_Check(key)) {
        PyObject* r = PyObject_Repr(key);
        std::string shown = "?";
        if (r != nullptr) {
          const char* s = PyUnicode_AsUTF8(r);
          if (s != nullptr) shown = s;
          Py_DECREF(r);
        }
        PyErr_Clear();
        if (shown.size() > 40) shown = shown.substr(0, 40) + "...";
        throw PathError{ErrorCode::kBadInput,
                        "object keys must be str, got " + type_name(key) + " " + shown, {}};
      }
      std::string k = str(key);
      try {
        Json child = convert(value, depth);
        map.insert_or_assign(std::move(k), std::move(child));
      } catch (PathError& e) {
        e.segments.push_back("." + k);
        throw;
      }
    }
    return out;
  }

  Json sequence(PyObject* obj, std::size_t depth) {
    enter(depth);
    Json out = Json::array();
    auto& arr = out.get_ref<Json::array_t&>();
    Py_ssize_t n = PySequence_Fast_GET_SIZE(obj);
    PyObject** items = PySequence_Fast_ITEMS(obj);
    arr.reserve(static_cast<std::size_t>(n));
    for (Py_ssize_t i = 0; i < n; ++i) {
      try {
        arr.push_back(convert(items[i], depth));
      } catch (PathError& e) {
        e.segments.push_back("[" + std::to_string(i) + "]");
        throw;
      }
    }
    return out;
  }
};

PyObject* new_ref(const Json& value);

PyObject* new_str(const std::string& s) {
  return PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace");
}

PyObject* new_ref(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null: Py_RETURN_NONE;
    case Json::value_t::boolean:
      if (value.get<bool>()) Py_RETURN_TRUE;
      Py_RETURN_FALSE;
    case Json::value_t::number_integer: return PyLong_FromLongLong(value.get<std::int64_t>());
    case Json::value_t::number_unsigned:
      return PyLong_FromUnsignedLongLong(value.get<std::uint64_t>());
    case Json::value_t::number_float: return PyFloat_FromDouble(value.get<double>());
    case Json::value_t::string: return new_str(value.get_ref<const std::string&>());
    case Json::value_t::array: {
      const auto& arr = value.get_ref<const Json::array_t&>();
      PyObject* list = PyList_New(static_cast<Py_ssize_t>(arr.size()));
      if (list == nullptr) return nullptr;
      for (std::size_t i = 0; i < arr.size(); ++i) {
        PyObject* item = new_ref(arr[i]);
        if (item == nullptr) {
          Py_DECREF(list);
          return nullptr;
        }
        PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), item);
      }
      return list;
    }
    case Json::value_t::object: {
      PyObject* dict = PyDict_New();
      if (dict == nullptr) return nullptr;
      for (const auto& [k, v] : value.get_ref<const Json::object_t&>()) {
        PyObject* key = new_str(k);
        PyObject* item = key != nullptr ? new_ref(v) : nullptr;
        if (item == nullptr || PyDict_SetItem(dict, key, item) != 0) {
          Py_XDECREF(key);
          Py_XDECREF(item);
          Py_DECREF(dict);
          return nullptr;
        }
        Py_DECREF(key);
        Py_DECREF(item);
      }
      return dict;
    }
    case Json::value_t::binary:
    case Json::value_t::discarded: Py_RETURN_NONE;
  }
  Py_RETURN_NONE;
}

}  // namespace

Json to_json(py::handle obj, std::size_t max_depth, const std::string& what) {
  try {
    return ToJson(max_depth).convert(obj.ptr(), 0);
  } catch (PathError& e) {
    std::string path = what;
    for (auto it = e.segments.rbegin(); it != e.segments.rend(); ++it) path += *it;
    throw Error(e.code, path + ": " + e.reason);
  }
}

py::object from_json(const Json& value) {
  PyObject* obj = new_ref(value);
  if (obj == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(obj);
}

std::string text_arg(py::handle obj, const std::string& what) {
  PyObject* p = obj.ptr();
  if (PyUnicode_Check(p)) {
    Py_ssize_t n = 0;
    const char* s = PyUnicode_AsUTF8AndSize(p, &n);
    if (s == nullptr) {
      PyErr_Clear();
      throw Error(ErrorCode::kParse, what + ": the text is not valid UTF-8 (lone surrogate)", 0);
    }
    return std::string(s, static_cast<std::size_t>(n));
  }
  if (PyBytes_Check(p)) {
    return std::string(PyBytes_AS_STRING(p), static_cast<std::size_t>(PyBytes_GET_SIZE(p)));
  }
  if (PyByteArray_Check(p)) {
    return std::string(PyByteArray_AS_STRING(p), static_cast<std::size_t>(PyByteArray_GET_SIZE(p)));
  }
  throw Error(ErrorCode::kBadInput, what + ": expected str or bytes, got " + type_name(p));
}

Json world_arg(py::handle obj, const conjure::Limits& limits, const std::string& what) {
  PyObject* p = obj.ptr();
  if (PyUnicode_Check(p) || PyBytes_Check(p) || PyByteArray_Check(p)) {
    std::string text = text_arg(obj, what);
    py::gil_scoped_release release;
    return conjure::parse_json(text, limits);
  }
  if (PyDict_Check(p)) return to_json(obj, limits.max_depth, what);
  throw Error(ErrorCode::kBadInput,
              what + ": expected a dict or JSON text (str/bytes), got " + type_name(p));
}

}  // namespace conjure_py
