// Builds the typed model of a world from its normalised JSON and reports every
// `schema` finding (WORLD.md §1, seed SMWorld/SMState/SMEvent). Unknown
// properties are ignored; an optional field holding null counts as absent.
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>

#include "kernel/model.hpp"

#include "conjure/embedded.hpp"

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

// FNV-1a.
std::uint64_t view_hash(std::string_view s) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  return h;
}

// Equality of two short strings (object keys): a plain loop beats a library call.
bool same_text(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

}  // namespace

void ViewIndex::reserve(std::size_t n) {
  entries_.reserve(n);
  hashes_.reserve(n);
  std::size_t buckets = 16;
  while (buckets < 2 * n) buckets *= 2;
  if (buckets > table_.size()) rehash(buckets);
}

std::size_t ViewIndex::slot(std::string_view key, std::uint64_t hash) const noexcept {
  const std::size_t mask = table_.size() - 1;
  for (std::size_t b = hash & mask;; b = (b + 1) & mask) {
    std::uint32_t e = table_[b];
    if (e == 0 || (hashes_[e - 1] == hash && entries_[e - 1].first == key)) return b;
  }
}

void ViewIndex::rehash(std::size_t buckets) {
  table_.assign(buckets, 0);
  const std::size_t mask = buckets - 1;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    std::size_t b = hashes_[i] & mask;
    while (table_[b] != 0) b = (b + 1) & mask;
    table_[b] = static_cast<std::uint32_t>(i + 1);
  }
}

std::size_t ViewIndex::insert(std::string_view key, std::size_t value) {
  if (2 * (entries_.size() + 1) > table_.size()) rehash(std::max<std::size_t>(16, 2 * table_.size()));
  const std::uint64_t h = view_hash(key);
  const std::size_t b = slot(key, h);
  if (table_[b] != 0) return entries_[table_[b] - 1].second;
  entries_.emplace_back(key, value);
  hashes_.push_back(h);
  table_[b] = static_cast<std::uint32_t>(entries_.size());
  return value;
}

std::size_t ViewIndex::find(std::string_view key) const noexcept {
  if (table_.empty()) return kNone;
  const std::uint32_t e = table_[slot(key, view_hash(key))];
  return e == 0 ? kNone : entries_[e - 1].second;
}

std::string Slot::path() const {
  std::string p = "scene.slots.";
  p += name;
  return p;
}

void State::path_to(std::string& out) const {
  out.assign("state[").append(id).append("]");
}

std::string State::path() const {
  std::string p;
  path_to(p);
  return p;
}

void Event::path_to(std::string& out) const {
  if (name_ok) {
    out.assign("event[").append(name).append("]");
  } else {
    out.assign("scene.events[").append(std::to_string(index)).append("]");
  }
}

std::string Event::path() const {
  std::string p;
  path_to(p);
  return p;
}

std::string Cutscene::path() const {
  if (!name_ok) return "scene.cutscenes[" + std::to_string(index) + "]";
  std::string p = "cutscene[";
  p += name;
  p += ']';
  return p;
}

namespace {

// The path of a prose field after its owner's: ".base", ".camera.static", ...
const char* layer_suffix(Layer layer) {
  switch (layer) {
    case Layer::kBase: return ".base";
    case Layer::kDetail: return ".detail";
    case Layer::kCameraStatic: return ".camera.static";
    case Layer::kCameraDynamic: return ".camera.dynamic";
    case Layer::kMovementStatic: return ".movement.static";
    case Layer::kMovementDynamic: return ".movement.dynamic";
    default: return ".ambient";
  }
}

}  // namespace

std::string Model::path(const ProseField& f) const {
  std::string p;
  switch (f.owner) {
    case Owner::kState: p = states[f.owner_index].path(); break;
    case Owner::kVariant:
      p = states[f.owner_index].path() + ".variants[" + std::to_string(f.variant) + "]";
      break;
    case Owner::kEvent: p = events[f.owner_index].path(); break;
    case Owner::kCutscene: p = cutscenes[f.owner_index].path(); break;
  }
  p += layer_suffix(f.layer);
  if (f.layer == Layer::kAmbient) p += "[" + std::to_string(f.item) + "]";
  return p;
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
  // The members of an object, looked up by key.
  struct Fields {
    Json* obj;
    // The member `key`, or nothing when absent or null.
    std::optional<Node> get(const char* key) const {
      auto it = obj->find(key);
      if (it == obj->end() || it->is_null()) return std::nullopt;
      return &*it;
    }
  };
  static Fields fields(Node obj) { return Fields{obj}; }
  static std::string_view str(Node n) { return n->get_ref<const std::string&>(); }
  static bool boolean(Node n) { return n->get<bool>(); }
  static double number(Node n) { return n->get<double>(); }
  static std::string number_text(Node n) { return n->dump(); }
  static Json* site(Node n) { return n; }
  static std::size_t size(Node arr) { return arr->size(); }
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
  // The members of an object, read once and then looked up by key in a small
  // open-addressing table (the last of a repeated key wins).
  class Fields {
   public:
    explicit Fields(const Node& obj) {
      for (auto member : simdjson::dom::object(obj)) {
        if (n_ < kInline) {
          inline_[n_++] = {member.key, member.value};
        } else {
          more_.emplace_back(member.key, member.value);
        }
      }
      std::size_t n = n_ + more_.size();
      std::size_t size = kInlineTable;
      while (size < 2 * n) size *= 2;
      if (size > kInlineTable) big_table_.assign(size, 0);
      table_ = size > kInlineTable ? big_table_.data() : inline_table_.data();
      mask_ = size - 1;
      for (std::size_t i = 0; i < n; ++i) {
        std::size_t b = find(item(i).first);
        table_[b] = static_cast<std::uint32_t>(i + 1);  // a repeated key takes the later value
      }
    }
    Fields(const Fields&) = delete;
    Fields& operator=(const Fields&) = delete;

    // The member `key`, or nothing when absent or null.
    std::optional<Node> get(std::string_view key) const {
      std::uint32_t e = table_[find(key)];
      if (e == 0) return std::nullopt;
      const Node& v = item(e - 1).second;
      if (v.is_null()) return std::nullopt;
      return v;
    }

   private:
    static constexpr std::size_t kInline = 16, kInlineTable = 32;

    const std::pair<std::string_view, Node>& item(std::size_t i) const {
      return i < kInline ? inline_[i] : more_[i - kInline];
    }
    // The slot holding `key`, or the empty slot where it would go.
    std::size_t find(std::string_view key) const {
      std::size_t h = key.size() * 131;
      if (!key.empty()) h += static_cast<unsigned char>(key.front()) * 31u + static_cast<unsigned char>(key.back());
      for (std::size_t b = h & mask_;; b = (b + 1) & mask_) {
        std::uint32_t e = table_[b];
        if (e == 0 || same_text(item(e - 1).first, key)) return b;
      }
    }

    std::pair<std::string_view, Node> inline_[kInline];
    std::size_t n_ = 0;
    std::vector<std::pair<std::string_view, Node>> more_;
    std::array<std::uint32_t, kInlineTable> inline_table_{};
    std::vector<std::uint32_t> big_table_;
    std::uint32_t* table_ = nullptr;
    std::size_t mask_ = 0;
  };
  static Fields fields(const Node& obj) { return Fields(obj); }
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
  // Items of an array (a hint: the reader saturates its count for huge arrays).
  static std::size_t size(const Node& arr) { return simdjson::dom::array(arr).size(); }
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
  // Printable ASCII throughout (the common case): one code point per byte.
  std::size_t k = 0;
  while (k < s.size() && static_cast<unsigned char>(s[k]) - 0x20u < 0x5Fu) ++k;
  if (k == s.size()) return k <= 120;
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

// A path, formatted only when a finding names it: base + suffix.
struct At {
  std::string_view base;
  std::string_view suffix;

  std::string str() const {
    std::string s;
    s.reserve(base.size() + suffix.size());
    s.append(base);
    s.append(suffix);
    return s;
  }
};

template <class R>
class Builder {
 public:
  using Node = typename R::Node;
  using Fields = typename R::Fields;

  Builder(Model& m, Context& cx) : m_(m), cx_(cx) {}

  void run(Node world) {
    if (R::type(world) != Type::kObject) {
      schema("world", std::string("a world must be a JSON object, not ") + tname(world) +
                          "; send {\"name\": ..., \"entrance\": ..., \"scene\": ...}");
      m_.fatal = true;
      return;
    }
    const Fields w = R::fields(world);
    if (!check_version(w)) {
      m_.fatal = true;
      return;
    }
    optional_string(w, "id", At{"id", ""});
    required_string(w, "name", At{"name", ""});
    optional_string(w, "description", At{"description", ""});
    optional_string(w, "cover", At{"cover", ""});
    if (auto v = w.get("visibility")) {
      if (!is_string(*v) || (R::str(*v) != "private" && R::str(*v) != "public")) {
        schema("visibility", "visibility must be \"private\" or \"public\", not " + show(*v));
      }
    }
    if (auto k = optional_string(w, "kind", At{"kind", ""})) {
      if (*k == "character") {
        m_.character = true;
      } else if (*k != "world") {
        schema("kind", "kind must be \"world\" or \"character\", not " + quote(*k));
      }
    }
    if (m_.character) {
      brain(w);
    } else {
      placements(w);
    }
    entrance(w);
    auto scene = w.get("scene");
    if (!scene) {
      schema("scene", "the world has no scene; add \"scene\": {\"states\": {...}, \"events\": [...]}");
      return;
    }
    if (R::type(*scene) != Type::kObject) {
      schema("scene", std::string("scene must be an object, not ") + tname(*scene));
      return;
    }
    const Fields sc = R::fields(*scene);
    slots(sc);
    states(sc);
    events(sc);
    cutscenes(sc);
  }

 private:
  Model& m_;
  Context& cx_;

  void schema(std::string path, std::string message) {
    cx_.error("schema", std::move(path), std::move(message));
  }
  // A `schema` finding at `at`; the message is the path followed by `rest`.
  void schema_at(const At& at, std::string_view rest) {
    std::string p = at.str();
    std::string message = p;
    message += rest;
    schema(std::move(p), std::move(message));
  }

  static const char* tname(const Node& n) { return type_name(R::type(n)); }
  static bool is_string(const Node& n) { return R::type(n) == Type::kString; }

  static std::string show(const Node& n) {
    if (is_string(n)) return quote(R::str(n));
    return tname(n);
  }

  std::optional<std::string_view> optional_string(const Fields& obj, const char* key, const At& at) {
    auto v = obj.get(key);
    if (!v) return std::nullopt;
    if (!is_string(*v)) {
      schema_at(at, std::string(" must be a string, not ") + tname(*v));
      return std::nullopt;
    }
    return R::str(*v);
  }

  std::optional<std::string_view> required_string(const Fields& obj, const char* key, const At& at) {
    if (!obj.get(key)) {
      schema_at(at, " is required and missing; add it as a string");
      return std::nullopt;
    }
    return optional_string(obj, key, at);
  }

  bool optional_bool(const Fields& obj, const char* key, const At& at) {
    auto v = obj.get(key);
    if (!v) return false;
    if (R::type(*v) != Type::kBoolean) {
      schema_at(at, std::string(" must be true or false, not ") + tname(*v));
      return false;
    }
    return R::boolean(*v);
  }

  double optional_seconds(const Fields& obj, const char* key, const At& at) {
    auto v = obj.get(key);
    if (!v) return 0;
    if (R::type(*v) != Type::kNumber) {
      schema_at(at, std::string(" must be a number of seconds, not ") + tname(*v));
      return 0;
    }
    double d = R::number(*v);
    if (!(d >= 0) || !std::isfinite(d)) {
      schema_at(at, " must be zero or more seconds, not " + R::number_text(*v));
      return 0;
    }
    return d;
  }

  std::vector<std::string_view> string_list(const Fields& obj, const char* key, const At& at) {
    std::vector<std::string_view> out;
    auto v = obj.get(key);
    if (!v) return out;
    if (R::type(*v) != Type::kArray) {
      schema_at(at, std::string(" must be an array of strings, not ") + tname(*v));
      return out;
    }
    R::items(*v, [&](std::size_t i, const Node& item) {
      if (is_string(item)) {
        out.push_back(R::str(item));
      } else {
        schema_at(at, "[" + std::to_string(i) + "] must be a string, not " +
                          std::string(tname(item)));
      }
    });
    return out;
  }

  // Where the prose fields being read belong.
  struct ProseOwner {
    Owner owner;
    std::size_t index;        // state / event / cutscene index
    std::size_t variant = 0;  // when owner is kVariant
    bool override_prose = false;
  };

  void add_prose(const Node& v, const ProseOwner& o, Layer layer, std::size_t item) {
    ProseField& f = m_.prose.emplace_back();
    f.raw = R::str(v);
    f.site = R::site(v);
    f.owner = o.owner;
    f.layer = layer;
    f.override_prose = o.override_prose;
    f.owner_index = o.index;
    f.variant = o.variant;
    f.item = item;
  }

  // The prose field `key` of `obj` (at `base`); its index in Model::prose, or kNone.
  std::size_t prose(const Fields& obj, const char* key, std::string_view base, const ProseOwner& o,
                    Layer layer) {
    auto v = obj.get(key);
    if (!v) return kNone;
    if (!is_string(*v)) {
      schema_at(At{base, layer_suffix(layer)},
                std::string(" must be a string of prose, not ") + tname(*v));
      return kNone;
    }
    add_prose(*v, o, layer, 0);
    return m_.prose.size() - 1;
  }

  // camera / movement: {static, dynamic}.
  void layer_pair(const Fields& obj, bool camera, std::string_view base, const ProseOwner& o,
                  std::size_t* st, std::size_t* dy) {
    const char* key = camera ? "camera" : "movement";
    auto v = obj.get(key);
    if (!v) return;
    if (R::type(*v) != Type::kObject) {
      schema_at(At{base, camera ? ".camera" : ".movement"},
                std::string(" must be an object {\"static\": ..., \"dynamic\": ...}, not ") +
                    tname(*v));
      return;
    }
    const Fields pair = R::fields(*v);
    std::size_t s = prose(pair, "static", base, o, camera ? Layer::kCameraStatic : Layer::kMovementStatic);
    std::size_t d = prose(pair, "dynamic", base, o, camera ? Layer::kCameraDynamic : Layer::kMovementDynamic);
    if (st) *st = s;
    if (dy) *dy = d;
  }

  void ambient(const Fields& obj, std::string_view base, const ProseOwner& o,
               std::vector<std::size_t>* out) {
    auto v = obj.get("ambient");
    if (!v) return;
    if (R::type(*v) != Type::kArray) {
      schema_at(At{base, ".ambient"},
                std::string(" must be an array of prose strings, not ") + tname(*v));
      return;
    }
    R::items(*v, [&](std::size_t i, const Node& item) {
      if (!is_string(item)) {
        std::string p = At{base, ".ambient"}.str() + "[" + std::to_string(i) + "]";
        schema(p, p + " must be a string of prose, not " + std::string(tname(item)));
        return;
      }
      add_prose(item, o, Layer::kAmbient, i);
      if (out) out->push_back(m_.prose.size() - 1);
    });
  }

  Ending ending(const Fields& obj, std::string_view base) {
    Ending e;
    auto v = obj.get("ending");
    if (!v) return e;
    e.present = true;
    const std::string path = At{base, ".ending"}.str();
    if (R::type(*v) != Type::kObject) {
      schema(path, path + " must be an object {\"kind\": \"win\"|\"lose\", \"title\": ...}, not " +
                       std::string(tname(*v)));
      return e;
    }
    bool ok = true;
    const Fields ef = R::fields(*v);
    auto kind = ef.get("kind");
    if (!kind) {
      schema(path + ".kind", path + ".kind is required; set it to \"win\" or \"lose\"");
      ok = false;
    } else if (!is_string(*kind) || (R::str(*kind) != "win" && R::str(*kind) != "lose")) {
      schema(path + ".kind", path + ".kind must be \"win\" or \"lose\", not " + show(*kind));
      ok = false;
    }
    if (!required_string(ef, "title", At{path, ".title"})) ok = false;
    optional_string(ef, "subtitle", At{path, ".subtitle"});
    e.valid = ok;
    return e;
  }

  bool check_version(const Fields& world) {
    auto v = world.get("schemaVersion");
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

  void entrance(const Fields& world) {
    auto e = world.get("entrance");
    if (!e) {
      schema("entrance", "the world has no entrance; add \"entrance\": {\"state\": \"<state id>\"}");
      return;
    }
    if (R::type(*e) != Type::kObject) {
      schema("entrance", std::string("entrance must be an object, not ") + tname(*e));
      return;
    }
    const Fields ef = R::fields(*e);
    if (auto s = required_string(ef, "state", At{"entrance.state", ""})) {
      m_.entrance = *s;
      m_.entrance_ok = true;
    }
    if (auto img = ef.get("image")) {
      if (R::type(*img) != Type::kObject) {
        schema("entrance.image", std::string("entrance.image must be an object {\"src\": ...}, not ") +
                                     tname(*img));
      } else {
        const Fields imf = R::fields(*img);
        required_string(imf, "src", At{"entrance.image.src", ""});
        optional_string(imf, "label", At{"entrance.image.label", ""});
      }
    }
  }

  // A character's brain: {persona, lore, voice: {engine, name, rate, pitch}}.
  void brain(const Fields& world) {
    auto b = world.get("brain");
    if (!b) {
      schema("brain", "a character needs a brain; add \"brain\": {\"persona\": \"...\", \"lore\": [...]}");
      return;
    }
    if (R::type(*b) != Type::kObject) {
      schema("brain", std::string("brain must be an object, not ") + tname(*b));
      return;
    }
    Brain& br = m_.brain;
    br.present = true;
    const Fields bf = R::fields(*b);
    if (auto p = optional_string(bf, "persona", At{"brain.persona", ""})) {
      br.persona = *p;
      br.persona_ok = true;
    }
    br.persona_seen = bf.get("persona").has_value();
    if (auto lore = bf.get("lore")) {
      if (is_string(*lore)) {
        br.lore_is_text = true;
        br.lore.push_back(R::str(*lore));
      } else if (R::type(*lore) == Type::kArray) {
        R::items(*lore, [&](std::size_t i, const Node& item) {
          if (is_string(item)) {
            br.lore.push_back(R::str(item));
          } else {
            schema_at(At{"brain.lore", ""}, "[" + std::to_string(i) + "] must be a string, not " +
                                                std::string(tname(item)));
            br.lore.emplace_back();  // keeps the indices of later entries
          }
        });
      } else {
        schema("brain.lore", std::string("brain.lore must be a list of short facts or one text, not ") +
                                 tname(*lore));
      }
    }
    auto v = bf.get("voice");
    if (!v) return;
    if (R::type(*v) != Type::kObject) {
      schema("brain.voice", std::string("brain.voice must be an object {engine, name, rate, pitch}, not ") +
                                tname(*v));
      return;
    }
    br.has_voice = true;
    const Fields vf = R::fields(*v);
    if (auto e = optional_string(vf, "engine", At{"brain.voice.engine", ""})) br.engine = *e;
    if (auto n = optional_string(vf, "name", At{"brain.voice.name", ""})) br.voice_name = *n;
    voice_number(vf, "rate", &br.has_rate, &br.rate);
    voice_number(vf, "pitch", &br.has_pitch, &br.pitch);
  }

  void voice_number(const Fields& voice, const char* key, bool* has, double* out) {
    auto v = voice.get(key);
    if (!v) return;
    if (R::type(*v) != Type::kNumber) {
      schema(std::string("brain.voice.") + key,
             std::string("brain.voice.") + key + " must be a number, not " + tname(*v));
      return;
    }
    *has = true;
    *out = R::number(*v);
  }

  // A world's top-level `characters`: [{id, states: [state id...]}].
  void placements(const Fields& world) {
    auto v = world.get("characters");
    if (!v) return;
    if (R::type(*v) != Type::kArray) {
      schema("characters", std::string("characters must be an array of {\"id\", \"states\"}, not ") +
                               tname(*v));
      return;
    }
    R::items(*v, [&](std::size_t i, const Node& node) {
      std::string path = "characters[" + std::to_string(i) + "]";
      if (R::type(node) != Type::kObject) {
        schema_at(At{path, ""}, std::string(" must be an object {\"id\", \"states\"}, not ") + tname(node));
        return;
      }
      Placement& p = m_.placements.emplace_back();
      p.index = i;
      const Fields obj = R::fields(node);
      if (auto id = required_string(obj, "id", At{path, ".id"})) {
        p.id = *id;
        p.id_ok = true;
      }
      if (!obj.get("states")) {
        schema_at(At{path, ".states"}, " is required and missing; list the states the character stands in");
      }
      p.states = string_list(obj, "states", At{path, ".states"});
    });
  }

  void slots(const Fields& scene) {
    auto v = scene.get("slots");
    if (!v) return;
    if (R::type(*v) != Type::kObject) {
      schema("scene.slots", std::string("scene.slots must be an object of name -> prose, not ") +
                                tname(*v));
      return;
    }
    auto members = R::members(*v);
    m_.slots.reserve(members.size());
    for (const auto& [key, value] : members) {
      if (!valid_id(key)) {
        schema("scene.slots." + std::string(key),
               "slot name " + quote(key) +
                   " must be 1-64 characters of letters, digits, '_', '.' or '-'");
        continue;
      }
      if (!is_string(value)) {
        schema_at(At{"scene.slots.", key},
                  std::string(" must be a string of prose, not ") + tname(value));
        continue;
      }
      Slot& s = m_.slots.emplace_back();
      s.name = key;
      s.raw = R::str(value);
      s.defined_ok = true;
      m_.slot_index.insert(key, m_.slots.size() - 1);
    }
  }

  void states(const Fields& scene) {
    auto v = scene.get("states");
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
    std::string path;
    for (const auto& [key, obj] : members) {
      std::size_t index = m_.states.size();
      State& st = m_.states.emplace_back();
      st.id = key;
      st.id_ok = valid_id(st.id);
      st.path_to(path);
      if (!st.id_ok) {
        schema(path, "state id " + quote(st.id) +
                         " must be 1-64 characters of letters, digits, '_', '.' or '-'");
      }
      if (R::type(obj) != Type::kObject) {
        schema_at(At{path, ""}, std::string(" must be an object, not ") + tname(obj));
        continue;
      }
      state_body(obj, index, path);
    }
    m_.state_index.reserve(m_.states.size());
    for (std::size_t i = 0; i < m_.states.size(); ++i) m_.state_index.insert(m_.states[i].id, i);
  }

  void state_body(const Node& node, std::size_t index, const std::string& path) {
    const Fields obj = R::fields(node);
    const ProseOwner own{Owner::kState, index};
    std::size_t base = prose(obj, "base", path, own, Layer::kBase);
    std::size_t cs = kNone, cd = kNone, ms = kNone, md = kNone;
    layer_pair(obj, true, path, own, &cs, &cd);
    layer_pair(obj, false, path, own, &ms, &md);
    std::vector<std::size_t> amb;
    ambient(obj, path, own, &amb);
    Ending e = ending(obj, path);
    State& st = m_.states[index];
    st.base = base;
    st.cam_static = cs;
    st.cam_dynamic = cd;
    st.mov_static = ms;
    st.mov_dynamic = md;
    st.ambient = std::move(amb);
    st.ending = e;
    if (auto vars = obj.get("variants")) {
      if (R::type(*vars) != Type::kArray) {
        schema_at(At{path, ".variants"}, std::string(" must be an array of variant objects, not ") +
                                             tname(*vars));
        return;
      }
      R::items(*vars, [&](std::size_t i, const Node& var) {
        std::string p = path + ".variants[" + std::to_string(i) + "]";
        if (R::type(var) != Type::kObject) {
          schema_at(At{p, ""}, std::string(" must be an object, not ") + tname(var));
          return;
        }
        const ProseOwner vown{Owner::kVariant, index, i};
        const Fields vf = R::fields(var);
        optional_string(vf, "label", At{p, ".label"});
        prose(vf, "base", p, vown, Layer::kBase);
        layer_pair(vf, true, p, vown, nullptr, nullptr);
        layer_pair(vf, false, p, vown, nullptr, nullptr);
        ambient(vf, p, vown, nullptr);
      });
    }
  }

  void events(const Fields& scene) {
    auto v = scene.get("events");
    if (!v) {
      schema("scene.events", "scene.events is required; add an array of events (it may be empty)");
      return;
    }
    if (R::type(*v) != Type::kArray) {
      schema("scene.events", std::string("scene.events must be an array of events, not ") +
                                 tname(*v));
      return;
    }
    m_.events.reserve(std::min(R::size(*v), cx_.limits.max_events));
    std::string path;
    R::items(*v, [&](std::size_t i, const Node& item) { event(item, i, path); });
    m_.events_count = m_.events.size();
  }

  // `path` is scratch space for the event's path.
  void event(const Node& node, std::size_t i, std::string& path) {
    std::size_t index = m_.events.size();
    Event& ev = m_.events.emplace_back();
    ev.index = i;
    ev.path_to(path);
    if (R::type(node) != Type::kObject) {
      schema_at(At{path, ""}, std::string(" must be an event object, not ") + tname(node));
      return;
    }
    const Fields obj = R::fields(node);
    if (auto n = obj.get("name"); n && is_string(*n) && valid_name(R::str(*n))) {
      ev.name = R::str(*n);
      ev.name_ok = true;
      ev.path_to(path);
    } else if (!n) {
      schema(path + ".name", path + " has no name; give it a unique name (events are addressed by name)");
    } else if (!is_string(*n)) {
      schema(path + ".name", path + ".name must be a string, not " + std::string(tname(*n)));
    } else {
      schema(path + ".name", "event name " + quote(R::str(*n)) +
                                 " must be 1-120 printable characters");
    }
    auto kind = obj.get("kind");
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
    if (auto from = obj.get("from"); !from) {
      schema(path + ".from", path + ".from is required; list the state ids it fires from");
    } else if (is_string(*from)) {
      ev.from.push_back(R::str(*from));
      ev.from_ok = true;
    } else if (R::type(*from) != Type::kArray) {
      schema(path + ".from", path + ".from must be a state id or an array of state ids, not " +
                                 std::string(tname(*from)));
    } else {
      bool ok = true;
      R::items(*from, [&](std::size_t, const Node& s) {
        if (is_string(s)) {
          ev.from.push_back(R::str(s));
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
    if (auto to = obj.get("to")) {
      ev.has_to = true;
      if (is_string(*to)) {
        ev.to = R::str(*to);
        ev.to_ok = true;
      } else {
        schema(path + ".to", path + ".to must be a state id (a string), not " + std::string(tname(*to)));
      }
    }
    if (auto hk = optional_string(obj, "hotkey", At{path, ".hotkey"})) ev.hotkey = *hk;
    ev.requires_ = string_list(obj, "requires", At{path, ".requires"});
    ev.grants = string_list(obj, "grants", At{path, ".grants"});
    ev.hidden = optional_bool(obj, "hidden", At{path, ".hidden"});
    optional_bool(obj, "oneShot", At{path, ".oneShot"});
    if (auto timing = obj.get("timing")) {
      if (R::type(*timing) != Type::kObject) {
        schema_at(At{path, ".timing"},
                  std::string(" must be an object {\"after\": s, \"duration\": s}, not ") +
                      tname(*timing));
      } else {
        const Fields tf = R::fields(*timing);
        ev.after = optional_seconds(tf, "after", At{path, ".timing.after"});
        optional_seconds(tf, "duration", At{path, ".timing.duration"});
      }
    }
    if (k == EventKind::kTerminal) ev.ending = ending(obj, path);
    const ProseOwner own{Owner::kEvent, index, 0, k == EventKind::kOverride};
    prose(obj, "base", path, own, Layer::kBase);
    prose(obj, "detail", path, own, Layer::kDetail);
    layer_pair(obj, true, path, own, nullptr, nullptr);
    layer_pair(obj, false, path, own, nullptr, nullptr);
  }

  void cutscenes(const Fields& scene) {
    auto v = scene.get("cutscenes");
    if (!v) return;
    if (R::type(*v) != Type::kArray) {
      schema("scene.cutscenes", std::string("scene.cutscenes must be an array, not ") + tname(*v));
      return;
    }
    R::items(*v, [&](std::size_t i, const Node& node) {
      Cutscene& cs = m_.cutscenes.emplace_back();
      cs.index = i;
      std::string path = cs.path();
      if (R::type(node) != Type::kObject) {
        schema_at(At{path, ""}, std::string(" must be an object, not ") + tname(node));
        return;
      }
      const Fields obj = R::fields(node);
      if (auto n = obj.get("name"); n && is_string(*n) && valid_name(R::str(*n))) {
        cs.name = R::str(*n);
        cs.name_ok = true;
        path = cs.path();
      } else if (!n) {
        schema(path + ".name", path + " has no name; give it a unique name");
      } else {
        schema(path + ".name", path + ".name must be 1-120 printable characters, not " + show(*n));
      }
      if (auto s = required_string(obj, "state", At{path, ".state"})) {
        cs.state = *s;
        cs.has_state = true;
      }
      optional_seconds(obj, "duration", At{path, ".duration"});
      prose(obj, "base", path, ProseOwner{Owner::kCutscene, m_.cutscenes.size() - 1}, Layer::kBase);
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
