// conjure._core: the native runtime (RenderLoop). Every call that can wait or
// does native work releases the GIL; frames cross as bytes, events as str.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <memory>
#include <string>

#include "bindings.hpp"
#include "conjure/runtime/render_loop.hpp"

namespace py = pybind11;
using conjure::runtime::LoopStats;
using conjure::runtime::Message;
using conjure::runtime::RenderLoop;
using conjure::runtime::RenderLoopOptions;
using conjure::runtime::SessionStats;

namespace {

py::dict session_stats_dict(const SessionStats& s) {
  py::dict d;
  d["seconds"] = s.seconds;
  d["frames_rendered"] = s.frames_rendered;
  d["frames_delivered"] = s.frames_delivered;
  d["frames_dropped"] = s.frames_dropped;
  d["events_dropped"] = s.events_dropped;
  d["events_queued"] = s.events_queued;
  d["bytes_held"] = s.bytes_held;
  d["ended"] = s.ended;
  return d;
}

py::dict loop_stats_dict(const LoopStats& s) {
  py::dict d;
  d["sessions"] = s.sessions;
  d["worlds"] = s.worlds;
  d["frames_rendered"] = s.frames_rendered;
  d["frames_dropped"] = s.frames_dropped;
  d["ticks"] = s.ticks;
  d["late_ticks"] = s.late_ticks;
  d["threads"] = s.threads;
  d["fps"] = s.fps;
  d["width"] = s.width;
  d["height"] = s.height;
  return d;
}

std::chrono::milliseconds to_ms(double seconds) {
  if (!(seconds > 0)) return std::chrono::milliseconds(0);
  if (seconds > 3600) seconds = 3600;
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000.0));
}

}  // namespace

void init_runtime(py::module_& m) {
  py::class_<RenderLoop, std::shared_ptr<RenderLoop>>(m, "RenderLoop",
      "The native render loop: render threads, live play sessions, frame mailboxes and event queues.")
      .def(py::init([](int threads, double fps, int width, int height, int jpeg_quality, std::size_t max_events,
                       std::size_t max_sessions) {
             RenderLoopOptions o;
             o.threads = threads;
             o.fps = fps;
             o.width = width;
             o.height = height;
             o.jpeg_quality = jpeg_quality;
             o.max_events = max_events;
             o.max_sessions = max_sessions;
             py::gil_scoped_release release;
             return std::make_shared<RenderLoop>(o);
           }),
           py::kw_only(), py::arg("threads") = 1, py::arg("fps") = 15.0, py::arg("width") = 640,
           py::arg("height") = 360, py::arg("jpeg_quality") = 80, py::arg("max_events") = 256,
           py::arg("max_sessions") = 4096)
      .def("load_world", [](RenderLoop& self, const std::string& key, const std::string& text) {
             py::gil_scoped_release release;
             self.load_world(key, text);
           }, py::arg("key"), py::arg("world_json"),
           "Caches the play form of a world document (JSON text) under key.")
      .def("has_world", [](RenderLoop& self, const std::string& key) {
             py::gil_scoped_release release;
             return self.has_world(key);
           }, py::arg("key"))
      .def("open", [](RenderLoop& self, const std::string& sid, const std::string& key, const std::string& player) {
             py::gil_scoped_release release;
             self.open(sid, key, player);
           }, py::arg("session_id"), py::arg("world_key"), py::arg("player_id"))
      .def("move", [](RenderLoop& self, const std::string& sid, const std::string& keys) {
             py::gil_scoped_release release;
             return self.move(sid, keys);
           }, py::arg("session_id"), py::arg("keys"))
      .def("key", [](RenderLoop& self, const std::string& sid, const std::string& key) {
             py::gil_scoped_release release;
             return self.key(sid, key);
           }, py::arg("session_id"), py::arg("key"))
      .def("fire", [](RenderLoop& self, const std::string& sid, const std::string& name) {
             py::gil_scoped_release release;
             return self.fire(sid, name);
           }, py::arg("session_id"), py::arg("event"))
      .def("next", [](RenderLoop& self, const std::string& sid, double timeout) -> py::tuple {
             Message msg;
             {
               py::gil_scoped_release release;
               msg = self.next(sid, to_ms(timeout));
             }
             const char* kind = conjure::runtime::message_kind_name(msg.kind);
             if (msg.kind == Message::Kind::kEvent) return py::make_tuple(kind, py::str(msg.text));
             if (msg.kind == Message::Kind::kFrame) {
               return py::make_tuple(kind, py::bytes(reinterpret_cast<const char*>(msg.jpeg.data()), msg.jpeg.size()));
             }
             return py::make_tuple(kind, py::none());
           }, py::arg("session_id"), py::arg("timeout") = 1.0,
           "Waits up to timeout seconds: ('event', json_text) | ('frame', jpeg_bytes) | ('ended'|'closed'|'timeout', None).")
      .def("close", [](RenderLoop& self, const std::string& sid) -> py::object {
             SessionStats st;
             bool was;
             {
               py::gil_scoped_release release;
               was = self.close(sid, &st);
             }
             if (!was) return py::none();
             return session_stats_dict(st);
           }, py::arg("session_id"), "Closes a session; its final stats, or None when it was not open.")
      .def("session_stats", [](RenderLoop& self, const std::string& sid) -> py::object {
             SessionStats st;
             bool found;
             {
               py::gil_scoped_release release;
               found = self.stats(sid, st);
             }
             if (!found) return py::none();
             return session_stats_dict(st);
           }, py::arg("session_id"))
      .def("stats", [](RenderLoop& self) {
             LoopStats st;
             {
               py::gil_scoped_release release;
               st = self.stats();
             }
             return loop_stats_dict(st);
           })
      .def("session_ids", [](RenderLoop& self) {
             py::gil_scoped_release release;
             return self.session_ids();
           })
      .def("stop", [](RenderLoop& self) {
             py::gil_scoped_release release;
             self.stop();
           }, "Stops the render threads and closes every session.");
}
