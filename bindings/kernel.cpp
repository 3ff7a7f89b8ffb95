// conjure._core: the kernel gate, its result, the lint catalogue, plugin lints.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "conjure/errors.hpp"
#include "conjure/kernel/diagnostic.hpp"
#include "conjure/embedded.hpp"
#include "conjure/kernel/gate.hpp"
#include "conjure/kernel/hotkeys.hpp"
#include "conjure/kernel/tokenizer.hpp"
#include "conjure/world/world.hpp"
#include "json_convert.hpp"
#include "plugins.hpp"

namespace py = pybind11;
using conjure::Diagnostic;
using conjure::Json;
using conjure::Severity;

namespace {

constexpr const char* kPluginError = "plugin-error";
// A plugin returning more than this many findings is cut off with a plugin-error,
// so a runaway plugin cannot flood a response.
constexpr std::size_t kMaxPluginFindings = 10000;
constexpr std::size_t kMaxPluginText = 4000;

Severity plugin_error_severity() {
  for (const auto& info : conjure::lint_catalogue()) {
    if (info.id == kPluginError) return info.severity;
  }
  return Severity::kWarning;
}

std::string clip(std::string s) {
  if (s.size() > kMaxPluginText) {
    s.resize(kMaxPluginText);
    // Do not leave half a UTF-8 sequence behind.
    while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();
    if (!s.empty() && (static_cast<unsigned char>(s.back()) & 0x80)) s.pop_back();
    s += "...";
  }
  return s;
}

// Why a plugin's output was refused; becomes one plugin-error diagnostic.
struct PluginProblem {
  std::string what;
};

// Wraps a Python plugin object: callable(world_dict) -> iterable of findings,
// with attributes `id` ("plugin.<name>") and `allow_error` (bool).
class PyExternalLint final : public conjure::ExternalLint {
 public:
  PyExternalLint(py::object plugin, std::string id, bool allow_error)
      : plugin_(std::move(plugin)), id_(std::move(id)), allow_error_(allow_error) {}

  ~PyExternalLint() override {
    py::gil_scoped_acquire gil;
    plugin_ = py::object();
  }

  std::string id() const override { return id_; }

  std::vector<Diagnostic> run(const Json& resolved_world) override {
    py::gil_scoped_acquire gil;
    try {
      py::object world = conjure_py::from_json(resolved_world);
      py::object out = plugin_(world);
      return convert(out);
    } catch (py::error_already_set& e) {
      std::string type = "Exception";
      std::string message;
      try {
        type = py::str(e.type().attr("__name__")).cast<std::string>();
        message = py::str(e.value()).cast<std::string>();
      } catch (...) {
        PyErr_Clear();
      }
      return {problem("raised " + type + (message.empty() ? "" : ": " + message))};
    } catch (const PluginProblem& p) {
      return {problem(p.what)};
    } catch (const conjure::Error& e) {
      return {problem(e.what())};
    } catch (const std::exception& e) {
      return {problem(std::string("failed: ") + e.what())};
    }
  }

 private:
  py::object plugin_;
  std::string id_;
  bool allow_error_;

  Diagnostic problem(const std::string& what) const {
    Diagnostic d;
    d.lint = kPluginError;
    d.severity = plugin_error_severity();
    d.path = "plugin[" + id_ + "]";
    d.message = clip("plugin " + id_ + " " + what);
    return d;
  }

  static py::object field(py::handle item, const char* name, bool is_dict) {
    if (is_dict) {
      py::dict d = py::reinterpret_borrow<py::dict>(item);
      return d.contains(name) ? py::reinterpret_borrow<py::object>(d[name]) : py::none();
    }
    return py::getattr(item, name, py::none());
  }

  static std::string text(py::handle value, const std::string& where) {
    if (!py::isinstance<py::str>(value)) {
      throw PluginProblem{"returned a finding whose " + where + " is a " +
                          std::string(Py_TYPE(value.ptr())->tp_name) + ", not a str"};
    }
    return clip(value.cast<std::string>());
  }

  std::vector<Diagnostic> convert(py::handle out) const {
    std::vector<Diagnostic> diags;
    if (out.is_none()) return diags;
    if (py::isinstance<py::str>(out) || py::isinstance<py::bytes>(out) ||
        py::isinstance<py::dict>(out) || !py::hasattr(out, "__iter__")) {
      throw PluginProblem{"returned a " + std::string(Py_TYPE(out.ptr())->tp_name) +
                          "; expected a list of findings (dicts with message, path, severity, loc)"};
    }
    std::size_t index = 0;
    for (py::handle item : out) {
      if (diags.size() >= kMaxPluginFindings) {
        throw PluginProblem{"returned more than " + std::to_string(kMaxPluginFindings) + " findings"};
      }
      std::string at = "finding " + std::to_string(index);
      bool is_dict = py::isinstance<py::dict>(item);
      if (!is_dict && !py::hasattr(item, "message")) {
        throw PluginProblem{"returned " + at + " as a " + std::string(Py_TYPE(item.ptr())->tp_name) +
                            "; expected a dict or an object with a message"};
      }
      Diagnostic d;
      d.lint = id_;
      py::object message = field(item, "message", is_dict);
      if (message.is_none()) throw PluginProblem{"returned " + at + " without a message"};
      d.message = text(message, at + " message");
      if (d.message.empty()) throw PluginProblem{"returned " + at + " with an empty message"};
      py::object path = field(item, "path", is_dict);
      d.path = path.is_none() ? "world" : text(path, at + " path");
      py::object sev = field(item, "severity", is_dict);
      d.severity = Severity::kWarning;
      if (!sev.is_none()) {
        std::string s = text(sev, at + " severity");
        if (!conjure::parse_severity(s, &d.severity)) {
          throw PluginProblem{"returned " + at + " with severity '" + s +
                              "'; expected warning, info or error"};
        }
      }
      // The operator decides whether a plugin may block writes: opted in, its
      // warnings count as errors; otherwise it is advisory and errors are capped.
      if (allow_error_) {
        if (d.severity == Severity::kWarning) d.severity = Severity::kError;
      } else if (d.severity == Severity::kError) {
        d.severity = Severity::kWarning;
      }
      py::object loc = field(item, "loc", is_dict);
      if (!loc.is_none()) {
        if (!py::isinstance<py::dict>(loc)) {
          throw PluginProblem{"returned " + at + " whose loc is a " +
                              std::string(Py_TYPE(loc.ptr())->tp_name) + ", not a dict"};
        }
        try {
          d.loc = conjure_py::to_json(loc, 16, at + ".loc");
        } catch (const conjure::Error& e) {
          throw PluginProblem{std::string("returned an unusable loc: ") + e.what()};
        }
      }
      diags.push_back(std::move(d));
      ++index;
    }
    return diags;
  }
};

struct PyGateResult {
  conjure::GateResult result;
  std::optional<py::list> diagnostics_cache;
  // JSON text the gate accepted without building the resolved world: it is
  // built from the text on first use of `resolved` / `resolved_json`.
  std::optional<std::string> pending_text;
  conjure::Limits limits;
  std::mutex resolving;  // two threads may ask at once; the GIL is released meanwhile

  const Json& resolved() {
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(resolving);
    if (pending_text) {
      result.resolved = conjure::resolve_text(*pending_text, limits);
      pending_text.reset();
    }
    return result.resolved;
  }
};

std::vector<std::shared_ptr<conjure::ExternalLint>> plugins_arg(py::handle plugins) {
  std::vector<std::shared_ptr<conjure::ExternalLint>> out;
  if (plugins.is_none()) return out;
  if (py::isinstance<py::str>(plugins) || !py::hasattr(plugins, "__iter__")) {
    throw conjure::Error(conjure::ErrorCode::kBadInput, "plugins: expected a list of plugin lints");
  }
  std::size_t i = 0;
  for (py::handle p : plugins) {
    std::string where = "plugins[" + std::to_string(i++) + "]";
    if (!PyCallable_Check(p.ptr())) {
      throw conjure::Error(conjure::ErrorCode::kBadInput, where + ": a plugin lint must be callable");
    }
    py::object id = py::getattr(p, "id", py::none());
    if (!py::isinstance<py::str>(id)) {
      throw conjure::Error(conjure::ErrorCode::kBadInput,
                           where + ": a plugin lint needs a str `id` (\"plugin.<name>\")");
    }
    std::string sid = id.cast<std::string>();
    if (sid.rfind("plugin.", 0) != 0 || sid.size() == 7) {
      throw conjure::Error(conjure::ErrorCode::kBadInput,
                           where + ": plugin lint id '" + sid + "' must be plugin.<name>");
    }
    bool allow_error = py::bool_(py::getattr(p, "allow_error", py::bool_(false)));
    out.push_back(std::make_shared<PyExternalLint>(py::reinterpret_borrow<py::object>(p), sid,
                                                   allow_error));
  }
  return out;
}

py::dict lint_info_dict(const conjure::LintInfo& info) {
  py::dict d;
  d["id"] = info.id;
  d["severity"] = conjure::severity_name(info.severity);
  d["structural"] = info.structural;
  d["description"] = info.description;
  return d;
}

}  // namespace

std::vector<std::shared_ptr<conjure::ExternalLint>> conjure_py::plugins_arg(py::handle plugins) {
  return ::plugins_arg(plugins);
}

void init_kernel(py::module_& m) {
  py::class_<PyGateResult>(m, "GateResult", "What the kernel gate decided about a world.")
      .def_property_readonly(
          "ok", [](const PyGateResult& r) { return r.result.ok; },
          "True when no diagnostic has error severity.")
      .def_property_readonly(
          "diagnostics",
          [](PyGateResult& r) {
            if (!r.diagnostics_cache) {
              py::list out;
              for (const auto& d : r.result.diagnostics) out.append(conjure_py::from_json(d.to_json()));
              r.diagnostics_cache = std::move(out);
            }
            return py::list(*r.diagnostics_cache);
          },
          "Every finding as a dict {lint, severity, path, message, loc?}, in the stable order.")
      .def_property_readonly(
          "resolved",
          [](PyGateResult& r) -> py::object {
            const Json& resolved = r.resolved();
            if (resolved.is_null()) return py::none();
            return conjure_py::from_json(resolved);
          },
          "The resolved world (slots filled, from normalised) when ok, else None.")
      .def_property_readonly(
          "resolved_json",
          [](PyGateResult& r) -> py::object {
            const Json& resolved = r.resolved();
            if (resolved.is_null()) return py::none();
            std::string text;
            {
              py::gil_scoped_release release;
              text = conjure::serialise(resolved);
            }
            return py::str(text);
          },
          "The resolved world as compact JSON text when ok, else None.")
      .def("__repr__", [](const PyGateResult& r) {
        return "GateResult(ok=" + std::string(r.result.ok ? "True" : "False") +
               ", diagnostics=" + std::to_string(r.result.diagnostics.size()) + ")";
      });

  m.def(
      "gate",
      [](py::handle world, py::handle limits, py::handle plugins,
         std::optional<std::vector<std::string>> characters) {
        conjure::GateOptions options;
        options.limits = conjure_py::limits_arg(limits);
        options.plugins = plugins_arg(plugins);
        options.characters = std::move(characters);
        auto out = std::make_unique<PyGateResult>();
        PyObject* p = world.ptr();
        if (PyUnicode_Check(p) || PyBytes_Check(p) || PyByteArray_Check(p)) {
          std::string text = conjure_py::text_arg(world, "world");
          // Plugins read the resolved world, so with none it waits until asked for.
          options.resolve = !options.plugins.empty();
          {
            py::gil_scoped_release release;
            out->result = conjure::run_gate_text(text, options);
          }
          if (out->result.ok && !options.resolve) {
            out->pending_text = std::move(text);
            out->limits = options.limits;
          }
        } else {
          Json doc = conjure_py::world_arg(world, options.limits);
          py::gil_scoped_release release;
          out->result = conjure::run_gate(std::move(doc), options);
        }
        return out;
      },
      py::arg("world"), py::arg("limits") = py::none(), py::arg("plugins") = py::none(),
      py::arg("characters") = py::none(),
      "Runs the kernel gate on a world (a dict, or JSON text as str/bytes). `characters`: the "
      "character ids the world may place (unchecked when None).");

  m.def(
      "read_only",
      [](py::handle text, py::handle limits) {
        std::string owned = conjure_py::text_arg(text, "text");
        conjure::Limits lim = conjure_py::limits_arg(limits);
        py::gil_scoped_release release;
        return conjure::read_text_only(owned, lim);
      },
      py::arg("text"), py::arg("limits") = py::none(),
      "Reads JSON text with the gate's fast reader (simdjson) and discards it (GIL "
      "released); False when the reader refuses the text. For measuring the gate.");

  m.def(
      "lint_catalogue",
      []() {
        py::list out;
        for (const auto& info : conjure::lint_catalogue()) out.append(lint_info_dict(info));
        return out;
      },
      "Every built-in lint: {id, severity, structural, description}.");

  m.def(
      "doctrine_words",
      [](const std::string& lint) {
        std::vector<std::string_view> lines = conjure::embedded_lines("lints/" + lint + ".txt");
        if (lines.empty()) throw py::value_error("no doctrine word list for lint '" + lint + "'");
        py::list out;
        for (std::string_view line : lines) out.append(py::str(line.data(), line.size()));
        return out;
      },
      py::arg("lint"),
      "The entries of a doctrine lint's word list (negation, intent, whiteout, lethal-override), as the "
      "gate reads them: one word or phrase each, `*suffix` for a word ending.");

  m.def(
      "count_tokens",
      [](const std::string& text) { return conjure::default_tokenizer().count(text); },
      py::arg("text"), "Tokens `text` costs with the gate's default tokenizer (conjure-words-v1, docs/lints.md).");

  m.def(
      "is_reserved_hotkey",
      [](const std::string& key) { return conjure::is_reserved_hotkey(key); },
      py::arg("key"), "True for W, A, S, D (any case) and the digits: the keys the player's controls use.");
}
