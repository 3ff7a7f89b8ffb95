#include "store/common.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "conjure/auth/crypto.hpp"
#include "conjure/errors.hpp"
#include "conjure/store/errors.hpp"

namespace conjure {

std::string now_rfc3339() {
  std::int64_t ms = store::unix_millis_now();
  return store::format_time(ms / 1000, static_cast<int>(ms % 1000));
}

std::string utc_day() { return now_rfc3339().substr(0, 10); }

namespace store {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t unix_millis_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string format_time(std::int64_t unix_seconds, int millis) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

void check_scope(const Scope& s) {
  if (s.app_id.empty() || s.app_id.size() > 200) throw Error(ErrorCode::kBadInput, "scope: app_id must be 1-200 characters");
  if (s.mode != "test" && s.mode != "live") throw Error(ErrorCode::kBadInput, "scope: mode must be \"test\" or \"live\"");
}

void check_id(const std::string& id, const char* what) {
  if (id.empty() || id.size() > 200) throw Error(ErrorCode::kNotFound, std::string(what) + " not found");
}

int check_limit(int limit) {
  if (limit < 1 || limit > 100) throw Error(ErrorCode::kBadInput, "limit must be between 1 and 100");
  return limit;
}

std::int64_t parse_cursor(const std::string& cursor) {
  if (cursor.empty()) return 0;
  std::int64_t v = 0;
  if (cursor.size() > 18) throw Error(ErrorCode::kBadInput, "cursor: not a cursor this server issued");
  for (char c : cursor) {
    if (c < '0' || c > '9') throw Error(ErrorCode::kBadInput, "cursor: not a cursor this server issued");
    v = v * 10 + (c - '0');
  }
  return v;
}

std::string str_field(const Json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Json parse_stored(const std::string& text, const char* what) {
  try {
    return Json::parse(text);
  } catch (const Json::exception&) {
    throw Error(ErrorCode::kStorage, std::string("the store holds a damaged ") + what + " (not JSON)");
  }
}

std::string make_rev(std::int64_t writes, const std::string& canonical_doc) {
  return std::to_string(writes) + "-" + auth::sha256_hex(canonical_doc).substr(0, 16);
}

void mirror_columns(const Json& doc, WorldInfo& info) {
  info.name = str_field(doc, "name");
  info.description = str_field(doc, "description");
  info.cover = str_field(doc, "cover");
  info.visibility = str_field(doc, "visibility");
  if (info.visibility.empty()) info.visibility = "private";
}

GateResult gate_or_throw(const Json& doc, const GateOptions& gate) {
  GateResult r = run_gate(doc, gate);
  if (!r.ok) throw GateFailed(std::move(r.diagnostics));
  return r;
}

void check_doc_size(const std::string& text, const GateOptions& gate) {
  if (text.size() > gate.limits.max_document_bytes) {
    throw Error(ErrorCode::kLimit, "the world is " + std::to_string(text.size()) + " bytes of JSON, over the limit of " +
                                       std::to_string(gate.limits.max_document_bytes));
  }
}

void check_rev(const WorldInfo& info, const std::string& expected_rev) {
  if (!expected_rev.empty() && expected_rev != info.rev) {
    throw Error(ErrorCode::kConflict, "rev mismatch: the world is at rev " + info.rev + ", not " + expected_rev +
                                          "; re-read it and retry");
  }
}

}  // namespace store
}  // namespace conjure
