#include "store/sqlite/maintenance.hpp"

#include <cstdio>
#include <set>
#include <vector>

#include "conjure/versions/manifest.hpp"
#include "store/sqlite/blobs.hpp"
#include "store/sqlite/versions.hpp"

namespace conjure::sqlite {

CheckReport SqliteMaintenance::check() {
  CheckReport r;
  ctx_.read_tx([&](Conn& c) {
    {
      Stmt s = c.prepare("PRAGMA integrity_check");
      while (s.step()) r.integrity.push_back(s.text(0));
    }
    {
      Stmt s = c.prepare("PRAGMA foreign_key_check");
      while (s.step()) r.foreign_keys.push_back(s.text(0) + " row " + std::to_string(s.i64(1)) + " -> " + s.text(2));
    }
    auto count = [&](const char* sql) {
      Stmt s = c.prepare(sql);
      return s.step() ? s.i64(0) : 0;
    };
    r.blobs = count("SELECT count(*) FROM blobs");
    r.versions = count("SELECT count(*) FROM versions");
    r.worlds = count("SELECT count(*) FROM worlds");
    // Walk every manifest: each referenced part must exist.
    std::set<std::int64_t> referenced;
    std::vector<std::int64_t> todo;
    {
      Stmt s = c.prepare("SELECT seq FROM versions");
      while (s.step()) todo.push_back(s.i64(0));
    }
    auto exists = [&](std::int64_t id) {
      Stmt s = c.prepare("SELECT 1 FROM blobs WHERE id=?");
      s.bind(1, id);
      return s.step();
    };
    auto visit = [&](std::int64_t id) -> bool {
      if (!referenced.insert(id).second) return false;
      if (!exists(id)) {
        ++r.missing_blobs;
        return false;
      }
      return true;
    };
    BlobRepo blobs(ctx_, c);
    for (std::int64_t seq : todo) {
      std::shared_ptr<const Json> m;
      try {
        m = load_root(ctx_, c, seq);
      } catch (const Error&) {
        ++r.missing_blobs;
        continue;
      }
      std::vector<std::int64_t> parts, buckets;
      versions::manifest_refs(*m, &parts, &buckets);
      for (std::int64_t id : parts) visit(id);
      for (std::int64_t bid : buckets) {
        if (!visit(bid)) continue;
        try {
          auto b = blobs.get(bid);
          for (auto e = b->begin(); e != b->end(); ++e) visit(e->get<std::int64_t>());
        } catch (const Error&) {
          ++r.missing_blobs;
        }
      }
    }
    // Delta bases are references too; a blob nobody references is an orphan.
    std::set<std::int64_t> bases;
    {
      Stmt s = c.prepare("SELECT DISTINCT base FROM blobs WHERE base IS NOT NULL");
      while (s.step()) bases.insert(s.i64(0));
    }
    for (std::int64_t b : bases) {
      if (!exists(b)) ++r.missing_blobs;
    }
    Stmt s = c.prepare("SELECT id FROM blobs");
    while (s.step()) {
      std::int64_t id = s.i64(0);
      if (!referenced.count(id) && !bases.count(id)) ++r.orphan_blobs;
    }
  });
  r.ok = r.integrity.size() == 1 && r.integrity[0] == "ok" && r.foreign_keys.empty() && r.missing_blobs == 0;
  return r;
}

void SqliteMaintenance::backup(const std::string& path) {
  if (path.empty()) throw Error(ErrorCode::kBadInput, "backup path is empty");
  auto lease = ctx_.pool().take();
  sqlite3* dest = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = dest ? sqlite3_errmsg(dest) : sqlite3_errstr(rc);
    sqlite3_close_v2(dest);
    throw Error(ErrorCode::kStorage, "cannot open the backup file " + path + ": " + msg);
  }
  sqlite3_backup* b = sqlite3_backup_init(dest, "main", lease->db(), "main");
  if (!b) {
    std::string msg = sqlite3_errmsg(dest);
    sqlite3_close_v2(dest);
    throw Error(ErrorCode::kStorage, "cannot back up to " + path + ": " + msg);
  }
  for (;;) {
    rc = sqlite3_backup_step(b, 256);
    if (rc == SQLITE_DONE) break;
    if (rc == SQLITE_OK) continue;
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {  // maintenance, not the request path
      sqlite3_sleep(5);
      continue;
    }
    break;
  }
  sqlite3_backup_finish(b);
  int err = sqlite3_errcode(dest);
  sqlite3_close_v2(dest);
  if (rc != SQLITE_DONE) {
    std::remove(path.c_str());
    throw Error(ErrorCode::kStorage, "backup to " + path + " failed: " + sqlite3_errstr(rc != SQLITE_OK ? rc : err));
  }
}

}  // namespace conjure::sqlite
