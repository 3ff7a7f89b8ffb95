#include "conjure/versions/manifest.hpp"

#include "conjure/errors.hpp"
#include "conjure/versions/diff.hpp"
#include "conjure/versions/snapshot.hpp"

namespace conjure::versions {

namespace {

// The blob id of `key` in a manifest level (0: absent).
std::int64_t part_in(PartStore& parts, const Json& root, const char* level, const char* count, const std::string& key) {
  if (!root.is_object() || !root.contains(level)) return 0;
  std::size_t nb = root.value(count, static_cast<std::size_t>(1));
  std::string bucket = bucket_of(key, nb);
  auto it = root[level].find(bucket);
  if (it == root[level].end()) return 0;
  auto b = parts.get(it->get<std::int64_t>());
  auto e = b->find(key);
  return e == b->end() ? 0 : e->get<std::int64_t>();
}

// Keys whose part differs between two manifests' levels: walks bucket ids
// first, so equal buckets cost one comparison.
void changed_keys(PartStore& parts, const Json& ra, const Json& rb, const char* level, const char* count,
                  std::set<std::string>* in_a, std::set<std::string>* in_b) {
  using Entries = std::map<std::string, std::int64_t>;
  auto compare = [&](const Entries& ea, const Entries& eb) {
    for (auto& [k, h] : ea) {
      auto it = eb.find(k);
      if (it == eb.end() || it->second != h) in_a->insert(k);
    }
    for (auto& [k, h] : eb) {
      auto it = ea.find(k);
      if (it == ea.end() || it->second != h) in_b->insert(k);
    }
  };
  if (ra.value(count, 0) == rb.value(count, 0)) {
    const Json& la = ra.at(level);
    const Json& lb = rb.at(level);
    // Both levels are sorted maps: walk them side by side.
    auto ia = la.begin(), ib = lb.begin();
    while (ia != la.end() || ib != lb.end()) {
      if (ia != la.end() && ib != lb.end() && ia.key() == ib.key() && *ia == *ib) {
        ++ia;
        ++ib;
        continue;  // equal bucket ids: nothing below them changed
      }
      Json one_a = Json::object(), one_b = Json::object();
      if (ib == lb.end() || (ia != la.end() && ia.key() < ib.key())) {
        one_a[ia.key()] = *ia;
        ++ia;
      } else if (ia == la.end() || ib.key() < ia.key()) {
        one_b[ib.key()] = *ib;
        ++ib;
      } else {
        one_a[ia.key()] = *ia;
        one_b[ib.key()] = *ib;
        ++ia;
        ++ib;
      }
      compare(bucket_entries(parts, one_a), bucket_entries(parts, one_b));
    }
  } else {
    compare(bucket_entries(parts, ra.at(level)), bucket_entries(parts, rb.at(level)));
  }
}

// A world holding only the given states and events of a manifest (plus its rest).
Json partial_world(PartStore& parts, const Json& root, const std::set<std::string>& states,
                   const std::set<std::string>& events) {
  Parts p;
  p.rest = *parts.get(root.at("rest").get<std::int64_t>());
  for (const std::string& id : states) {
    std::int64_t h = part_in(parts, root, "s", "sb", id);
    if (h > 0) p.states.emplace(id, *parts.get(h));
  }
  for (const std::string& name : events) {
    std::int64_t h = part_in(parts, root, "e", "eb", name);
    if (h > 0) p.events.emplace_back(name, *parts.get(h));
  }
  Json w = join_world(std::move(p));
  // Keep the containers even when empty so both sides have the same shape.
  if (w.is_object() && w.contains("scene") && w["scene"].is_object()) {
    if (!w["scene"].contains("states")) w["scene"]["states"] = Json::object();
    if (!w["scene"].contains("events")) w["scene"]["events"] = Json::array();
  }
  return w;
}

}  // namespace

std::map<std::string, std::int64_t> bucket_entries(PartStore& parts, const Json& buckets) {
  std::map<std::string, std::int64_t> out;
  if (!buckets.is_object()) return out;
  for (auto it = buckets.begin(); it != buckets.end(); ++it) {
    auto b = parts.get(it->get<std::int64_t>());
    for (auto e = b->begin(); e != b->end(); ++e) out.emplace(e.key(), e->get<std::int64_t>());
  }
  return out;
}

Json store_parts(PartStore& parts, const Json& doc, const Json& base) {
  Parts cut = split_world(doc);
  auto level = [&](const char* name, const char* count, const std::vector<std::pair<std::string, const Json*>>& items,
                   Json& root) {
    std::size_t nb = bucket_count(items.size());
    bool same_layout = base.is_object() && base.value(count, static_cast<std::size_t>(0)) == nb && base.contains(name);
    std::map<std::string, std::int64_t> prev_parts;
    if (same_layout) prev_parts = bucket_entries(parts, base.at(name));
    std::map<std::string, Json> buckets;
    for (const auto& [key, value] : items) {
      auto prev = prev_parts.find(key);
      buckets[bucket_of(key, nb)][key] = parts.put(*value, prev == prev_parts.end() ? 0 : prev->second);
    }
    Json level_json = Json::object();
    for (auto& [b, entries] : buckets) {
      std::int64_t prev = 0;
      if (same_layout) {
        auto it = base.at(name).find(b);
        if (it != base.at(name).end()) prev = it->get<std::int64_t>();
      }
      level_json[b] = parts.put(entries, prev);
    }
    root[count] = nb;
    root[name] = std::move(level_json);
  };
  Json root = {{"v", 2}};
  std::vector<std::pair<std::string, const Json*>> states, events;
  for (const auto& [id, s] : cut.states) states.emplace_back(id, &s);
  Json order = Json::array();
  for (const auto& [name, e] : cut.events) {
    events.emplace_back(name, &e);
    order.push_back(name);
  }
  level("s", "sb", states, root);
  level("e", "eb", events, root);
  auto base_of = [&](const char* k) { return base.is_object() ? base.value(k, static_cast<std::int64_t>(0)) : 0; };
  root["order"] = parts.put(order, base_of("order"));
  root["rest"] = parts.put(cut.rest, base_of("rest"));
  return root;
}

Json materialise(PartStore& parts, const Json& root) {
  Parts p;
  p.rest = *parts.get(root.at("rest").get<std::int64_t>());
  for (auto& [id, b] : bucket_entries(parts, root.at("s"))) p.states.emplace(id, *parts.get(b));
  auto events = bucket_entries(parts, root.at("e"));
  for (const Json& name : *parts.get(root.at("order").get<std::int64_t>())) {
    auto it = events.find(name.get<std::string>());
    if (it == events.end()) throw Error(ErrorCode::kStorage, "a version's event list is damaged");
    p.events.emplace_back(it->first, *parts.get(it->second));
  }
  return join_world(std::move(p));
}

Json diff_manifests(PartStore& parts, const Json& a, const Json& b) {
  std::set<std::string> sa, sb, ea, eb;
  if (&a != &b) {
    changed_keys(parts, a, b, "s", "sb", &sa, &sb);
    changed_keys(parts, a, b, "e", "eb", &ea, &eb);
  }
  return diff_worlds(partial_world(parts, a, sa, ea), partial_world(parts, b, sb, eb));
}

void manifest_refs(const Json& root, std::vector<std::int64_t>* parts, std::vector<std::int64_t>* buckets) {
  for (const char* k : {"rest", "order"}) {
    if (root.contains(k)) parts->push_back(root.at(k).get<std::int64_t>());
  }
  for (const char* level : {"s", "e"}) {
    if (!root.contains(level)) continue;
    for (auto it = root.at(level).begin(); it != root.at(level).end(); ++it) buckets->push_back(it->get<std::int64_t>());
  }
}

}  // namespace conjure::versions
