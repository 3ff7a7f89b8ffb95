// conjure._core: the storage engine. Every call releases the GIL around the
// store; results come back as plain dicts shaped like the HTTP bodies (API.md).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "conjure/errors.hpp"
#include "conjure/store/errors.hpp"
#include "conjure/store/store.hpp"
#include "json_convert.hpp"
#include "plugins.hpp"

namespace py = pybind11;
using conjure::Json;

namespace {

constexpr std::size_t kMaxDepth = 64;

Json opt_str(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

Json diags_json(const std::vector<conjure::Diagnostic>& diags) {
  Json out = Json::array();
  for (const auto& d : diags) out.push_back(d.to_json());
  return out;
}

Json graph_write_json(const conjure::GraphWrite& g, bool with_apply_errors) {
  Json out = {{"world", g.world}, {"diagnostics", diags_json(g.diagnostics)}, {"rev", g.rev}};
  if (with_apply_errors) {
    Json errs = Json::array();
    for (const auto& e : g.apply_errors) {
      errs.push_back({{"index", e.index}, {"code", conjure::error_code_name(e.code)}, {"message", e.message}});
    }
    out["applyErrors"] = std::move(errs);
  }
  if (!g.head.empty()) out["head"] = g.head;
  return out;
}

Json world_info_json(const conjure::WorldInfo& w) {
  return {{"id", w.id},           {"appId", w.app_id},       {"mode", w.mode},
          {"name", w.name},       {"description", w.description}, {"cover", w.cover},
          {"visibility", w.visibility}, {"createdAt", w.created_at}, {"updatedAt", w.updated_at},
          {"rev", w.rev},         {"head", opt_str(w.head)}, {"forkedFrom", opt_str(w.forked_from)}};
}

Json version_json(const conjure::VersionInfo& v) {
  return {{"id", v.id},
          {"parentVersionId", opt_str(v.parent_id)},
          {"message", v.message},
          {"createdAt", v.created_at},
          {"head", v.head}};
}

Json user_json(const conjure::User& u) { return {{"id", u.id}, {"email", u.email}, {"createdAt", u.created_at}}; }
Json app_json(const conjure::App& a) {
  return {{"id", a.id}, {"ownerId", opt_str(a.owner_id)}, {"name", a.name}, {"createdAt", a.created_at}};
}
Json key_json(const conjure::KeyInfo& k) {
  return {{"id", k.id},         {"appId", k.app_id},       {"type", k.type},
          {"mode", k.mode},     {"name", k.name},          {"prefix", k.prefix},
          {"last4", k.last4},   {"createdAt", k.created_at}, {"lastUsedAt", opt_str(k.last_used_at)},
          {"revokedAt", opt_str(k.revoked_at)}};
}
Json meter_json(const conjure::MeterState& m) {
  return {{"used", m.used}, {"reserved", m.reserved}, {"limit", m.limit}};
}
Json job_json(const conjure::Job& j) {
  return {{"id", j.id},         {"appId", j.app_id},     {"mode", j.mode},          {"kind", j.kind},
          {"status", j.status}, {"payload", j.payload},  {"result", j.result},      {"error", opt_str(j.error)},
          {"worker", opt_str(j.worker)}, {"attempts", j.attempts}, {"createdAt", j.created_at},
          {"updatedAt", j.updated_at}};
}
Json endpoint_json(const conjure::WebhookEndpoint& e) {
  return {{"id", e.id},   {"appId", e.app_id}, {"url", e.url}, {"events", e.events},
          {"description", e.description}, {"createdAt", e.created_at}};
}
Json delivery_json(const conjure::Delivery& d) {
  return {{"id", d.id},
          {"eventId", d.event_id},
          {"endpointId", d.endpoint_id},
          {"url", d.url},
          {"secret", d.secret},
          {"type", d.type},
          {"status", d.status},
          {"attempt", d.attempt},
          {"responseStatus", d.response_status == 0 ? Json(nullptr) : Json(d.response_status)},
          {"createdAt", d.created_at},
          {"nextAttemptAt", opt_str(d.next_attempt_at)},
          {"body", d.body}};
}

template <class T, class F>
Json page_json(const conjure::Page<T>& p, F item) {
  Json data = Json::array();
  for (const auto& x : p.data) data.push_back(item(x));
  return {{"data", std::move(data)}, {"nextCursor", opt_str(p.next_cursor)}};
}

// The native store handle. Python's conjure.Store wraps it.
class PyStore {
 public:
  PyStore(const std::string& path, const conjure::StoreOptions& o) {
    py::gil_scoped_release release;
    store_ = conjure::open_store(path, o);
  }
  conjure::Store& operator*() {
    if (!store_) throw conjure::Error(conjure::ErrorCode::kStorage, "the store is closed");
    return *store_;
  }
  void close() {
    py::gil_scoped_release release;
    store_.reset();
  }

 private:
  std::shared_ptr<conjure::Store> store_;
};

conjure::Scope scope_of(const std::string& app_id, const std::string& mode) { return conjure::Scope{app_id, mode}; }

// Runs `fn` (returning Json) with the GIL released; converts the result.
template <class F>
py::object call(F&& fn) {
  Json out;
  {
    py::gil_scoped_release release;
    out = fn();
  }
  return conjure_py::from_json(out);
}

// The gate of a store write: limits and plugin lints (run inside the write
// transaction; each takes the GIL while it runs).
conjure::GateOptions gate_of(py::handle limits, py::handle plugins) {
  conjure::GateOptions g;
  g.limits = conjure_py::limits_arg(limits);
  g.plugins = conjure_py::plugins_arg(plugins);
  return g;
}

Json character_write_json(conjure::CharacterWrite w) {
  Json diags = Json::array();
  for (const auto& d : w.diagnostics) diags.push_back(d.to_json());
  return {{"character", std::move(w.character)}, {"diagnostics", std::move(diags)}, {"rev", w.rev}};
}

Json character_info_json(const conjure::CharacterInfo& c) {
  return {{"id", c.id}, {"name", c.name}, {"createdAt", c.created_at}, {"updatedAt", c.updated_at}, {"rev", c.rev}};
}

Json session_info_json(const conjure::SessionInfo& s) {
  Json out = {{"sessionId", s.id},      {"app", s.app_id},       {"mode", s.mode},
              {"world", s.world_id},    {"player", s.player_id}, {"origin", opt_str(s.origin)},
              {"status", s.status},     {"expiresAt", s.expires_at}, {"jti", s.jti}};
  if (s.seconds_used >= 0) out["secondsUsed"] = s.seconds_used;
  return out;
}

Json claims_json(const conjure::SessionClaims& c) {
  Json out = {{"app", c.app}, {"mode", c.mode}, {"world", c.world}, {"player", c.player},
              {"exp", c.exp}, {"jti", c.jti},   {"kid", c.kid}};
  if (!c.origin.empty()) out["origin"] = c.origin;
  return out;
}

// Claims as verify_session_token returned them (a dict).
conjure::SessionClaims claims_arg(py::handle obj) {
  Json j = conjure_py::to_json(obj, 4, "claims");
  auto str = [&](const char* k, bool required) {
    auto it = j.find(k);
    if (it == j.end() || it->is_null()) {
      if (required) throw conjure::Error(conjure::ErrorCode::kBadInput, std::string("claims.") + k + ": missing");
      return std::string();
    }
    if (!it->is_string()) throw conjure::Error(conjure::ErrorCode::kBadInput, std::string("claims.") + k + ": a string");
    return it->get<std::string>();
  };
  if (!j.is_object()) throw conjure::Error(conjure::ErrorCode::kBadInput, "claims: the dict verify_session_token returned");
  conjure::SessionClaims c;
  c.app = str("app", true);
  c.mode = str("mode", true);
  c.world = str("world", true);
  c.player = str("player", true);
  c.jti = str("jti", true);
  c.kid = str("kid", false);
  c.origin = str("origin", false);
  auto exp = j.find("exp");
  if (exp == j.end() || !exp->is_number_integer()) throw conjure::Error(conjure::ErrorCode::kBadInput, "claims.exp: an integer");
  c.exp = exp->get<std::int64_t>();
  return c;
}

std::int64_t now_arg(py::handle now) {
  if (now.is_none()) return 0;
  double v = py::cast<double>(now);
  if (!(v >= 1.0 && v < 1e12)) throw conjure::Error(conjure::ErrorCode::kBadInput, "now: unix seconds");
  return static_cast<std::int64_t>(v);
}

}  // namespace

void init_store(py::module_& m) {
  using S = PyStore;
  py::class_<S>(m, "Store", "A conjure store on one SQLite file (private; use conjure.Store).")
      .def(py::init([](const std::string& path, const std::string& server_secret, int busy_timeout_ms,
                       bool read_only, std::int64_t max_bytes, std::int64_t default_meter_limit) {
             conjure::StoreOptions o;
             o.server_secret = server_secret;
             o.busy_timeout_ms = busy_timeout_ms;
             o.read_only = read_only;
             o.max_bytes = max_bytes;
             o.default_meter_limit = default_meter_limit;
             return std::make_unique<S>(path, o);
           }),
           py::arg("path"), py::arg("server_secret") = "", py::arg("busy_timeout_ms") = 10000,
           py::arg("read_only") = false, py::arg("max_bytes") = 0, py::arg("default_meter_limit") = 1000)
      .def("close", &S::close)
      .def("path", [](S& s) { return (*s).path(); })
      // ---- characters
      .def("create_character",
           [](S& s, const std::string& app, const std::string& mode, py::handle doc, py::handle limits, py::handle plugins) {
             auto gate = gate_of(limits, plugins);
             Json d = conjure_py::world_arg(doc, gate.limits);
             return call([&] { return character_write_json((*s).create_character(scope_of(app, mode), d, gate)); });
           },
           py::arg("app_id"), py::arg("mode"), py::arg("character"), py::arg("limits") = py::none(), py::arg("plugins") = py::none())
      .def("get_character",
           [](S& s, const std::string& app, const std::string& mode, const std::string& id) {
             return call([&] {
               auto r = (*s).get_character(scope_of(app, mode), id);
               return Json{{"character", std::move(r.character)}, {"rev", r.rev}};
             });
           })
      .def("list_characters",
           [](S& s, const std::string& app, const std::string& mode, int limit, const std::string& cursor) {
             return call([&] { return page_json((*s).list_characters(scope_of(app, mode), limit, cursor), character_info_json); });
           })
      .def("patch_character",
           [](S& s, const std::string& app, const std::string& mode, const std::string& id, py::handle patch,
              const std::string& expected_rev, py::handle limits, py::handle plugins) {
             auto gate = gate_of(limits, plugins);
             Json p = conjure_py::to_json(patch, kMaxDepth, "patch");
             return call([&] { return character_write_json((*s).patch_character(scope_of(app, mode), id, p, expected_rev, gate)); });
           },
           py::arg("app_id"), py::arg("mode"), py::arg("character_id"), py::arg("patch"), py::arg("expected_rev") = "",
           py::arg("limits") = py::none(), py::arg("plugins") = py::none())
      .def("delete_character",
           [](S& s, const std::string& app, const std::string& mode, const std::string& id, const std::string& expected_rev) {
             py::gil_scoped_release release;
             (*s).delete_character(scope_of(app, mode), id, expected_rev);
           },
           py::arg("app_id"), py::arg("mode"), py::arg("character_id"), py::arg("expected_rev") = "")
      .def("get_talk",
           [](S& s, const std::string& app, const std::string& mode, const std::string& session, const std::string& id) {
             return call([&] { return (*s).get_talk(scope_of(app, mode), session, id); });
           })
      .def("put_talk",
           [](S& s, const std::string& app, const std::string& mode, const std::string& session, const std::string& id,
              py::handle memory, std::int64_t expires_unix) {
             Json m = conjure_py::to_json(memory, 16, "memory");
             py::gil_scoped_release release;
             (*s).put_talk(scope_of(app, mode), session, id, m, expires_unix);
           })
      // ---- worlds
      .def("create_world",
           [](S& s, const std::string& app, const std::string& mode, py::handle world, py::handle limits, py::handle plugins) {
             auto gate = gate_of(limits, plugins);
             Json doc = conjure_py::world_arg(world, gate.limits);
             return call([&] { return graph_write_json((*s).create_world(scope_of(app, mode), doc, gate), false); });
           },
           py::arg("app_id"), py::arg("mode"), py::arg("world"), py::arg("limits") = py::none(), py::arg("plugins") = py::none())
      .def("get_world_info",
           [](S& s, const std::string& app, const std::string& mode, const std::string& id) {
             return call([&] { return world_info_json((*s).get_world_info(scope_of(app, mode), id)); });
           })
      .def("get_graph",
           [](S& s, const std::string& app, const std::string& mode, const std::string& id) {
             return call([&] {
               auto g = (*s).get_graph(scope_of(app, mode), id);
               return Json{{"world", std::move(g.world)}, {"rev", g.rev}};
             });
           })
      .def("get_graph_json",
           [](S& s, const std::string& app, const std::string& mode, const std::string& id) {
             conjure::GraphText g;
             {
               py::gil_scoped_release release;
               g = (*s).get_graph_text(scope_of(app, mode), id);
             }
             return py::make_tuple(py::str(g.text), py::str(g.rev));
           },
           "(text, rev): the working graph as its canonical JSON text, unparsed")
      .def("list_worlds",
           [](S& s, const std::string& app, const std::string& mode, int limit, const std::string& cursor) {
             return call([&] { return page_json((*s).list_worlds(scope_of(app, mode), limit, cursor), world_info_json); });
           })
      .def("patch_world",
           [](S& s, const std::string& app, const std::string& mode, const std::string& id, py::handle patch,
              const std::string& expected_rev, py::handle limits, py::handle plugins) {
             auto gate = gate_of(limits, plugins);
             Json p = conjure_py::to_json(patch, kMaxDepth, "patch");
             return call([&] { return graph_write_json((*s).patch_world(scope_of(app, mode), id, p, expected_rev, gate), false); });
           },
           py::arg("app_id"), py::arg("mode"), py::arg("world_id"), py::arg("patch"), py::arg("expected_rev") = "",
           py::arg("limits") = py::none(), py::arg("plugins") = py::none())
      .def("delete_world",
           [](S& s, const std::string& app, const std::string& mode, const std::string& id,
              const std::string& expected_rev) {
             py::gil_scoped_release release;
             (*s).delete_world(scope_of(app, mode), id, expected_rev);
           },
           py::arg("app_id"), py::arg("mode"), py::arg("world_id"), py::arg("expected_rev") = "")
      .def("fork_world",
           [](S& s, const std::string& app, const std::string& mode, const std::string& id, const std::string& name,
              py::handle limits, py::handle plugins) {
             auto gate = gate_of(limits, plugins);
             return call([&] { return graph_write_json((*s).fork_world(scope_of(app, mode), id, name, gate), false); });
           },
           py::arg("app_id"), py::arg("mode"), py::arg("world_id"), py::arg("name") = "", py::arg("limits") = py::none(), py::arg("plugins") = py::none())
      .def("apply_ops",
           [](S& s, const std::string& app, const std::string& mode, const std::string& id, py::handle ops,
              const std::string& expected_rev, py::handle limits, py::handle plugins) {
             auto gate = gate_of(limits, plugins);
             Json o = conjure_py::to_json(ops, kMaxDepth, "ops");
             return call([&] { return graph_write_json((*s).apply_ops(scope_of(app, mode), id, o, expected_rev, gate), true); });
           },
           py::arg("app_id"), py::arg("mode"), py::arg("world_id"), py::arg("ops"), py::arg("expected_rev") = "",
           py::arg("limits") = py::none(), py::arg("plugins") = py::none())
      .def("put_world",
           [](S& s, const std::string& app, const std::string& mode, const std::string& id, py::handle world,
              const std::string& expected_rev, py::handle limits, py::handle plugins) {
             auto gate = gate_of(limits, plugins);
             Json doc = conjure_py::world_arg(world, gate.limits);
             return call([&] { return graph_write_json((*s).put_world(scope_of(app, mode), id, doc, expected_rev, gate), false); });
           },
           py::arg("app_id"), py::arg("mode"), py::arg("world_id"), py::arg("world"), py::arg("expected_rev") = "",
           py::arg("limits") = py::none(), py::arg("plugins") = py::none())
      // ---- versions
      .def("snapshot",
           [](S& s, const std::string& app, const std::string& mode, const std::string& id, const std::string& parent,
              const std::string& message) {
             return call([&] { return version_json((*s).snapshot(scope_of(app, mode), id, parent, message)); });
           })
      .def("list_versions",
           [](S& s, const std::string& app, const std::string& mode, const std::string& id) {
             return call([&] {
               auto t = (*s).list_versions(scope_of(app, mode), id);
               Json data = Json::array();
               for (const auto& v : t.data) data.push_back(version_json(v));
               return Json{{"data", std::move(data)}, {"head", opt_str(t.head)}};
             });
           })
      .def("get_version",
           [](S& s, const std::string& app, const std::string& mode, const std::string& id, const std::string& vid) {
             return call([&] {
               Json world;
               Json out = version_json((*s).get_version(scope_of(app, mode), id, vid, &world));
               out["world"] = std::move(world);
               return out;
             });
           })
      .def("checkout",
           [](S& s, const std::string& app, const std::string& mode, const std::string& id, const std::string& vid,
              const std::string& expected_rev, py::handle limits, py::handle plugins) {
             auto gate = gate_of(limits, plugins);
             return call([&] { return graph_write_json((*s).checkout(scope_of(app, mode), id, vid, expected_rev, gate), false); });
           },
           py::arg("app_id"), py::arg("mode"), py::arg("world_id"), py::arg("version_id"), py::arg("expected_rev") = "",
           py::arg("limits") = py::none(), py::arg("plugins") = py::none())
      .def("diff",
           [](S& s, const std::string& app, const std::string& mode, const std::string& id, const std::string& a,
              const std::string& b) { return call([&] { return (*s).diff(scope_of(app, mode), id, a, b); }); })
      // ---- users, apps, keys
      .def("create_user",
           [](S& s, const std::string& email, const std::string& password) {
             return call([&] { return user_json((*s).create_user(email, password)); });
           })
      .def("get_user", [](S& s, const std::string& id) { return call([&] { return user_json((*s).get_user(id)); }); })
      .def("authenticate_user",
           [](S& s, const std::string& email, const std::string& password) {
             return call([&] { return user_json((*s).authenticate_user(email, password)); });
           })
      .def("create_app",
           [](S& s, const std::string& owner, const std::string& name) {
             return call([&] { return app_json((*s).create_app(owner, name)); });
           })
      .def("get_app", [](S& s, const std::string& id) { return call([&] { return app_json((*s).get_app(id)); }); })
      .def("list_apps",
           [](S& s, const std::string& owner, int limit, const std::string& cursor) {
             return call([&] { return page_json((*s).list_apps(owner, limit, cursor), app_json); });
           })
      .def("create_key",
           [](S& s, const std::string& app, const std::string& type, const std::string& mode, const std::string& name) {
             return call([&] {
               auto k = (*s).create_key(app, type, mode, name);
               Json out = key_json(k.info);
               out["key"] = k.key;
               return out;
             });
           })
      .def("list_keys",
           [](S& s, const std::string& app, int limit, const std::string& cursor) {
             return call([&] { return page_json((*s).list_keys(app, limit, cursor), key_json); });
           })
      .def("revoke_key",
           [](S& s, const std::string& app, const std::string& key_id) {
             return call([&] { return key_json((*s).revoke_key(app, key_id)); });
           })
      .def("find_user",
           [](S& s, const std::string& email) {
             return call([&] {
               auto u = (*s).find_user(email);
               return u ? user_json(*u) : Json(nullptr);
             });
           })
      .def("issue_user_token",
           [](S& s, const std::string& user_id, std::int64_t ttl) {
             return call([&] {
               auto t = (*s).issue_user_token(user_id, ttl);
               return Json{{"token", t.token}, {"expiresAt", t.expires_at}};
             });
           })
      .def("verify_user_token",
           [](S& s, const std::string& token) { return call([&] { return user_json((*s).verify_user_token(token)); }); })
      .def("verify_key", [](S& s, const std::string& key) { return call([&] { return key_json((*s).verify_key(key)); }); })
      // ---- idempotency
      .def("idem_begin",
           [](S& s, const std::string& app, const std::string& mode, const std::string& key, const std::string& hash) {
             return call([&] {
               auto r = (*s).idem_begin(scope_of(app, mode), key, hash);
               static const char* kinds[] = {"new", "replay", "conflict", "in_flight"};
               Json out = {{"kind", kinds[static_cast<int>(r.kind)]}};
               if (r.kind == conjure::IdemBegin::Kind::kReplay) {
                 out["status"] = r.status;
                 out["body"] = r.body;
               }
               return out;
             });
           })
      .def("idem_complete",
           [](S& s, const std::string& app, const std::string& mode, const std::string& key, int status,
              const std::string& body) {
             py::gil_scoped_release release;
             (*s).idem_complete(scope_of(app, mode), key, status, body);
           })
      .def("idem_release",
           [](S& s, const std::string& app, const std::string& mode, const std::string& key) {
             py::gil_scoped_release release;
             (*s).idem_release(scope_of(app, mode), key);
           })
      // ---- meters
      .def("meter_reserve",
           [](S& s, const std::string& app, const std::string& meter, std::int64_t amount, const std::string& day) {
             return call([&] {
               auto r = (*s).meter_reserve(app, meter, amount, day);
               return Json{{"id", r.id}, {"appId", r.app_id}, {"meter", r.meter}, {"day", r.day}, {"amount", r.amount}};
             });
           },
           py::arg("app_id"), py::arg("meter"), py::arg("amount"), py::arg("day") = "")
      .def("meter_commit",
           [](S& s, const std::string& id, std::int64_t used) {
             return call([&] { return meter_json((*s).meter_commit(id, used)); });
           },
           py::arg("reservation_id"), py::arg("used") = -1)
      .def("meter_refund",
           [](S& s, const std::string& id) { return call([&] { return meter_json((*s).meter_refund(id)); }); })
      .def("meter_usage",
           [](S& s, const std::string& app, const std::string& day) {
             return call([&] {
               std::string d = day.empty() ? conjure::utc_day() : day;
               Json meters = Json::object();
               for (const auto& mstate : (*s).meter_usage(app, d)) meters[mstate.meter] = meter_json(mstate);
               return Json{{"day", d}, {"meters", std::move(meters)}};
             });
           },
           py::arg("app_id"), py::arg("day") = "")
      .def("set_meter_limit",
           [](S& s, const std::string& app, const std::string& meter, std::int64_t limit) {
             py::gil_scoped_release release;
             (*s).set_meter_limit(app, meter, limit);
           })
      // ---- jobs
      .def("create_job",
           [](S& s, const std::string& app, const std::string& mode, const std::string& kind, py::handle payload) {
             Json p = conjure_py::to_json(payload, kMaxDepth, "payload");
             return call([&] { return job_json((*s).create_job(scope_of(app, mode), kind, p)); });
           })
      .def("get_job",
           [](S& s, const std::string& app, const std::string& mode, const std::string& id) {
             return call([&] { return job_json((*s).get_job(scope_of(app, mode), id)); });
           })
      .def("claim_job",
           [](S& s, const std::string& worker, int lease) {
             return call([&] {
               auto j = (*s).claim_job(worker, lease);
               return j ? job_json(*j) : Json(nullptr);
             });
           })
      .def("complete_job",
           [](S& s, const std::string& id, py::handle result) {
             Json r = conjure_py::to_json(result, kMaxDepth, "result");
             return call([&] { return job_json((*s).complete_job(id, r)); });
           })
      .def("complete_generation_job",
           [](S& s, const std::string& id, py::handle world, const std::string& event_type, py::handle limits,
              py::handle plugins) {
             auto gate = gate_of(limits, plugins);
             Json doc = conjure_py::world_arg(world, gate.limits);
             return call([&] {
               auto done = (*s).complete_generation_job(id, doc, event_type, gate);
               return Json{{"job", job_json(done.job)},
                           {"world", graph_write_json(done.world, false)},
                           {"event", {{"id", done.event.id}, {"appId", done.event.app_id}, {"mode", done.event.mode},
                                      {"type", done.event.type}, {"createdAt", done.event.created_at},
                                      {"data", done.event.data}}}};
             });
           },
           py::arg("job_id"), py::arg("world"), py::arg("event_type"), py::arg("limits") = py::none(),
           py::arg("plugins") = py::none())
      .def("fail_job",
           [](S& s, const std::string& id, const std::string& error) {
             return call([&] { return job_json((*s).fail_job(id, error)); });
           })
      // ---- webhooks and outbox
      .def("create_webhook",
           [](S& s, const std::string& app, const std::string& url, const std::vector<std::string>& events,
              const std::string& description) {
             return call([&] {
               auto w = (*s).create_webhook(app, url, events, description);
               Json out = endpoint_json(w.endpoint);
               out["secret"] = w.secret;
               return out;
             });
           })
      .def("list_webhooks",
           [](S& s, const std::string& app, int limit, const std::string& cursor) {
             return call([&] { return page_json((*s).list_webhooks(app, limit, cursor), endpoint_json); });
           })
      .def("delete_webhook",
           [](S& s, const std::string& app, const std::string& id) {
             py::gil_scoped_release release;
             (*s).delete_webhook(app, id);
           })
      .def("get_webhook",
           [](S& s, const std::string& id) { return call([&] { return endpoint_json((*s).get_webhook(id)); }); })
      // ---- play sessions
      .def("rotate_session_key", [](S& s) { return call([&] { return Json((*s).rotate_session_key()); }); })
      .def("mint_session_token",
           [](S& s, const std::string& app, const std::string& mode, const std::string& world,
              const std::string& player, const std::string& origin, int ttl) {
             return call([&] {
               auto t = (*s).mint_session_token(scope_of(app, mode), world, player, origin, ttl);
               return Json{{"token", t.token}, {"expiresAt", t.expires_at}, {"jti", t.jti}};
             });
           })
      .def("verify_session_token",
           [](S& s, const std::string& token, const std::string& origin, py::handle now) {
             std::int64_t at = now_arg(now);
             return call([&] { return claims_json((*s).verify_session_token(token, origin, at)); });
           },
           py::arg("token"), py::arg("origin") = "", py::arg("now") = py::none())
      .def("admit_session",
           [](S& s, py::handle claims, int app_cap, int global_cap, int minutes) {
             auto c = claims_arg(claims);
             return call([&] {
               auto a = (*s).admit_session(c, app_cap, global_cap, minutes);
               return Json{{"sessionId", a.session_id},
                           {"connectToken", a.connect_token},
                           {"connectExpiresAt", a.connect_expires_at},
                           {"expiresAt", a.expires_at}};
             });
           })
      .def("consume_connect_token",
           [](S& s, const std::string& token, py::handle now) {
             std::int64_t at = now_arg(now);
             return call([&] { return session_info_json((*s).consume_connect_token(token, at)); });
           },
           py::arg("token"), py::arg("now") = py::none())
      .def("bind_session",
           [](S& s, const std::string& id, py::handle claims) {
             auto c = claims_arg(claims);
             return call([&] {
               auto r = (*s).bind_session(id, c);
               return Json{{"sessionId", r.id}, {"status", r.status}};
             });
           })
      .def("settle_session",
           [](S& s, const std::string& id, std::int64_t seconds_used, py::handle claims) {
             std::optional<conjure::SessionClaims> c;
             if (!claims.is_none()) c = claims_arg(claims);
             return call([&] {
               auto r = (*s).settle_session(id, seconds_used, c ? &*c : nullptr);
               return Json{{"sessionId", r.id}, {"status", r.status}, {"secondsUsed", r.seconds_used}};
             });
           },
           py::arg("session_id"), py::arg("seconds_used") = -1, py::arg("claims") = py::none())
      .def("reap_sessions",
           [](S& s, py::handle now) {
             std::int64_t at = now_arg(now);
             py::gil_scoped_release release;
             return (*s).reap_sessions(at);
           },
           py::arg("now") = py::none())
      .def("settle_all_active",
           [](S& s, const std::string& reason) {
             py::gil_scoped_release release;
             return (*s).settle_all_active(reason);
           })
      .def("enqueue_event",
           [](S& s, const std::string& app, const std::string& mode, const std::string& type, py::handle data) {
             Json d = conjure_py::to_json(data, kMaxDepth, "data");
             return call([&] {
               auto e = (*s).enqueue_event(scope_of(app, mode), type, d);
               return Json{{"id", e.id}, {"appId", e.app_id}, {"mode", e.mode}, {"type", e.type},
                           {"createdAt", e.created_at}, {"data", e.data}};
             });
           })
      .def("claim_deliveries",
           [](S& s, int limit, int lease) {
             return call([&] {
               Json out = Json::array();
               for (const auto& d : (*s).claim_deliveries(limit, lease)) out.push_back(delivery_json(d));
               return out;
             });
           })
      .def("record_delivery",
           [](S& s, const std::string& id, int status, bool success, const std::string& error,
              std::optional<double> next_attempt_in) {
             return call([&] { return delivery_json((*s).record_delivery(id, status, success, error, next_attempt_in)); });
           },
           py::arg("delivery_id"), py::arg("status"), py::arg("success"), py::arg("error") = "",
           py::arg("next_attempt_in") = py::none())
      .def("list_delivery_attempts",
           [](S& s, const std::string& id) {
             return call([&] {
               Json out = Json::array();
               for (const auto& a : (*s).list_delivery_attempts(id)) {
                 out.push_back({{"attempt", a.attempt},
                                {"status", a.status},
                                {"responseStatus", a.response_status == 0 ? Json(nullptr) : Json(a.response_status)},
                                {"error", a.error},
                                {"createdAt", a.created_at}});
               }
               return out;
             });
           })
      .def("list_deliveries",
           [](S& s, const std::string& app, const std::string& webhook, int limit, const std::string& cursor) {
             return call([&] { return page_json((*s).list_deliveries(app, webhook, limit, cursor), delivery_json); });
           })
      // ---- maintenance
      .def("check",
           [](S& s) {
             return call([&] {
               auto r = (*s).check();
               return Json{{"ok", r.ok},           {"integrity", r.integrity}, {"foreignKeys", r.foreign_keys},
                           {"missingBlobs", r.missing_blobs}, {"orphanBlobs", r.orphan_blobs},
                           {"blobs", r.blobs},     {"versions", r.versions},   {"worlds", r.worlds}};
             });
           })
      .def("backup", [](S& s, const std::string& path) {
        py::gil_scoped_release release;
        (*s).backup(path);
      });
}
