#include "conjure/versions/snapshot.hpp"

#include <set>

#include "conjure/auth/crypto.hpp"
#include "conjure/ops/ops.hpp"

namespace conjure::versions {

std::string canonical(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string content_hash(const std::string& canonical_text) { return auth::sha256_hex(canonical_text); }

Parts split_world(const Json& world) {
  Parts parts;
  parts.rest = world;
  if (!world.is_object()) return parts;
  auto scene_it = world.find("scene");
  if (scene_it == world.end() || !scene_it->is_object()) return parts;
  const Json& scene = *scene_it;
  auto st = scene.find("states");
  auto ev = scene.find("events");
  bool states_ok = st != scene.end() && st->is_object();
  bool events_ok = ev != scene.end() && ev->is_array();
  if (events_ok) {
    std::set<std::string> seen;
    for (const Json& e : *ev) {
      auto n = e.is_object() ? e.find("name") : e.end();
      if (!e.is_object() || n == e.end() || !n->is_string() || !seen.insert(n->get<std::string>()).second) {
        events_ok = false;
        break;
      }
    }
  }
  if (states_ok) {
    for (auto it = st->begin(); it != st->end(); ++it) parts.states.emplace(it.key(), it.value());
    parts.rest["scene"]["states"] = Json::object();
  }
  if (events_ok) {
    for (const Json& e : *ev) parts.events.emplace_back(e["name"].get<std::string>(), e);
    parts.rest["scene"]["events"] = Json::array();
  }
  return parts;
}

Json join_world(Parts parts) {
  Json world = std::move(parts.rest);
  if (!parts.states.empty()) {
    Json& states = world["scene"]["states"];
    for (auto& [id, s] : parts.states) states[id] = std::move(s);
  }
  if (!parts.events.empty()) {
    Json& events = world["scene"]["events"];
    for (auto& [name, e] : parts.events) events.push_back(std::move(e));
  }
  return world;
}

std::size_t bucket_count(std::size_t keys) noexcept {
  std::size_t n = 1;
  while (n * 16 < keys && n < 4096) n *= 2;
  return n;
}

std::string bucket_of(const std::string& key, std::size_t buckets) {
  if (buckets <= 1) return "0";
  auth::Digest d = auth::sha256(key);
  std::size_t v = (static_cast<std::size_t>(d[0]) << 8 | d[1]) & (buckets - 1);
  char buf[8];
  std::snprintf(buf, sizeof buf, "%zx", v);
  return buf;
}

// True when applying `v` as a merge-patch value would drop something: an object
// member that is null, at any depth of nested objects (arrays are copied whole).
static bool has_null_member(const Json& v) {
  if (!v.is_object()) return false;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (it->is_null() || has_null_member(*it)) return true;
  }
  return false;
}

static bool diff_into(const Json& base, const Json& target, Json& patch) {
  for (auto it = base.begin(); it != base.end(); ++it) {
    if (!target.contains(it.key())) patch[it.key()] = nullptr;
  }
  for (auto it = target.begin(); it != target.end(); ++it) {
    auto b = base.find(it.key());
    if (b != base.end() && *b == *it) continue;
    if (it->is_null()) return false;
    if (b != base.end() && b->is_object() && it->is_object()) {
      Json sub = Json::object();
      if (!diff_into(*b, *it, sub)) return false;
      patch[it.key()] = std::move(sub);
    } else {
      if (it->is_object() && has_null_member(*it)) return false;
      patch[it.key()] = *it;
    }
  }
  return true;
}

bool make_delta(const Json& base, const Json& target, Json* patch) {
  if (!base.is_object() || !target.is_object()) return false;
  Json p = Json::object();
  if (!diff_into(base, target, p)) return false;
  *patch = std::move(p);
  return true;
}

void apply_delta(Json& target, const Json& patch) { merge_patch(target, patch); }

}  // namespace conjure::versions
