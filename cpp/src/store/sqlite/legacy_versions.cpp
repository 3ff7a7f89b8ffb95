// Migration 3: re-snapshots every schema-2 version (legacy_versions, whose
// manifests and delta bases name blobs by hex SHA-256) into the compact
// layout, in seq order, keeping ids, worlds, parents, messages and times.
#include <map>
#include <unordered_map>
#include <vector>

#include "conjure/auth/crypto.hpp"
#include "conjure/versions/manifest.hpp"
#include "conjure/versions/snapshot.hpp"
#include "store/sqlite/blobs.hpp"
#include "store/sqlite/versions.hpp"

namespace conjure::sqlite {

void convert_legacy_versions(Context& ctx, Conn& c) {
  using store::parse_stored;
  std::unordered_map<std::string, std::shared_ptr<const Json>> cache;  // raw hash -> value
  auto hex_of = [](const std::string& raw) {
    return auth::to_hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
  };
  auto legacy_blob = [&](const std::string& raw) {
    if (auto it = cache.find(raw); it != cache.end()) return it->second;
    std::vector<std::string> patches;  // newest first
    std::string cur = raw;
    Json value;
    for (;;) {
      if (auto it = cache.find(cur); it != cache.end()) {
        value = *it->second;
        break;
      }
      Stmt s = c.prepare("SELECT base, data FROM legacy_blobs WHERE hash=?");
      s.bind_blob(1, cur);
      if (!s.step()) throw Error(ErrorCode::kStorage, "upgrading the store: missing content blob " + hex_of(cur));
      if (s.is_null(0)) {
        value = parse_stored(s.blob(1), "content blob");
        break;
      }
      patches.push_back(s.blob(1));
      cur = s.blob(0);
      if (patches.size() > 1000000) throw Error(ErrorCode::kStorage, "a content blob's delta chain is damaged");
    }
    for (auto it = patches.rbegin(); it != patches.rend(); ++it) {
      versions::apply_delta(value, parse_stored(*it, "content delta"));
    }
    if (cache.size() > 100000) cache.clear();
    auto out = std::make_shared<const Json>(std::move(value));
    cache[raw] = out;
    return out;
  };
  auto ref = [&](const Json& hex) { return legacy_blob(auth::from_hex(hex.get<std::string>())); };
  auto entries = [&](const Json& level) {
    std::map<std::string, std::string> out;  // key -> raw hash
    for (auto it = level.begin(); it != level.end(); ++it) {
      auto b = ref(*it);
      for (auto e = b->begin(); e != b->end(); ++e) out.emplace(e.key(), auth::from_hex(e->get<std::string>()));
    }
    return out;
  };
  BlobRepo blobs(ctx, c);
  Stmt s = c.prepare(
      "SELECT lv.id, w.seq, coalesce(lv.parent_id, ''), lv.root, lv.message, lv.created_at "
      "FROM legacy_versions lv JOIN worlds w ON w.id=lv.world_id ORDER BY lv.seq");
  while (s.step()) {
    VersionInfo v;
    v.id = s.text(0);
    std::int64_t world_seq = s.i64(1);
    std::string parent = s.text(2);
    auto old_root = legacy_blob(s.blob(3));
    v.message = s.text(4);
    v.created_at = s.text(5);
    versions::Parts parts;
    parts.rest = *ref(old_root->at("rest"));
    for (auto& [id, h] : entries(old_root->at("s"))) parts.states.emplace(id, *legacy_blob(h));
    auto events = entries(old_root->at("e"));
    for (const Json& name : *ref(old_root->at("order"))) {
      auto it = events.find(name.get<std::string>());
      if (it == events.end()) throw Error(ErrorCode::kStorage, "upgrading the store: a version's event list is damaged");
      parts.events.emplace_back(it->first, *legacy_blob(it->second));
    }
    std::int64_t parent_seq = 0;
    if (!parent.empty()) {
      Stmt p = c.prepare("SELECT seq FROM versions WHERE id=?");
      bind_version_id(p, 1, parent);
      if (!p.step()) throw Error(ErrorCode::kStorage, "upgrading the store: version " + v.id + " has a missing parent");
      parent_seq = p.i64(0);
    }
    Json root = versions::store_parts(blobs, versions::join_world(std::move(parts)),
                                      parent_seq > 0 ? *load_root(ctx, c, parent_seq) : Json());
    insert_version(ctx, c, v, world_seq, parent_seq, root);
  }
}

}  // namespace conjure::sqlite
