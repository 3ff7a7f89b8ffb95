// Builds the typed model of a world from its normalised JSON and reports every
// `schema` finding (WORLD.md §1, seed SMWorld/SMState/SMEvent). Unknown
// properties are ignored; an optional field holding null counts as absent.
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <optional>

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

// The JSON types the builder distinguishes (integers and floats are both numbers).
enum class Type : std::uint8_t { kNull, kBoolean, kNumber, kString, kArray, kObject };

const char* type_name(Type t) {
  switch (t) {
    case Type::kNull: return "null";
    case Type::kBoolean: return "a boolean";
    case Type::kString: return "a string";
    case Type::kArray: return "an array";
    case Type::kObject: return "an object";
    default: return "a number";
  }
}

// Reader over a parsed nlohmann document. Objects iterate in key order (the
// document keeps them sorted, each key once).
struct JsonReader {
  using Node = Json*;

  static Type type(Node n) {
    switch (n->type()) {
      case Json::value_t::null:
      case Json::value_t::discarded: return Type::kNull;
      case Json::value_t::boolean: return Type::kBoolean;
      case Json::value_t::string: return Type::kString;
      case Json::value_t::array: return Type::kArray;
      case Json::value_t::object: return Type::kObject;
      default: return Type::kNumber;
    }
  }
  // The member `key`, or nothing when absent or null.
  static std::optional<Node> field(Node obj, const char* key) {
    auto it = obj->find(key);
    if (it == obj->end() || it->is_null()) return std::nullopt;
    return &*it;
  }
  static std::string_view str(Node n) { return n->get_ref<const std::string&>(); }
  static bool boolean(Node n) { return n->get<bool>(); }
  static double number(Node n) { return n->get<double>(); }
  static std::string number_text(Node n) { return n->dump(); }
  static Json* site(Node n) { return n; }
  template <class F>
  static void items(Node arr, F&& f) {
    std::size_t i = 0;
    for (Json& item : *arr) f(i++, &item);
  }
  static std::vector<std::pair<std::string_view, Node>> members(Node obj) {
    std::vector<std::pair<std::string_view, Node>> out;
    out.reserve(obj->size());
    for (auto it = obj->begin(); it != obj->end(); ++it) out.emplace_back(it.key(), &*it);
    return out;
  }
};

// Reader over the fast reader's document. It reads exactly as the parsed
// document would: a key given twice counts once, with its last value, and
// objects iterate in key order.
struct SimdReader {
  using Node = simdjson::dom::element;

  static Type type(const Node& n) {
    switch (n.type()) {
      case simdjson::dom::element_type::NULL_VALUE: return Type::kNull;
      case simdjson::dom::element_type::BOOL: return Type::kBoolean;
      case simdjson::dom::element_type::STRING: return Type::kString;
      case simdjson::dom::element_type::ARRAY: return Type::kArray;
      case simdjson::dom::element_type::OBJECT: return Type::kObject;
      default: return Type::kNumber;
    }
  }
  static std::optional<Node> field(const Node& obj, const char* key) {
    std::optional<Node> found;
    std::string_view k(key);
    for (auto member : simdjson::dom::object(obj)) {
      if (member.key == k) found = member.value;
    }
    if (found && found->is_null()) return std::nullopt;
    return found;
  }
  static std::string_view str(const Node& n) { return std::string_view(n); }
  static bool boolean(const Node& n) { return bool(n); }
  static double number(const Node& n) { return double(n); }
  static std::string number_text(const Node& n) {
    switch (n.type()) {
      case simdjson::dom::element_type::INT64: return Json(std::int64_t(n)).dump();
      case simdjson::dom::element_type::UINT64: return Json(std::uint64_t(n)).dump();
      default: return Json(double(n)).dump();
    }
  }
  static Json* site(const Node&) { return nullptr; }
  template <class F>
  static void items(const Node& arr, F&& f) {
    std::size_t i = 0;
    for (Node item : simdjson::dom::array(arr)) f(i++, item);
  }
  static std::vector<std::pair<std::string_view, Node>> members(const Node& obj) {
    std::vector<std::pair<std::string_view, Node>> all;
    bool sorted = true;
    for (auto member : simdjson::dom::object(obj)) {
      if (!all.empty() && !(all.back().first < member.key)) sorted = false;
      all.emplace_back(member.key, member.value);
    }
    if (sorted) return all;
    std::stable_sort(all.begin(), all.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::pair<std::string_view, Node>> out;
    out.reserve(all.size());
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (i + 1 < all.size() && all[i + 1].first == all[i].first) continue;  // the last one wins
      out.push_back(all[i]);
    }
    return out;
  }
};

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

template <class R>
class Builder {
 public:
  using Node = typename R::Node;

  Builder(Model& m, Context& cx) : m_(m), cx_(cx) {}

  void run(Node world) {
    if (R::type(world) != Type::kObject) {
      schema("world", std::string("a world must be a JSON object, not ") + tname(world) +
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
    if (auto v = R::field(world, "visibility")) {
      if (!is_string(*v) || (R::str(*v) != "private" && R::str(*v) != "public")) {
        schema("visibility", "visibility must be \"private\" or \"public\", not " + show(*v));
      }
    }
    entrance(world);
    auto scene = R::field(world, "scene");
    if (!scene) {
      schema("scene", "the world has no scene; add \"scene\": {\"states\": {...}, \"events\": [...]}");
      return;
    }
    if (R::type(*scene) != Type::kObject) {
      schema("scene", std::string("scene must be an object, not ") + tname(*scene));
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

  static const char* tname(const Node& n) { return type_name(R::type(n)); }
  static bool is_string(const Node& n) { return R::type(n) == Type::kString; }

  static std::string show(const Node& n) {
    if (is_string(n)) return quote(R::str(n));
    return tname(n);
  }

  std::optional<std::string_view> optional_string(const Node& obj, const char* key,
                                                  const std::string& path) {
    auto v = R::field(obj, key);
    if (!v) return std::nullopt;
    if (!is_string(*v)) {
      schema(path, path + " must be a string, not " + std::string(tname(*v)));
      return std::nullopt;
    }
    return R::str(*v);
  }

  std::optional<std::string_view> required_string(const Node& obj, const char* key,
                                                  const std::string& path) {
    if (!R::field(obj, key)) {
      schema(path, path + " is required and missing; add it as a string");
      return std::nullopt;
    }
    return optional_string(obj, key, path);
  }

  bool optional_bool(const Node& obj, const char* key, const std::string& path) {
    auto v = R::field(obj, key);
    if (!v) return false;
    if (R::type(*v) != Type::kBoolean) {
      schema(path, path + " must be true or false, not " + std::string(tname(*v)));
      return false;
    }
    return R::boolean(*v);
  }

  double optional_seconds(const Node& obj, const char* key, const std::string& path) {
    auto v = R::field(obj, key);
    if (!v) return 0;
    if (R::type(*v) != Type::kNumber) {
      schema(path, path + " must be a number of seconds, not " + std::string(tname(*v)));
      return 0;
    }
    double d = R::number(*v);
    if (!(d >= 0) || !std::isfinite(d)) {
      schema(path, path + " must be zero or more seconds, not " + R::number_text(*v));
      return 0;
    }
    return d;
  }

  std::vector<std::string> string_list(const Node& obj, const char* key, const std::string& path) {
    std::vector<std::string> out;
    auto v = R::field(obj, key);
    if (!v) return out;
    if (R::type(*v) != Type::kArray) {
      schema(path, path + " must be an array of strings, not " + std::string(tname(*v)));
      return out;
    }
    R::items(*v, [&](std::size_t i, const Node& item) {
      if (is_string(item)) {
        out.emplace_back(R::str(item));
      } else {
        schema(path, path + "[" + std::to_string(i) + "] must be a string, not " +
                         std::string(tname(item)));
      }
    });
    return out;
  }

  void add_prose(const Node& v, std::string path, Owner owner, std::size_t index,
                 bool override_prose) {
    ProseField f;
    f.path = std::move(path);
    f.raw = R::str(v);
    f.site = R::site(v);
    f.owner = owner;
    f.owner_index = index;
    f.override_prose = override_prose;
    m_.prose.push_back(std::move(f));
  }

  std::size_t prose(const Node& obj, const char* key, std::string path, Owner owner,
                    std::size_t index, bool override_prose = false) {
    auto v = R::field(obj, key);
    if (!v) return kNone;
    if (!is_string(*v)) {
      schema(path, path + " must be a string of prose, not " + std::string(tname(*v)));
      return kNone;
    }
    add_prose(*v, std::move(path), owner, index, override_prose);
    return m_.prose.size() - 1;
  }

  // camera / movement: {static, dynamic}.
  void layer_pair(const Node& obj, const char* key, const std::string& base_path, Owner owner,
                  std::size_t index, std::size_t* st, std::size_t* dy, bool override_prose = false) {
    auto v = R::field(obj, key);
    if (!v) return;
    std::string path = base_path + "." + key;
    if (R::type(*v) != Type::kObject) {
      schema(path, path + " must be an object {\"static\": ..., \"dynamic\": ...}, not " +
                       std::string(tname(*v)));
      return;
    }
    std::size_t s = prose(*v, "static", path + ".static", owner, index, override_prose);
    std::size_t d = prose(*v, "dynamic", path + ".dynamic", owner, index, override_prose);
    if (st) *st = s;
    if (dy) *dy = d;
  }

  void ambient(const Node& obj, const std::string& base_path, Owner owner, std::size_t index,
               std::vector<std::size_t>* out) {
    auto v = R::field(obj, "ambient");
    if (!v) return;
    std::string path = base_path + ".ambient";
    if (R::type(*v) != Type::kArray) {
      schema(path, path + " must be an array of prose strings, not " + std::string(tname(*v)));
      return;
    }
    R::items(*v, [&](std::size_t i, const Node& item) {
      std::string p = path + "[" + std::to_string(i) + "]";
      if (!is_string(item)) {
        schema(p, p + " must be a string of prose, not " + std::string(tname(item)));
        return;
      }
      add_prose(item, std::move(p), owner, index, false);
      if (out) out->push_back(m_.prose.size() - 1);
    });
  }

  Ending ending(const Node& obj, const std::string& base_path) {
    Ending e;
    auto v = R::field(obj, "ending");
    if (!v) return e;
    e.present = true;
    std::string path = base_path + ".ending";
    if (R::type(*v) != Type::kObject) {
      schema(path, path + " must be an object {\"kind\": \"win\"|\"lose\", \"title\": ...}, not " +
                       std::string(tname(*v)));
      return e;
    }
    bool ok = true;
    auto kind = R::field(*v, "kind");
    if (!kind) {
      schema(path + ".kind", path + ".kind is required; set it to \"win\" or \"lose\"");
      ok = false;
    } else if (!is_string(*kind) || (R::str(*kind) != "win" && R::str(*kind) != "lose")) {
      schema(path + ".kind", path + ".kind must be \"win\" or \"lose\", not " + show(*kind));
      ok = false;
    }
    if (!required_string(*v, "title", path + ".title")) ok = false;
    optional_string(*v, "subtitle", path + ".subtitle");
    e.valid = ok;
    return e;
  }

  bool check_version(const Node& world) {
    auto v = R::field(world, "schemaVersion");
    if (!v) return true;  // normalise() sets it; a null is read as absent
    if (!is_string(*v)) {
      schema("schemaVersion", std::string("schemaVersion must be a string such as \"1.0\", not ") +
                                  tname(*v));
      return false;
    }
    std::string_view s = R::str(*v);
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

  void entrance(const Node& world) {
    auto e = R::field(world, "entrance");
    if (!e) {
      schema("entrance", "the world has no entrance; add \"entrance\": {\"state\": \"<state id>\"}");
      return;
    }
    if (R::type(*e) != Type::kObject) {
      schema("entrance", std::string("entrance must be an object, not ") + tname(*e));
      return;
    }
    if (auto s = required_string(*e, "state", "entrance.state")) {
      m_.entrance = *s;
      m_.entrance_ok = true;
    }
    if (auto img = R::field(*e, "image")) {
      if (R::type(*img) != Type::kObject) {
        schema("entrance.image", std::string("entrance.image must be an object {\"src\": ...}, not ") +
                                     tname(*img));
      } else {
        required_string(*img, "src", "entrance.image.src");
        optional_string(*img, "label", "entrance.image.label");
      }
    }
  }

  void slots(const Node& scene) {
    auto v = R::field(scene, "slots");
    if (!v) return;
    if (R::type(*v) != Type::kObject) {
      schema("scene.slots", std::string("scene.slots must be an object of name -> prose, not ") +
                                tname(*v));
      return;
    }
    auto members = R::members(*v);
    m_.slots.reserve(members.size());
    for (const auto& [key, value] : members) {
      std::string path = "scene.slots." + std::string(key);
      if (!valid_id(key)) {
        schema(path, "slot name " + quote(key) +
                         " must be 1-64 characters of letters, digits, '_', '.' or '-'");
        continue;
      }
      if (!is_string(value)) {
        schema(path, path + " must be a string of prose, not " + std::string(tname(value)));
        continue;
      }
      Slot s;
      s.name = key;
      s.path = std::move(path);
      s.raw = R::str(value);
      s.defined_ok = true;
      m_.slot_index.emplace(key, m_.slots.size());
      m_.slots.push_back(std::move(s));
    }
  }

  void states(const Node& scene) {
    auto v = R::field(scene, "states");
    if (!v) {
      schema("scene.states", "scene.states is required; add an object of state id -> state");
      return;
    }
    if (R::type(*v) != Type::kObject) {
      schema("scene.states", std::string("scene.states must be an object of state id -> state, not ") +
                                 tname(*v));
      return;
    }
    auto members = R::members(*v);
    m_.states_count = members.size();
    m_.states.reserve(members.size());
    for (const auto& [key, obj] : members) {
      std::size_t index = m_.states.size();
      m_.states.emplace_back();
      State& st = m_.states.back();
      st.id = key;
      st.path = "state[" + st.id + "]";
      st.id_ok = valid_id(st.id);
      if (!st.id_ok) {
        schema(st.path, "state id " + quote(st.id) +
                            " must be 1-64 characters of letters, digits, '_', '.' or '-'");
      }
      if (R::type(obj) != Type::kObject) {
        schema(st.path, st.path + " must be an object, not " + std::string(tname(obj)));
        continue;
      }
      state_body(obj, index);
    }
    m_.state_index.reserve(m_.states.size());
    for (std::size_t i = 0; i < m_.states.size(); ++i) m_.state_index.emplace(m_.states[i].id, i);
  }

  void state_body(const Node& obj, std::size_t index) {
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
    if (auto vars = R::field(obj, "variants")) {
      std::string vpath = path + ".variants";
      if (R::type(*vars) != Type::kArray) {
        schema(vpath, vpath + " must be an array of variant objects, not " +
                          std::string(tname(*vars)));
        return;
      }
      R::items(*vars, [&](std::size_t i, const Node& var) {
        std::string p = vpath + "[" + std::to_string(i) + "]";
        if (R::type(var) != Type::kObject) {
          schema(p, p + " must be an object, not " + std::string(tname(var)));
          return;
        }
        optional_string(var, "label", p + ".label");
        prose(var, "base", p + ".base", Owner::kVariant, index);
        layer_pair(var, "camera", p, Owner::kVariant, index, nullptr, nullptr);
        layer_pair(var, "movement", p, Owner::kVariant, index, nullptr, nullptr);
        ambient(var, p, Owner::kVariant, index, nullptr);
      });
    }
  }

  void events(const Node& scene) {
    auto v = R::field(scene, "events");
    if (!v) {
      schema("scene.events", "scene.events is required; add an array of events (it may be empty)");
      return;
    }
    if (R::type(*v) != Type::kArray) {
      schema("scene.events", std::string("scene.events must be an array of events, not ") +
                                 tname(*v));
      return;
    }
    R::items(*v, [&](std::size_t i, const Node& item) { event(item, i); });
    m_.events_count = m_.events.size();
  }

  void event(const Node& obj, std::size_t i) {
    std::size_t index = m_.events.size();
    m_.events.emplace_back();
    Event& ev = m_.events.back();
    ev.path = "scene.events[" + std::to_string(i) + "]";
    if (R::type(obj) != Type::kObject) {
      schema(ev.path, ev.path + " must be an event object, not " + std::string(tname(obj)));
      return;
    }
    if (auto n = R::field(obj, "name"); n && is_string(*n) && valid_name(R::str(*n))) {
      ev.name = R::str(*n);
      ev.name_ok = true;
      ev.path = "event[" + ev.name + "]";
    } else if (!n) {
      schema(ev.path + ".name", ev.path + " has no name; give it a unique name (events are addressed by name)");
    } else if (!is_string(*n)) {
      schema(ev.path + ".name", ev.path + ".name must be a string, not " + std::string(tname(*n)));
    } else {
      schema(ev.path + ".name", "event name " + quote(R::str(*n)) +
                                    " must be 1-120 printable characters");
    }
    const std::string path = ev.path;
    auto kind = R::field(obj, "kind");
    EventKind k = EventKind::kInvalid;
    std::string_view ks = kind && is_string(*kind) ? R::str(*kind) : std::string_view();
    if (!kind) {
      schema(path + ".kind", path + ".kind is required; use \"transition\", \"override\" or \"terminal\"");
    } else if (is_string(*kind) && ks == "transition") {
      k = EventKind::kTransition;
    } else if (is_string(*kind) && ks == "override") {
      k = EventKind::kOverride;
    } else if (is_string(*kind) && ks == "terminal") {
      k = EventKind::kTerminal;
    } else {
      schema(path + ".kind", path + ".kind must be \"transition\", \"override\" or \"terminal\", not " +
                                 show(*kind));
    }
    ev.kind = k;
    // `from`: a state id or an array of them (normalise() writes the array form).
    if (auto from = R::field(obj, "from"); !from) {
      schema(path + ".from", path + ".from is required; list the state ids it fires from");
    } else if (is_string(*from)) {
      ev.from.emplace_back(R::str(*from));
      ev.from_ok = true;
    } else if (R::type(*from) != Type::kArray) {
      schema(path + ".from", path + ".from must be a state id or an array of state ids, not " +
                                 std::string(tname(*from)));
    } else {
      bool ok = true;
      R::items(*from, [&](std::size_t, const Node& s) {
        if (is_string(s)) {
          ev.from.emplace_back(R::str(s));
        } else {
          ok = false;
          schema(path + ".from", path + ".from must hold state ids (strings), not " +
                                     std::string(tname(s)));
        }
      });
      if (ev.from.empty() && ok) {
        schema(path + ".from", path + ".from is empty; list at least one state id it fires from");
      } else {
        ev.from_ok = ok;
      }
    }
    if (auto to = R::field(obj, "to")) {
      ev.has_to = true;
      if (is_string(*to)) {
        ev.to = R::str(*to);
        ev.to_ok = true;
      } else {
        schema(path + ".to", path + ".to must be a state id (a string), not " + std::string(tname(*to)));
      }
    }
    if (auto hk = optional_string(obj, "hotkey", path + ".hotkey")) ev.hotkey = *hk;
    ev.requires_ = string_list(obj, "requires", path + ".requires");
    ev.grants = string_list(obj, "grants", path + ".grants");
    ev.hidden = optional_bool(obj, "hidden", path + ".hidden");
    optional_bool(obj, "oneShot", path + ".oneShot");
    if (auto timing = R::field(obj, "timing")) {
      if (R::type(*timing) != Type::kObject) {
        schema(path + ".timing", path + ".timing must be an object {\"after\": s, \"duration\": s}, not " +
                                     std::string(tname(*timing)));
      } else {
        ev.after = optional_seconds(*timing, "after", path + ".timing.after");
        optional_seconds(*timing, "duration", path + ".timing.duration");
      }
    }
    if (k == EventKind::kTerminal) ev.ending = ending(obj, path);
    bool ov = k == EventKind::kOverride;
    prose(obj, "base", path + ".base", Owner::kEvent, index, ov);
    prose(obj, "detail", path + ".detail", Owner::kEvent, index, ov);
    layer_pair(obj, "camera", path, Owner::kEvent, index, nullptr, nullptr, ov);
    layer_pair(obj, "movement", path, Owner::kEvent, index, nullptr, nullptr, ov);
  }

  void cutscenes(const Node& scene) {
    auto v = R::field(scene, "cutscenes");
    if (!v) return;
    if (R::type(*v) != Type::kArray) {
      schema("scene.cutscenes", std::string("scene.cutscenes must be an array, not ") + tname(*v));
      return;
    }
    R::items(*v, [&](std::size_t i, const Node& obj) {
      m_.cutscenes.emplace_back();
      Cutscene& cs = m_.cutscenes.back();
      cs.path = "scene.cutscenes[" + std::to_string(i) + "]";
      if (R::type(obj) != Type::kObject) {
        schema(cs.path, cs.path + " must be an object, not " + std::string(tname(obj)));
        return;
      }
      if (auto n = R::field(obj, "name"); n && is_string(*n) && valid_name(R::str(*n))) {
        cs.name = R::str(*n);
        cs.name_ok = true;
        cs.path = "cutscene[" + cs.name + "]";
      } else if (!n) {
        schema(cs.path + ".name", cs.path + " has no name; give it a unique name");
      } else {
        schema(cs.path + ".name", cs.path + ".name must be 1-120 printable characters, not " + show(*n));
      }
      const std::string path = cs.path;
      if (auto s = required_string(obj, "state", path + ".state")) {
        cs.state = *s;
        cs.has_state = true;
      }
      optional_seconds(obj, "duration", path + ".duration");
      prose(obj, "base", path + ".base", Owner::kCutscene, m_.cutscenes.size() - 1);
    });
  }
};

}  // namespace

void build_model(Json& world, Model& model, Context& cx) {
  Builder<JsonReader>(model, cx).run(&world);
}

void build_model(const simdjson::dom::element& world, Model& model, Context& cx) {
  Builder<SimdReader>(model, cx).run(world);
}

}  // namespace conjure::kernel
