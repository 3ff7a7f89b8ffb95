#include "conjure/play/play_world.hpp"

#include <algorithm>
#include <cmath>

#include "conjure/errors.hpp"

namespace conjure::play {
namespace {

constexpr std::int64_t kDefaultOverrideUs = 3'000'000;
constexpr double kMaxTimingSeconds = 86400.0 * 365.0;

[[noreturn]] void bad(const std::string& path, const std::string& what) {
  throw Error(ErrorCode::kBadInput, path + ": " + what);
}

std::string get_string(const Json& obj, const char* key, const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_string()) bad(path + "." + key, "must be a string");
  return it->get<std::string>();
}

bool get_bool(const Json& obj, const char* key, const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return false;
  if (!it->is_boolean()) bad(path + "." + key, "must be a boolean");
  return it->get<bool>();
}

// Seconds → microseconds; absent, negative or non-finite → 0.
std::int64_t get_seconds_us(const Json& obj, const char* key, const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return 0;
  if (!it->is_number()) bad(path + "." + key, "must be a number of seconds");
  double s = it->get<double>();
  if (!std::isfinite(s) || s <= 0) return 0;
  s = std::min(s, kMaxTimingSeconds);
  return static_cast<std::int64_t>(std::llround(s * 1e6));
}

std::vector<std::string> get_strings(const Json& obj, const char* key, const std::string& path) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return out;
  if (it->is_string()) {
    out.push_back(it->get<std::string>());
    return out;
  }
  if (!it->is_array()) bad(path + "." + key, "must be an array of strings");
  out.reserve(it->size());
  for (const Json& v : *it) {
    if (!v.is_string()) bad(path + "." + key, "must be an array of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

LayerPair get_layer(const Json& obj, const char* key, const std::string& path, const LayerPair& fallback) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  if (!it->is_object()) bad(path + "." + key, "must be an object with static and dynamic");
  LayerPair out;
  out.still = get_string(*it, "static", path + "." + key);
  out.moving = get_string(*it, "dynamic", path + "." + key);
  return out;
}

Ending get_ending(const Json& v, const std::string& path) {
  if (!v.is_object()) bad(path, "must be an object {kind, title, subtitle?}");
  Ending e;
  e.kind = get_string(v, "kind", path);
  if (e.kind != "win" && e.kind != "lose") bad(path + ".kind", "must be \"win\" or \"lose\"");
  e.title = get_string(v, "title", path);
  e.subtitle = get_string(v, "subtitle", path);
  return e;
}

std::string upper_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

std::uint64_t fmix64(std::uint64_t h) noexcept {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

}  // namespace

const char* event_kind_name(EventKind kind) noexcept {
  switch (kind) {
    case EventKind::kTransition: return "transition";
    case EventKind::kOverride: return "override";
    case EventKind::kTerminal: return "terminal";
  }
  return "transition";
}

std::uint64_t variant_hash(std::string_view player_id, std::string_view state_id) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis
  auto mix = [&h](unsigned char c) {
    h ^= c;
    h *= 0x100000001b3ULL;  // FNV-1a 64 prime
  };
  for (char c : player_id) mix(static_cast<unsigned char>(c));
  mix(0);
  for (char c : state_id) mix(static_cast<unsigned char>(c));
  return fmix64(h);
}

std::size_t variant_arm(std::string_view player_id, std::string_view state_id,
                        std::size_t arm_count) noexcept {
  if (arm_count <= 1) return 0;
  return static_cast<std::size_t>(variant_hash(player_id, state_id) % arm_count);
}

std::shared_ptr<const PlayWorld> PlayWorld::build(const Json& w) {
  if (!w.is_object()) bad("world", "must be an object");
  std::shared_ptr<PlayWorld> pw(new PlayWorld());
  pw->name_ = get_string(w, "name", "world");

  auto scene_it = w.find("scene");
  if (scene_it == w.end() || !scene_it->is_object()) bad("scene", "must be an object");
  const Json& scene = *scene_it;

  // States (nlohmann keeps object keys sorted: state indices follow id order).
  auto states_it = scene.find("states");
  if (states_it == scene.end() || !states_it->is_object() || states_it->empty())
    bad("scene.states", "must be an object with at least one state");
  pw->states_.reserve(states_it->size());
  for (auto it = states_it->begin(); it != states_it->end(); ++it) {
    const std::string path = "state[" + it.key() + "]";
    if (!it->is_object()) bad(path, "must be an object");
    const Json& s = *it;
    PlayState st;
    st.id = it.key();
    Arm base;
    base.base = get_string(s, "base", path);
    base.camera = get_layer(s, "camera", path, {});
    base.movement = get_layer(s, "movement", path, {});
    base.ambient = get_strings(s, "ambient", path);
    st.arms.push_back(base);
    if (auto v = s.find("variants"); v != s.end() && !v->is_null()) {
      if (!v->is_array()) bad(path + ".variants", "must be an array");
      for (std::size_t i = 0; i < v->size(); ++i) {
        const Json& vj = (*v)[i];
        const std::string vpath = path + ".variants[" + std::to_string(i) + "]";
        if (!vj.is_object()) bad(vpath, "must be an object");
        Arm arm = base;
        arm.label = get_string(vj, "label", vpath);
        if (vj.contains("base") && !vj["base"].is_null()) arm.base = get_string(vj, "base", vpath);
        arm.camera = get_layer(vj, "camera", vpath, base.camera);
        arm.movement = get_layer(vj, "movement", vpath, base.movement);
        if (vj.contains("ambient") && !vj["ambient"].is_null()) arm.ambient = get_strings(vj, "ambient", vpath);
        st.arms.push_back(std::move(arm));
      }
    }
    if (auto e = s.find("ending"); e != s.end() && !e->is_null()) st.ending = get_ending(*e, path + ".ending");
    pw->state_ids_.emplace(st.id, static_cast<std::uint32_t>(pw->states_.size()));
    pw->states_.push_back(std::move(st));
  }

  pw->hotkeys_.resize(pw->states_.size());

  // Entrance.
  auto ent = w.find("entrance");
  if (ent == w.end() || !ent->is_object()) bad("entrance", "must be an object with a state");
  const std::string entrance = get_string(*ent, "state", "entrance");
  pw->entrance_ = pw->state_index(entrance);
  if (pw->entrance_ == kNone) bad("entrance.state", "names no state: \"" + entrance + "\"");

  // Flags, interned in first-seen order.
  std::unordered_map<std::string, std::uint32_t> flag_ids;
  auto intern = [&](const std::string& f) {
    auto [it, inserted] = flag_ids.emplace(f, static_cast<std::uint32_t>(pw->flags_.size()));
    if (inserted) pw->flags_.push_back(f);
    return it->second;
  };

  // Events.
  auto events_it = scene.find("events");
  if (events_it != scene.end() && !events_it->is_null()) {
    if (!events_it->is_array()) bad("scene.events", "must be an array");
    pw->events_.reserve(events_it->size());
    for (std::size_t i = 0; i < events_it->size(); ++i) {
      const Json& e = (*events_it)[i];
      std::string path = "event[" + std::to_string(i) + "]";
      if (!e.is_object()) bad(path, "must be an object");
      PlayEvent ev;
      ev.name = get_string(e, "name", path);
      if (ev.name.empty()) bad(path + ".name", "must be a non-empty string");
      path = "event[" + ev.name + "]";
      if (pw->event_names_.count(ev.name)) bad(path, "two events share this name");
      const std::string kind = get_string(e, "kind", path);
      if (kind.empty() || kind == "transition") ev.kind = EventKind::kTransition;
      else if (kind == "override") ev.kind = EventKind::kOverride;
      else if (kind == "terminal") ev.kind = EventKind::kTerminal;
      else bad(path + ".kind", "must be transition, override or terminal");
      for (const std::string& f : get_strings(e, "from", path)) {
        std::uint32_t si = pw->state_index(f);
        if (si == kNone) bad(path + ".from", "names no state: \"" + f + "\"");
        if (std::find(ev.from.begin(), ev.from.end(), si) == ev.from.end()) ev.from.push_back(si);
      }
      if (ev.kind == EventKind::kTransition) {
        const std::string to = get_string(e, "to", path);
        ev.to = pw->state_index(to);
        if (ev.to == kNone) bad(path + ".to", to.empty() ? "a transition needs `to`" : "names no state: \"" + to + "\"");
      }
      ev.hotkey = get_string(e, "hotkey", path);
      ev.hotkey_key = upper_ascii(ev.hotkey);
      ev.base = get_string(e, "base", path);
      ev.detail = get_string(e, "detail", path);
      for (const std::string& f : get_strings(e, "requires", path)) ev.requires_.push_back(intern(f));
      for (const std::string& f : get_strings(e, "grants", path)) ev.grants.push_back(intern(f));
      ev.hidden = get_bool(e, "hidden", path);
      ev.one_shot = get_bool(e, "oneShot", path);
      if (auto t = e.find("timing"); t != e.end() && !t->is_null()) {
        if (!t->is_object()) bad(path + ".timing", "must be an object {after, duration}");
        ev.after_us = get_seconds_us(*t, "after", path + ".timing");
        ev.duration_us = get_seconds_us(*t, "duration", path + ".timing");
      }
      if (ev.kind == EventKind::kOverride && ev.duration_us == 0) ev.duration_us = kDefaultOverrideUs;
      if (ev.kind != EventKind::kOverride) ev.duration_us = 0;
      if (ev.kind == EventKind::kTerminal) {
        auto en = e.find("ending");
        if (en == e.end() || en->is_null()) bad(path + ".ending", "a terminal needs an ending");
        ev.ending = get_ending(*en, path + ".ending");
      }
      const auto idx = static_cast<std::uint32_t>(pw->events_.size());
      pw->event_names_.emplace(ev.name, idx);
      for (std::uint32_t si : ev.from) {
        pw->states_[si].events.push_back(idx);
        if (ev.after_us > 0) pw->states_[si].timers.push_back(idx);
        if (!ev.hotkey_key.empty()) pw->hotkeys_[si][ev.hotkey_key].push_back(idx);
      }
      pw->events_.push_back(std::move(ev));
    }
  }
  for (PlayState& st : pw->states_) {
    std::stable_sort(st.timers.begin(), st.timers.end(), [&](std::uint32_t a, std::uint32_t b) {
      return pw->events_[a].after_us < pw->events_[b].after_us;
    });
  }
  return pw;
}

std::uint32_t PlayWorld::state_index(std::string_view id) const noexcept {
  auto it = state_ids_.find(id);
  return it == state_ids_.end() ? kNone : it->second;
}

std::uint32_t PlayWorld::event_index(std::string_view name) const noexcept {
  auto it = event_names_.find(name);
  return it == event_names_.end() ? kNone : it->second;
}

const std::vector<std::uint32_t>* PlayWorld::events_by_hotkey(std::uint32_t state,
                                                              std::string_view key_upper) const noexcept {
  if (state >= hotkeys_.size()) return nullptr;
  auto it = hotkeys_[state].find(key_upper);
  return it == hotkeys_[state].end() ? nullptr : &it->second;
}

}  // namespace conjure::play
