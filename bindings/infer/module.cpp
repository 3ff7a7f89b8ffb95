// conjure._infer: the torch-backed inference module, imported lazily by conjure.infer.
// Kept apart from _core so that nothing else loads libtorch. No torch headers here.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string_view>
#include <vector>

#include "conjure/infer/encoder.hpp"

namespace py = pybind11;
using conjure::infer::SentenceEncoder;

namespace {

// Borrows the UTF-8 bytes of each str (CPython caches them in the object); `keep` holds the
// objects so the views stay valid while the GIL is released.
std::vector<std::string_view> utf8_views(const py::sequence& texts, std::vector<py::object>& keep) {
  std::vector<std::string_view> views;
  const std::size_t n = py::len(texts);
  views.reserve(n);
  keep.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    py::object item = texts[i];
    if (!PyUnicode_Check(item.ptr()))
      throw py::type_error("texts[" + std::to_string(i) + "] is " + std::string(py::str(py::type::of(item).attr("__name__"))) +
                           ", not str");
    Py_ssize_t size = 0;
    const char* data = PyUnicode_AsUTF8AndSize(item.ptr(), &size);
    if (!data) {
      PyErr_Clear();
      throw py::value_error("texts[" + std::to_string(i) + "] is not valid UTF-8 (it holds a lone surrogate)");
    }
    views.emplace_back(data, static_cast<std::size_t>(size));
    keep.push_back(std::move(item));
  }
  return views;
}

}  // namespace

PYBIND11_MODULE(_infer, m) {
  m.doc() = "Inference through libtorch: the sentence encoder (see conjure.infer).";
  static py::exception<conjure::infer::ModelError> model_error(m, "ModelError", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const conjure::infer::InvalidUtf8& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const conjure::infer::ModelError& e) {
      model_error(e.what());
    }
  });

  m.def(
      "embed",
      [](const py::sequence& texts, const std::string& model_dir, const std::string& device) {
        std::vector<py::object> keep;
        const std::vector<std::string_view> views = utf8_views(texts, keep);
        std::shared_ptr<SentenceEncoder> enc;
        {
          py::gil_scoped_release nogil;
          enc = SentenceEncoder::shared(model_dir, device);
        }
        py::array_t<float> out({static_cast<py::ssize_t>(views.size()), static_cast<py::ssize_t>(enc->dim())});
        float* dst = out.mutable_data();
        {
          py::gil_scoped_release nogil;
          enc->embed(views, dst);
        }
        return out;
      },
      py::arg("texts"), py::arg("model_dir"), py::arg("device") = "cpu",
      "Rows of L2-normalised float32 embeddings, one per text.");

  m.def(
      "tokenize",
      [](const py::sequence& texts, const std::string& model_dir) {
        std::vector<py::object> keep;
        const std::vector<std::string_view> views = utf8_views(texts, keep);
        std::vector<std::vector<std::int32_t>> ids;
        {
          py::gil_scoped_release nogil;
          auto enc = SentenceEncoder::shared(model_dir, "cpu");
          for (std::string_view v : views) ids.push_back(enc->tokenizer().encode(v, enc->max_tokens()));
        }
        return ids;
      },
      py::arg("texts"), py::arg("model_dir"), "Word-piece ids, [CLS] and [SEP] included, truncated as embed truncates.");

  m.def("info", [] {
    const conjure::infer::TorchInfo t = conjure::infer::torch_info();
    py::dict d;
    d["torch_version"] = t.version;
    d["intra_op_threads"] = t.intra_op_threads;
    d["cuda"] = t.cuda;
    d["devices"] = t.devices;
    return d;
  });
}
