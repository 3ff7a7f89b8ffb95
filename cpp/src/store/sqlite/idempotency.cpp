#include "store/sqlite/idempotency.hpp"

namespace conjure::sqlite {

using store::check_scope;

namespace {
constexpr std::int64_t kIdempotencyTtl = 24 * 3600;
constexpr std::int64_t kIdempotencyInFlightLease = 10 * 60;
}  // namespace

IdemBegin SqliteIdempotency::idem_begin(const Scope& scope, const std::string& key, const std::string& request_hash) {
  check_scope(scope);
  if (key.empty() || key.size() > 255) throw Error(ErrorCode::kBadInput, "Idempotency-Key: 1-255 characters");
  if (request_hash.size() > 1024) throw Error(ErrorCode::kBadInput, "request hash too long");
  IdemBegin out;
  std::int64_t now = store::unix_now();
  ctx_.write_tx([&](Conn& c) {
    // Expired records go first (a bounded batch per call keeps the table small).
    c.prepare("DELETE FROM idempotency WHERE (app_id, mode, key) IN "
              "(SELECT app_id, mode, key FROM idempotency WHERE created_unix<=? LIMIT 100)")
        .args(now - kIdempotencyTtl)
        .run();
    Stmt s = c.prepare(
        "SELECT request_hash, state, status, body, created_unix, updated_unix FROM idempotency "
        "WHERE app_id=? AND mode=? AND key=?");
    s.args(scope.app_id, scope.mode, key);
    bool found = s.step();
    bool take_over = false;
    if (found) {
      bool expired = s.i64(4) <= now - kIdempotencyTtl;
      bool abandoned = s.text(1) == "in_flight" && s.i64(5) <= now - kIdempotencyInFlightLease;
      if (expired || abandoned) {
        take_over = true;
      } else if (s.text(0) != request_hash) {
        out.kind = IdemBegin::Kind::kConflict;
      } else if (s.text(1) == "in_flight") {
        out.kind = IdemBegin::Kind::kInFlight;
      } else {
        out.kind = IdemBegin::Kind::kReplay;
        out.status = static_cast<int>(s.i64(2));
        out.body = s.text(3);
      }
    }
    if (!found || take_over) {
      out.kind = IdemBegin::Kind::kNew;
      c.prepare(
           "INSERT OR REPLACE INTO idempotency(app_id, mode, key, request_hash, state, status, body, created_unix, "
           "updated_unix) VALUES (?,?,?,?,'in_flight',0,'',?,?)")
          .args(scope.app_id, scope.mode, key, request_hash, now, now)
          .run();
    }
  });
  return out;
}

void SqliteIdempotency::idem_complete(const Scope& scope, const std::string& key, int status, const std::string& body) {
  check_scope(scope);
  if (status >= 500) {
    idem_release(scope, key);
    return;
  }
  if (status < 100 || status > 599) throw Error(ErrorCode::kBadInput, "status: an HTTP status code");
  ctx_.write_tx([&](Conn& c) {
    Stmt s = c.prepare(
        "UPDATE idempotency SET state='done', status=?, body=?, updated_unix=? "
        "WHERE app_id=? AND mode=? AND key=? AND state='in_flight'");
    s.args(status, body, store::unix_now(), scope.app_id, scope.mode, key).run();
    if (s.changes() == 0) throw Error(ErrorCode::kNotFound, "no request in flight under this idempotency key");
  });
}

void SqliteIdempotency::idem_release(const Scope& scope, const std::string& key) {
  check_scope(scope);
  ctx_.write_tx([&](Conn& c) {
    c.prepare("DELETE FROM idempotency WHERE app_id=? AND mode=? AND key=? AND state='in_flight'")
        .args(scope.app_id, scope.mode, key)
        .run();
  });
}

}  // namespace conjure::sqlite
