// Store benchmark (bench/README.md "Store"). One run measures:
//  (a) bytes on disk of 1,000 snapshots of a 1,000-state world, each after a
//      one-state change, as a multiple of one full copy of the world;
//  (b) diff of two 10,000-state versions that differ in one state, against a
//      full structural compare (diff_worlds) of the two documents in memory;
//  (c) single-op commits per second on one world, against the floor of
//      inserting the same JSON into SQLite with the same durability settings.
// Writes a JSON report to the path given as argv[1] (default: stdout only).
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "conjure/store/store.hpp"
#include "conjure/versions/diff.hpp"
#include "conjure/versions/snapshot.hpp"

using namespace conjure;
using Clock = std::chrono::steady_clock;

namespace {

const Scope kScope{"bench", "test"};

std::string prose(std::mt19937& rng, int words) {
  static const char* vocab[] = {"moss", "stone", "lantern", "arch", "water", "mist", "iron", "amber", "glass",
                                "dust", "bell", "tower", "shadow", "candle", "rope", "timber", "copper", "salt",
                                "reed", "ash", "velvet", "chalk", "brick", "ivy", "rain", "ember", "slate"};
  std::string out;
  for (int i = 0; i < words; ++i) {
    if (i) out += ' ';
    out += vocab[rng() % (sizeof vocab / sizeof *vocab)];
  }
  return out;
}

// A realistic world: every state with base, camera, movement and ambient
// prose; a line of transitions joining them.
Json make_world(int n, std::mt19937& rng) {
  Json states = Json::object(), events = Json::array();
  for (int i = 0; i < n; ++i) {
    std::string id = "room-" + std::to_string(i);
    states[id] = {{"base", "a chamber of " + prose(rng, 18)},
                  {"camera", {{"static", prose(rng, 5)}, {"dynamic", prose(rng, 5)}}},
                  {"movement", {{"static", prose(rng, 5)}, {"dynamic", prose(rng, 5)}}},
                  {"ambient", Json::array({prose(rng, 4), prose(rng, 4)})}};
    if (i + 1 < n) {
      events.push_back({{"name", "Walk to room " + std::to_string(i + 1)},
                        {"kind", "transition"},
                        {"from", Json::array({id})},
                        {"to", "room-" + std::to_string(i + 1)},
                        {"base", "walking on through " + prose(rng, 6)}});
    }
  }
  states["room-" + std::to_string(n - 1)]["ending"] = {{"kind", "win"}, {"title", "The far shore"}};
  return {{"schemaVersion", "1.0"},
          {"name", "Bench"},
          {"entrance", {{"state", "room-0"}}},
          {"scene", {{"states", states}, {"events", events}}}};
}

Json set_base(const std::string& id, const std::string& base) {
  return Json::array({{{"op", "update_state"}, {"id", id}, {"patch", {{"base", base}}}}});
}

std::int64_t file_size(const std::string& p) {
  struct stat st{};
  return stat(p.c_str(), &st) == 0 ? st.st_size : 0;
}

// Bytes of the database in use: pages minus free pages (after folding the WAL
// into the main file). Free pages are space SQLite reuses: rewriting the working
// graph leaves about one document's worth of them, whatever the snapshot count.
struct DiskSize {
  std::int64_t file = 0, used = 0;
};
DiskSize disk_size(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
  auto pragma = [&](const char* sql) {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, sql, -1, &st, nullptr);
    std::int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return v;
  };
  std::int64_t page = pragma("PRAGMA page_size"), pages = pragma("PRAGMA page_count"),
               free_pages = pragma("PRAGMA freelist_count");
  sqlite3_close(db);
  return {file_size(path) + file_size(path + "-wal"), (pages - free_pages) * page};
}

// Bytes of each table and index (SQLite's dbstat: whole pages, so unused space
// inside a page counts); empty when this SQLite lacks dbstat.
std::map<std::string, std::int64_t> object_bytes(const std::string& path) {
  std::map<std::string, std::int64_t> out;
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT name, sum(pgsize) FROM dbstat GROUP BY name", -1, &st, nullptr) == SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW) {
      out[reinterpret_cast<const char*>(sqlite3_column_text(st, 0))] = sqlite3_column_int64(st, 1);
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

int main(int argc, char** argv) {
  std::string out_path = argc > 1 ? argv[1] : "";
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("conjure-bench-store-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::mt19937 rng(42);
  GateOptions gate;
  Json report;

  // ---- (a) storage of 1,000 snapshots
  {
    std::string path = (dir / "a.db").string();
    auto s = open_store(path);
    Json w = make_world(1000, rng);
    GraphWrite g = s->create_world(kScope, w, gate);
    std::string id = g.world["id"];
    std::int64_t full_copy = static_cast<std::int64_t>(versions::canonical(g.world).size());
    s.reset();
    DiskSize before = disk_size(path);
    s = open_store(path);
    s->snapshot(kScope, id, "", "");
    s.reset();
    DiskSize first = disk_size(path);
    std::int64_t one_snapshot = first.used - before.used;
    auto objects_first = object_bytes(path);
    s = open_store(path);
    std::string rev = g.rev;
    const int kSnapshots = 1000;
    for (int i = 1; i < kSnapshots; ++i) {
      std::string state = "room-" + std::to_string(rng() % 1000);
      rev = s->apply_ops(kScope, id, set_base(state, "a chamber of " + prose(rng, 18)), rev, gate).rev;
      s->snapshot(kScope, id, "", "");
    }
    s.reset();
    DiskSize after = disk_size(path);
    std::int64_t snapshot_bytes = after.used - before.used;
    // One full copy: what the first snapshot (the whole world) costs on disk.
    double ratio = static_cast<double>(snapshot_bytes) / static_cast<double>(one_snapshot);
    // What each further snapshot (after the first, whole one) adds per table and index.
    Json per_snapshot = Json::object();
    std::int64_t per_snapshot_total = 0;
    for (const auto& [name, bytes] : object_bytes(path)) {
      auto it = objects_first.find(name);
      std::int64_t grew = bytes - (it == objects_first.end() ? 0 : it->second);
      if (name == "worlds" || grew <= 0) continue;  // the working graph is rewritten, not grown
      per_snapshot[name] = static_cast<double>(grew) / (kSnapshots - 1);
      per_snapshot_total += grew;
    }
    double json_ratio = static_cast<double>(snapshot_bytes) / static_cast<double>(full_copy);
    report["snapshots"] = {{"states", 1000},
                           {"snapshots", kSnapshots},
                           {"world_json_bytes", full_copy},
                           {"one_snapshot_bytes", one_snapshot},
                           {"ratio_to_world_json", json_ratio},
                           {"store_used_bytes_before", before.used},
                           {"store_used_bytes_after", after.used},
                           {"store_file_bytes_after", after.file},
                           {"snapshot_bytes", snapshot_bytes},
                           {"ratio_to_one_copy", ratio},
                           {"further_snapshot_bytes_by_object", per_snapshot},
                           {"further_snapshot_bytes", static_cast<double>(per_snapshot_total) / (kSnapshots - 1)},
                           {"naive_ratio", kSnapshots},
                           {"target", "<= 1.5"},
                           {"pass", ratio <= 1.5}};
    std::cerr << "(a) " << kSnapshots << " snapshots: " << snapshot_bytes << " bytes = " << ratio
              << "x one full snapshot (" << one_snapshot << " bytes), " << json_ratio << "x the world's JSON (" << full_copy << " bytes)\n";
  }

  // ---- (b) diff of two 10,000-state versions
  {
    std::string path = (dir / "b.db").string();
    auto s = open_store(path);
    Json w = make_world(10000, rng);
    GateOptions big = gate;
    big.limits.max_document_bytes = 64u << 20;  // a 10,000-state world is ~5 MB of JSON
    GraphWrite g = s->create_world(kScope, w, big);
    std::string id = g.world["id"];
    VersionInfo v1 = s->snapshot(kScope, id, "", "");
    s->apply_ops(kScope, id, set_base("room-4321", "a chamber of " + prose(rng, 18)), "", big);
    VersionInfo v2 = s->snapshot(kScope, id, "", "");
    Json doc_a, doc_b;
    s->get_version(kScope, id, v1.id, &doc_a);
    s->get_version(kScope, id, v2.id, &doc_b);
    Json expect = diff_worlds(doc_a, doc_b);
    std::vector<double> ours, full;
    Json got;
    for (int i = 0; i < 31; ++i) {
      auto t = Clock::now();
      got = s->diff(kScope, id, v1.id, v2.id);
      ours.push_back(seconds_since(t));
    }
    for (int i = 0; i < 7; ++i) {
      auto t = Clock::now();
      Json d = diff_worlds(doc_a, doc_b);
      full.push_back(seconds_since(t));
    }
    got.erase("a");
    got.erase("b");
    bool same = got == expect;
    double speedup = median(full) / median(ours);
    report["diff"] = {{"states", 10000},
                      {"store_diff_seconds", median(ours)},
                      {"full_compare_seconds", median(full)},
                      {"speedup", speedup},
                      {"same_result", same},
                      {"target", ">= 100"},
                      {"pass", speedup >= 100 && same}};
    std::cerr << "(b) diff: store " << median(ours) * 1e6 << " us, full compare " << median(full) * 1e6
              << " us, speedup " << speedup << "x, same result: " << same << "\n";
  }

  // ---- (c) single-op commits per second vs the SQLite floor
  {
    const int kCommits = 300;
    std::string path = (dir / "c.db").string();
    auto s = open_store(path);
    Json w = make_world(100, rng);
    GraphWrite g = s->create_world(kScope, w, gate);
    std::string id = g.world["id"];
    std::string rev = g.rev;
    std::string doc_text = versions::canonical(g.world);
    auto t = Clock::now();
    for (int i = 0; i < kCommits; ++i) {
      std::string state = "room-" + std::to_string(i % 100);
      rev = s->apply_ops(kScope, id, set_base(state, "a chamber of " + prose(rng, 18)), rev, gate).rev;
    }
    double ours = kCommits / seconds_since(t);
    s.reset();

    std::string fpath = (dir / "floor.db").string();
    sqlite3* db = nullptr;
    sqlite3_open(fpath.c_str(), &db);
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE docs(id INTEGER PRIMARY KEY, doc TEXT)",
                 nullptr, nullptr, nullptr);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "INSERT INTO docs(doc) VALUES (?)", -1, &st, nullptr);
    t = Clock::now();
    for (int i = 0; i < kCommits; ++i) {
      sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
      sqlite3_bind_text(st, 1, doc_text.data(), static_cast<int>(doc_text.size()), SQLITE_STATIC);
      sqlite3_step(st);
      sqlite3_reset(st);
      sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    }
    double floor = kCommits / seconds_since(t);
    sqlite3_finalize(st);
    sqlite3_close(db);
    double ratio = ours / floor;
    report["commits"] = {{"states", 100},
                         {"document_bytes", doc_text.size()},
                         {"commits", kCommits},
                         {"store_commits_per_second", ours},
                         {"sqlite_floor_per_second", floor},
                         {"ratio_to_floor", ratio},
                         {"target", ">= 0.3"},
                         {"pass", ratio >= 0.3}};
    std::cerr << "(c) commits/s: store " << ours << ", SQLite floor " << floor << ", ratio " << ratio << "\n";
  }

  std::filesystem::remove_all(dir);
  std::string text = report.dump(2);
  std::cout << text << "\n";
  if (!out_path.empty()) std::ofstream(out_path) << text << "\n";
  return 0;
}
