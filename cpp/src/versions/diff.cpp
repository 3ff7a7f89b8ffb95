// Structural diff of two worlds (docs/ops.md, "Diff").
#include "conjure/versions/diff.hpp"

#include <algorithm>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace conjure {
namespace {

const Json* member(const Json* obj, const char* key) {
  if (obj == nullptr || !obj->is_object()) return nullptr;
  auto it = obj->find(key);
  return it == obj->end() ? nullptr : &*it;
}

const Json& empty_object() {
  static const Json e = Json::object();
  return e;
}

std::string join(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

void walk(const Json& a, const Json& b, const std::string& path, std::vector<std::string>& out) {
  if (a.is_object() && b.is_object()) {
    auto ia = a.begin();
    auto ib = b.begin();
    // nlohmann objects iterate in key order: one merge walk.
    while (ia != a.end() || ib != b.end()) {
      if (ib == b.end() || (ia != a.end() && ia.key() < ib.key())) {
        out.push_back(join(path, ia.key()));
        ++ia;
      } else if (ia == a.end() || ib.key() < ia.key()) {
        out.push_back(join(path, ib.key()));
        ++ib;
      } else {
        walk(*ia, *ib, join(path, ia.key()), out);
        ++ia;
        ++ib;
      }
    }
    return;
  }
  if (a != b) out.push_back(path.empty() ? "*" : path);
}

// Equal when one side writes `from` as a string and the other as [string].
bool same_from(const Json& a, const Json& b) {
  if (a.is_string() && b.is_array()) return b.size() == 1 && b[0] == a;
  if (b.is_string() && a.is_array()) return a.size() == 1 && a[0] == b;
  return a == b;
}

Json sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return Json(std::move(v));
}

Json sorted_changed(std::vector<std::pair<std::string, Json>> v, const char* key) {
  std::sort(v.begin(), v.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  Json out = Json::array();
  for (auto& [k, fields] : v) out.push_back(Json{{key, std::move(k)}, {"fields", std::move(fields)}});
  return out;
}

Json entrance_state(const Json* e) {
  const Json* s = member(e, "state");
  return s != nullptr ? *s : Json();
}

}  // namespace

Json diff_fields(const Json& a, const Json& b) {
  std::vector<std::string> out;
  if (a.is_object() && b.is_object()) {
    auto fa = a.find("from");
    auto fb = b.find("from");
    if (fa != a.end() && fb != b.end() && *fa != *fb && same_from(*fa, *fb)) {
      Json ca = a, cb = b;  // rare: compare without the equivalent spellings
      ca.erase("from");
      cb.erase("from");
      walk(ca, cb, "", out);
    } else {
      walk(a, b, "", out);
    }
  } else {
    walk(a, b, "", out);
  }
  std::sort(out.begin(), out.end());
  return Json(std::move(out));
}

Json diff_entrance(const Json& a, const Json& b) {
  const Json* ea = member(&a, "entrance");
  const Json* eb = member(&b, "entrance");
  if (ea == nullptr && eb == nullptr) return Json();
  if (ea != nullptr && eb != nullptr && *ea == *eb) return Json();
  Json out = Json::object();
  out["from"] = entrance_state(ea);
  out["to"] = entrance_state(eb);
  out["fields"] = diff_fields(ea != nullptr ? *ea : empty_object(), eb != nullptr ? *eb : empty_object());
  return out;
}

Json diff_slots(const Json& a, const Json& b) {
  const Json* sa = member(member(&a, "scene"), "slots");
  const Json* sb = member(member(&b, "scene"), "slots");
  const Json& xa = sa != nullptr && sa->is_object() ? *sa : empty_object();
  const Json& xb = sb != nullptr && sb->is_object() ? *sb : empty_object();
  std::vector<std::string> added, removed, changed;
  auto ia = xa.begin();
  auto ib = xb.begin();
  while (ia != xa.end() || ib != xb.end()) {
    if (ib == xb.end() || (ia != xa.end() && ia.key() < ib.key())) {
      removed.push_back(ia.key());
      ++ia;
    } else if (ia == xa.end() || ib.key() < ia.key()) {
      added.push_back(ib.key());
      ++ib;
    } else {
      if (*ia != *ib) changed.push_back(ia.key());
      ++ia;
      ++ib;
    }
  }
  return Json{{"added", std::move(added)}, {"removed", std::move(removed)}, {"changed", std::move(changed)}};
}

void DiffBuilder::state_added(std::string id) { states_added_.push_back(std::move(id)); }
void DiffBuilder::state_removed(std::string id) { states_removed_.push_back(std::move(id)); }
void DiffBuilder::state_changed(std::string id, Json fields) {
  if (fields.is_array() && !fields.empty()) states_changed_.emplace_back(std::move(id), std::move(fields));
}
void DiffBuilder::event_added(std::string name) { events_added_.push_back(std::move(name)); }
void DiffBuilder::event_removed(std::string name) { events_removed_.push_back(std::move(name)); }
void DiffBuilder::event_changed(std::string name, Json fields) {
  if (fields.is_array() && !fields.empty()) events_changed_.emplace_back(std::move(name), std::move(fields));
}
void DiffBuilder::set_entrance(Json entrance) { entrance_ = std::move(entrance); }
void DiffBuilder::set_slots(Json slots) { slots_ = std::move(slots); }

Json DiffBuilder::build() && {
  Json out = Json::object();
  out["states"] = Json{{"added", sorted(std::move(states_added_))},
                       {"removed", sorted(std::move(states_removed_))},
                       {"changed", sorted_changed(std::move(states_changed_), "id")}};
  out["events"] = Json{{"added", sorted(std::move(events_added_))},
                       {"removed", sorted(std::move(events_removed_))},
                       {"changed", sorted_changed(std::move(events_changed_), "name")}};
  out["entrance"] = std::move(entrance_);
  out["slots"] = slots_.is_null()
                     ? Json{{"added", Json::array()}, {"removed", Json::array()}, {"changed", Json::array()}}
                     : std::move(slots_);
  return out;
}

Json diff_worlds(const Json& a, const Json& b) {
  DiffBuilder builder;
  const Json* sa = member(member(&a, "scene"), "states");
  const Json* sb = member(member(&b, "scene"), "states");
  const Json& xa = sa != nullptr && sa->is_object() ? *sa : empty_object();
  const Json& xb = sb != nullptr && sb->is_object() ? *sb : empty_object();
  auto ia = xa.begin();
  auto ib = xb.begin();
  while (ia != xa.end() || ib != xb.end()) {
    if (ib == xb.end() || (ia != xa.end() && ia.key() < ib.key())) {
      builder.state_removed(ia.key());
      ++ia;
    } else if (ia == xa.end() || ib.key() < ia.key()) {
      builder.state_added(ib.key());
      ++ib;
    } else {
      if (*ia != *ib) builder.state_changed(ia.key(), diff_fields(*ia, *ib));
      ++ia;
      ++ib;
    }
  }

  // Events by name (first occurrence of a name; unnamed events are not addressable).
  auto named = [](const Json* events) {
    std::unordered_map<std::string, const Json*> m;
    if (events == nullptr || !events->is_array()) return m;
    m.reserve(events->size());
    for (const Json& ev : *events) {
      const Json* n = member(&ev, "name");
      if (n != nullptr && n->is_string()) m.emplace(n->get<std::string>(), &ev);
    }
    return m;
  };
  auto ea = named(member(member(&a, "scene"), "events"));
  auto eb = named(member(member(&b, "scene"), "events"));
  for (const auto& [name, ev] : ea) {
    auto it = eb.find(name);
    if (it == eb.end()) {
      builder.event_removed(name);
    } else if (*ev != *it->second) {
      builder.event_changed(name, diff_fields(*ev, *it->second));
    }
  }
  for (const auto& [name, ev] : eb)
    if (ea.find(name) == ea.end()) builder.event_added(name);

  builder.set_entrance(diff_entrance(a, b));
  builder.set_slots(diff_slots(a, b));
  return std::move(builder).build();
}

}  // namespace conjure
