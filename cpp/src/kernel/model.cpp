// Builds the typed model of a world from its normalised JSON and reports every
// `schema` finding (WORLD.md §1, seed SMWorld/SMState/SMEvent). Unknown
// properties are ignored; an optional field holding null counts as absent.
#include <cmath>

#include "kernel/model.hpp"

namespace conjure::kernel {

std::size_t count_code_points(std::string_view s) noexcept {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool valid_id(std::string_view s) noexcept {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string quote(std::string_view s) {
  constexpr std::size_t kMax = 80;
  std::string out = "'";
  if (s.size() <= kMax) {
    out.append(s);
  } else {
    std::size_t cut = kMax;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    out.append(s.substr(0, cut));
    out += "...";
  }
  out += "'";
  return out;
}

namespace {

const char* type_name(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::string: return "a string";
    case Json::value_t::array: return "an array";
    case Json::value_t::object: return "an object";
    case Json::value_t::discarded: return "nothing";
    default: return "a number";
  }
}

// Event and cutscene names: 1–120 printable characters (no control characters).
bool valid_name(std::string_view s) noexcept {
  if (s.empty()) return false;
  std::size_t cps = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) return false;
    if (c == 0xC2 && i + 1 < s.size()) {  // U+0080..U+009F: C1 controls
      unsigned char d = static_cast<unsigned char>(s[i + 1]);
      if (d >= 0x80 && d <= 0x9F) return false;
    }
    cps += (c & 0xC0) != 0x80;
  }
  return cps <= 120;
}

class Builder {
 public:
  Builder(Model& m, Context& cx) : m_(m), cx_(cx) {}

  void run(Json& world) {
    if (!world.is_object()) {
      schema("world", std::string("a world must be a JSON object, not ") + type_name(world) +
                          "; send {\"name\": ..., \"entrance\": ..., \"scene\": ...}");
      m_.fatal = true;
      return;
    }
    if (!check_version(world)) {
      m_.fatal = true;
      return;
    }
    optional_string(world, "id", "id");
    required_string(world, "name", "name");
    optional_string(world, "description", "description");
    optional_string(world, "cover", "cover");
    if (const Json* v = field(world, "visibility")) {
      if (!v->is_string() || (*v != "private" && *v != "public")) {
        schema("visibility", "visibility must be \"private\" or \"public\", not " + show(*v));
      }
    }
    entrance(world);
    Json* scene = field(world, "scene");
    if (!scene) {
      schema("scene", "the world has no scene; add \"scene\": {\"states\": {...}, \"events\": [...]}");
      return;
    }
    if (!scene->is_object()) {
      schema("scene", std::string("scene must be an object, not ") + type_name(*scene));
      return;
    }
    slots(*scene);
    states(*scene);
    events(*scene);
    cutscenes(*scene);
  }

 private:
  Model& m_;
  Context& cx_;

  void schema(std::string path, std::string message) {
    cx_.error("schema", std::move(path), std::move(message));
  }

  static std::string show(const Json& j) {
    if (j.is_string()) return quote(j.get_ref<const std::string&>());
    return type_name(j);
  }

  // The member `key`, or nullptr when absent or null.
  static Json* field(Json& obj, const char* key) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
  }

  const std::string* optional_string(Json& obj, const char* key, const std::string& path) {
    Json* v = field(obj, key);
    if (!v) return nullptr;
    if (!v->is_string()) {
      schema(path, path + " must be a string, not " + std::string(type_name(*v)));
      return nullptr;
    }
    return &v->get_ref<const std::string&>();
  }

  const std::string* required_string(Json& obj, const char* key, const std::string& path) {
    if (!field(obj, key)) {
      schema(path, path + " is required and missing; add it as a string");
      return nullptr;
    }
    return optional_string(obj, key, path);
  }

  bool optional_bool(Json& obj, const char* key, const std::string& path) {
    Json* v = field(obj, key);
    if (!v) return false;
    if (!v->is_boolean()) {
      schema(path, path + " must be true or false, not " + std::string(type_name(*v)));
      return false;
    }
    return v->get<bool>();
  }

  double optional_seconds(Json& obj, const char* key, const std::string& path) {
    Json* v = field(obj, key);
    if (!v) return 0;
    if (!v->is_number()) {
      schema(path, path + " must be a number of seconds, not " + std::string(type_name(*v)));
      return 0;
    }
    double d = v->get<double>();
    if (!(d >= 0) || !std::isfinite(d)) {
      schema(path, path + " must be zero or more seconds, not " + v->dump());
      return 0;
    }
    return d;
  }

  std::vector<std::string> string_list(Json& obj, const char* key, const std::string& path) {
    std::vector<std::string> out;
    Json* v = field(obj, key);
    if (!v) return out;
    if (!v->is_array()) {
      schema(path, path + " must be an array of strings, not " + std::string(type_name(*v)));
      return out;
    }
    out.reserve(v->size());
    std::size_t i = 0;
    for (Json& item : *v) {
      if (item.is_string()) {
        out.push_back(item.get<std::string>());
      } else {
        schema(path, path + "[" + std::to_string(i) + "] must be a string, not " +
                         std::string(type_name(item)));
      }
      ++i;
    }
    return out;
  }

  std::size_t prose(Json& obj, const char* key, std::string path, Owner owner, std::size_t index,
                    bool override_prose = false) {
    Json* v = field(obj, key);
    if (!v) return kNone;
    if (!v->is_string()) {
      schema(path, path + " must be a string of prose, not " + std::string(type_name(*v)));
      return kNone;
    }
    ProseField f;
    f.path = std::move(path);
    f.node = v;
    f.owner = owner;
    f.owner_index = index;
    f.override_prose = override_prose;
    m_.prose.push_back(std::move(f));
    return m_.prose.size() - 1;
  }

  // camera / movement: {static, dynamic}.
  void layer_pair(Json& obj, const char* key, const std::string& base_path, Owner owner,
                  std::size_t index, std::size_t* st, std::size_t* dy, bool override_prose = false) {
    Json* v = field(obj, key);
    if (!v) return;
    std::string path = base_path + "." + key;
    if (!v->is_object()) {
      schema(path, path + " must be an object {\"static\": ..., \"dynamic\": ...}, not " +
                       std::string(type_name(*v)));
      return;
    }
    std::size_t s = prose(*v, "static", path + ".static", owner, index, override_prose);
    std::size_t d = prose(*v, "dynamic", path + ".dynamic", owner, index, override_prose);
    if (st) *st = s;
    if (dy) *dy = d;
  }

  void ambient(Json& obj, const std::string& base_path, Owner owner, std::size_t index,
               std::vector<std::size_t>* out) {
    Json* v = field(obj, "ambient");
    if (!v) return;
    std::string path = base_path + ".ambient";
    if (!v->is_array()) {
      schema(path, path + " must be an array of prose strings, not " + std::string(type_name(*v)));
      return;
    }
    for (std::size_t i = 0; i < v->size(); ++i) {
      std::string p = path + "[" + std::to_string(i) + "]";
      Json& item = (*v)[i];
      if (!item.is_string()) {
        schema(p, p + " must be a string of prose, not " + std::string(type_name(item)));
        continue;
      }
      ProseField f;
      f.path = std::move(p);
      f.node = &item;
      f.owner = owner;
      f.owner_index = index;
      m_.prose.push_back(std::move(f));
      if (out) out->push_back(m_.prose.size() - 1);
    }
  }

  Ending ending(Json& obj, const std::string& base_path) {
    Ending e;
    Json* v = field(obj, "ending");
    if (!v) return e;
    e.present = true;
    std::string path = base_path + ".ending";
    if (!v->is_object()) {
      schema(path, path + " must be an object {\"kind\": \"win\"|\"lose\", \"title\": ...}, not " +
                       std::string(type_name(*v)));
      return e;
    }
    bool ok = true;
    Json* kind = field(*v, "kind");
    if (!kind) {
      schema(path + ".kind", path + ".kind is required; set it to \"win\" or \"lose\"");
      ok = false;
    } else if (!kind->is_string() || (*kind != "win" && *kind != "lose")) {
      schema(path + ".kind", path + ".kind must be \"win\" or \"lose\", not " + show(*kind));
      ok = false;
    }
    if (!required_string(*v, "title", path + ".title")) ok = false;
    optional_string(*v, "subtitle", path + ".subtitle");
    e.valid = ok;
    return e;
  }

  bool check_version(Json& world) {
    Json* v = field(world, "schemaVersion");
    if (!v) return true;  // normalise() sets it; a null is read as absent
    if (!v->is_string()) {
      schema("schemaVersion", std::string("schemaVersion must be a string such as \"1.0\", not ") +
                                  type_name(*v));
      return false;
    }
    const std::string& s = v->get_ref<const std::string&>();
    std::size_t i = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    bool well_formed = i > 0 && i <= 9;
    for (std::size_t j = i; well_formed && j < s.size(); ++j) {
      char c = s[j];
      if (!((c >= '0' && c <= '9') || c == '.')) well_formed = false;
    }
    if (!well_formed) {
      schema("schemaVersion", "schemaVersion " + quote(s) + " is not a version; use \"1.0\"");
      return false;
    }
    if (s.substr(0, i) != "1") {
      schema("schemaVersion", "schemaVersion " + quote(s) +
                                  " has a major version this server does not know; use \"1.0\"");
      return false;
    }
    return true;
  }

  void entrance(Json& world) {
    Json* e = field(world, "entrance");
    if (!e) {
      schema("entrance", "the world has no entrance; add \"entrance\": {\"state\": \"<state id>\"}");
      return;
    }
    if (!e->is_object()) {
      schema("entrance", std::string("entrance must be an object, not ") + type_name(*e));
      return;
    }
    if (const std::string* s = required_string(*e, "state", "entrance.state")) {
      m_.entrance = *s;
      m_.entrance_ok = true;
    }
    if (Json* img = field(*e, "image")) {
      if (!img->is_object()) {
        schema("entrance.image", std::string("entrance.image must be an object {\"src\": ...}, not ") +
                                     type_name(*img));
      } else {
        required_string(*img, "src", "entrance.image.src");
        optional_string(*img, "label", "entrance.image.label");
      }
    }
  }

  void slots(Json& scene) {
    Json* v = field(scene, "slots");
    if (!v) return;
    if (!v->is_object()) {
      schema("scene.slots", std::string("scene.slots must be an object of name -> prose, not ") +
                                type_name(*v));
      return;
    }
    m_.slots.reserve(v->size());
    for (auto it = v->begin(); it != v->end(); ++it) {
      std::string path = "scene.slots." + it.key();
      if (!valid_id(it.key())) {
        schema(path, "slot name " + quote(it.key()) +
                         " must be 1-64 characters of letters, digits, '_', '.' or '-'");
        continue;
      }
      if (!it->is_string()) {
        schema(path, path + " must be a string of prose, not " + std::string(type_name(*it)));
        continue;
      }
      Slot s;
      s.name = it.key();
      s.path = std::move(path);
      s.node = &*it;
      s.defined_ok = true;
      m_.slot_index.emplace(std::string_view(it.key()), m_.slots.size());
      m_.slots.push_back(std::move(s));
    }
  }

  void states(Json& scene) {
    Json* v = field(scene, "states");
    if (!v) {
      schema("scene.states", "scene.states is required; add an object of state id -> state");
      return;
    }
    if (!v->is_object()) {
      schema("scene.states", std::string("scene.states must be an object of state id -> state, not ") +
                                 type_name(*v));
      return;
    }
    m_.states_count = v->size();
    m_.states.reserve(v->size());
    for (auto it = v->begin(); it != v->end(); ++it) {
      std::size_t index = m_.states.size();
      m_.states.emplace_back();
      State& st = m_.states.back();
      st.id = it.key();
      st.path = "state[" + st.id + "]";
      st.id_ok = valid_id(st.id);
      if (!st.id_ok) {
        schema(st.path, "state id " + quote(st.id) +
                            " must be 1-64 characters of letters, digits, '_', '.' or '-'");
      }
      Json& obj = *it;
      if (!obj.is_object()) {
        schema(st.path, st.path + " must be an object, not " + std::string(type_name(obj)));
        continue;
      }
      state_body(obj, index);
    }
    for (std::size_t i = 0; i < m_.states.size(); ++i) m_.state_index.emplace(m_.states[i].id, i);
  }

  void state_body(Json& obj, std::size_t index) {
    const std::string path = m_.states[index].path;
    std::size_t base = prose(obj, "base", path + ".base", Owner::kState, index);
    std::size_t cs = kNone, cd = kNone, ms = kNone, md = kNone;
    layer_pair(obj, "camera", path, Owner::kState, index, &cs, &cd);
    layer_pair(obj, "movement", path, Owner::kState, index, &ms, &md);
    std::vector<std::size_t> amb;
    ambient(obj, path, Owner::kState, index, &amb);
    Ending e = ending(obj, path);
    State& st = m_.states[index];
    st.base = base;
    st.cam_static = cs;
    st.cam_dynamic = cd;
    st.mov_static = ms;
    st.mov_dynamic = md;
    st.ambient = std::move(amb);
    st.ending = e;
    if (Json* vars = field(obj, "variants")) {
      std::string vpath = path + ".variants";
      if (!vars->is_array()) {
        schema(vpath, vpath + " must be an array of variant objects, not " +
                          std::string(type_name(*vars)));
        return;
      }
      for (std::size_t i = 0; i < vars->size(); ++i) {
        Json& var = (*vars)[i];
        std::string p = vpath + "[" + std::to_string(i) + "]";
        if (!var.is_object()) {
          schema(p, p + " must be an object, not " + std::string(type_name(var)));
          continue;
        }
        optional_string(var, "label", p + ".label");
        prose(var, "base", p + ".base", Owner::kVariant, index);
        layer_pair(var, "camera", p, Owner::kVariant, index, nullptr, nullptr);
        layer_pair(var, "movement", p, Owner::kVariant, index, nullptr, nullptr);
        ambient(var, p, Owner::kVariant, index, nullptr);
      }
    }
  }

  void events(Json& scene) {
    Json* v = field(scene, "events");
    if (!v) {
      schema("scene.events", "scene.events is required; add an array of events (it may be empty)");
      return;
    }
    if (!v->is_array()) {
      schema("scene.events", std::string("scene.events must be an array of events, not ") +
                                 type_name(*v));
      return;
    }
    m_.events_count = v->size();
    m_.events.reserve(v->size());
    for (std::size_t i = 0; i < v->size(); ++i) event((*v)[i], i);
  }

  void event(Json& obj, std::size_t i) {
    std::size_t index = m_.events.size();
    m_.events.emplace_back();
    Event& ev = m_.events.back();
    ev.path = "scene.events[" + std::to_string(i) + "]";
    if (!obj.is_object()) {
      schema(ev.path, ev.path + " must be an event object, not " + std::string(type_name(obj)));
      return;
    }
    if (Json* n = field(obj, "name"); n && n->is_string() && valid_name(n->get_ref<const std::string&>())) {
      ev.name = n->get<std::string>();
      ev.name_ok = true;
      ev.path = "event[" + ev.name + "]";
    } else if (!n) {
      schema(ev.path + ".name", ev.path + " has no name; give it a unique name (events are addressed by name)");
    } else if (!n->is_string()) {
      schema(ev.path + ".name", ev.path + ".name must be a string, not " + std::string(type_name(*n)));
    } else {
      schema(ev.path + ".name", "event name " + quote(n->get_ref<const std::string&>()) +
                                    " must be 1-120 printable characters");
    }
    const std::string path = ev.path;
    Json* kind = field(obj, "kind");
    EventKind k = EventKind::kInvalid;
    if (!kind) {
      schema(path + ".kind", path + ".kind is required; use \"transition\", \"override\" or \"terminal\"");
    } else if (*kind == "transition") {
      k = EventKind::kTransition;
    } else if (*kind == "override") {
      k = EventKind::kOverride;
    } else if (*kind == "terminal") {
      k = EventKind::kTerminal;
    } else {
      schema(path + ".kind", path + ".kind must be \"transition\", \"override\" or \"terminal\", not " +
                                 show(*kind));
    }
    ev.kind = k;
    // `from`: normalise() turned a single string into an array.
    if (Json* from = field(obj, "from"); !from) {
      schema(path + ".from", path + ".from is required; list the state ids it fires from");
    } else if (!from->is_array()) {
      schema(path + ".from", path + ".from must be a state id or an array of state ids, not " +
                                 std::string(type_name(*from)));
    } else if (from->empty()) {
      schema(path + ".from", path + ".from is empty; list at least one state id it fires from");
    } else {
      bool ok = true;
      for (const Json& s : *from) {
        if (s.is_string()) {
          ev.from.push_back(s.get<std::string>());
        } else {
          ok = false;
          schema(path + ".from", path + ".from must hold state ids (strings), not " +
                                     std::string(type_name(s)));
        }
      }
      ev.from_ok = ok;
    }
    if (Json* to = field(obj, "to")) {
      ev.has_to = true;
      if (to->is_string()) {
        ev.to = to->get<std::string>();
        ev.to_ok = true;
      } else {
        schema(path + ".to", path + ".to must be a state id (a string), not " + std::string(type_name(*to)));
      }
    }
    if (const std::string* hk = optional_string(obj, "hotkey", path + ".hotkey")) m_.events[index].hotkey = *hk;
    m_.events[index].requires_ = string_list(obj, "requires", path + ".requires");
    m_.events[index].grants = string_list(obj, "grants", path + ".grants");
    m_.events[index].hidden = optional_bool(obj, "hidden", path + ".hidden");
    optional_bool(obj, "oneShot", path + ".oneShot");
    if (Json* timing = field(obj, "timing")) {
      if (!timing->is_object()) {
        schema(path + ".timing", path + ".timing must be an object {\"after\": s, \"duration\": s}, not " +
                                     std::string(type_name(*timing)));
      } else {
        m_.events[index].after = optional_seconds(*timing, "after", path + ".timing.after");
        optional_seconds(*timing, "duration", path + ".timing.duration");
      }
    }
    if (k == EventKind::kTerminal) m_.events[index].ending = ending(obj, path);
    bool ov = k == EventKind::kOverride;
    prose(obj, "base", path + ".base", Owner::kEvent, index, ov);
    prose(obj, "detail", path + ".detail", Owner::kEvent, index, ov);
    layer_pair(obj, "camera", path, Owner::kEvent, index, nullptr, nullptr, ov);
    layer_pair(obj, "movement", path, Owner::kEvent, index, nullptr, nullptr, ov);
  }

  void cutscenes(Json& scene) {
    Json* v = field(scene, "cutscenes");
    if (!v) return;
    if (!v->is_array()) {
      schema("scene.cutscenes", std::string("scene.cutscenes must be an array, not ") + type_name(*v));
      return;
    }
    for (std::size_t i = 0; i < v->size(); ++i) {
      Json& obj = (*v)[i];
      std::size_t index = m_.cutscenes.size();
      m_.cutscenes.emplace_back();
      Cutscene& cs = m_.cutscenes.back();
      cs.path = "scene.cutscenes[" + std::to_string(i) + "]";
      if (!obj.is_object()) {
        schema(cs.path, cs.path + " must be an object, not " + std::string(type_name(obj)));
        continue;
      }
      if (Json* n = field(obj, "name"); n && n->is_string() && valid_name(n->get_ref<const std::string&>())) {
        cs.name = n->get<std::string>();
        cs.name_ok = true;
        cs.path = "cutscene[" + cs.name + "]";
      } else if (!n) {
        schema(cs.path + ".name", cs.path + " has no name; give it a unique name");
      } else {
        schema(cs.path + ".name", cs.path + ".name must be 1-120 printable characters, not " + show(*n));
      }
      const std::string path = cs.path;
      if (const std::string* s = required_string(obj, "state", path + ".state")) {
        m_.cutscenes[index].state = *s;
        m_.cutscenes[index].has_state = true;
      }
      optional_seconds(obj, "duration", path + ".duration");
      prose(obj, "base", path + ".base", Owner::kCutscene, index);
    }
  }
};

}  // namespace

void build_model(Json& world, Model& model, Context& cx) { Builder(model, cx).run(world); }

}  // namespace conjure::kernel
