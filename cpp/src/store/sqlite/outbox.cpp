#include "store/sqlite/outbox.hpp"

#include <cmath>

#include "conjure/auth/crypto.hpp"
#include "conjure/versions/snapshot.hpp"

namespace conjure::sqlite {

using store::check_id;
using store::parse_stored;

namespace {

constexpr int kBackoff[] = {60, 5 * 60, 30 * 60, 2 * 3600, 8 * 3600};
constexpr int kMaxDeliveryAttempts = 6;

#define ENDPOINT_COLS "id, app_id, url, events, description, created_at"

WebhookEndpoint endpoint_from(Stmt& s) {
  WebhookEndpoint e;
  e.id = s.text(0);
  e.app_id = s.text(1);
  e.url = s.text(2);
  for (const Json& t : parse_stored(s.text(3), "webhook events")) e.events.push_back(t.get<std::string>());
  e.description = s.text(4);
  e.created_at = s.text(5);
  return e;
}

bool loopback_http(const std::string& url) {
  for (const char* host : {"http://localhost", "http://127.0.0.1", "http://[::1]"}) {
    std::string h = host;
    if (url.compare(0, h.size(), h) == 0 && (url.size() == h.size() || url[h.size()] == ':' || url[h.size()] == '/')) {
      return true;
    }
  }
  return false;
}

#define DELIVERY_SELECT                                                                                        \
  "SELECT d.id, d.event_id, d.endpoint_id, w.url, w.secret, o.type, d.status, d.attempt, d.response_status, " \
  "d.created_at, d.next_attempt_unix, o.id, o.created_at, o.app_id, o.mode, o.data, d.seq "                  \
  "FROM deliveries d JOIN webhook_endpoints w ON w.id=d.endpoint_id JOIN outbox o ON o.id=d.event_id "

Delivery delivery_from(Stmt& s) {
  Delivery d;
  d.id = s.text(0);
  d.event_id = s.text(1);
  d.endpoint_id = s.text(2);
  d.url = s.text(3);
  d.secret = s.text(4);
  d.type = s.text(5);
  d.status = s.text(6);
  d.attempt = static_cast<int>(s.i64(7));
  d.response_status = static_cast<int>(s.i64(8));
  d.created_at = s.text(9);
  d.next_attempt_at = d.status == "pending" ? store::format_time(s.i64(10), 0) : std::string();
  d.body = {{"id", s.text(11)},  {"type", d.type},  {"createdAt", s.text(12)},
            {"appId", s.text(13)}, {"mode", s.text(14)}, {"data", parse_stored(s.text(15), "event data")}};
  return d;
}

}  // namespace

CreatedWebhook SqliteOutbox::create_webhook(const std::string& app_id, const std::string& url,
                                            const std::vector<std::string>& events, const std::string& description) {
  check_id(app_id, "app");
  if (url.size() > 2048 || url.find_first_of(" \t\r\n") != std::string::npos ||
      !((url.rfind("https://", 0) == 0 && url.size() > 8) || loopback_http(url))) {
    throw Error(ErrorCode::kBadInput, "url: an https:// URL (plain http:// only to loopback)");
  }
  if (events.empty() || events.size() > 100) throw Error(ErrorCode::kBadInput, "events: 1-100 event types");
  for (const auto& e : events) {
    if (e.empty() || e.size() > 100) throw Error(ErrorCode::kBadInput, "events: each an event type");
  }
  if (description.size() > 1000) throw Error(ErrorCode::kBadInput, "description: at most 1000 characters");
  CreatedWebhook out;
  out.secret = "whsec_" + auth::random_token(32);
  out.endpoint = WebhookEndpoint{auth::uuid4(), app_id, url, description, now_rfc3339(), events};
  ctx_.write_tx([&](Conn& c) {
    Stmt q = c.prepare("SELECT 1 FROM apps WHERE id=?");
    q.args(app_id);
    if (!q.step()) throw Error(ErrorCode::kNotFound, "app not found");
    c.prepare("INSERT INTO webhook_endpoints(id, app_id, url, events, description, secret, created_at) VALUES (?,?,?,?,?,?,?)")
        .args(out.endpoint.id, app_id, url, Json(events).dump(), description, out.secret, out.endpoint.created_at)
        .run();
  });
  return out;
}

Page<WebhookEndpoint> SqliteOutbox::list_webhooks(const std::string& app_id, int limit, const std::string& cursor) {
  return ctx_.page<WebhookEndpoint>("SELECT " ENDPOINT_COLS ", seq FROM webhook_endpoints WHERE app_id=? AND "
                                    "deleted_at IS NULL AND seq>? ORDER BY seq LIMIT ?",
                                    limit, cursor, 6, endpoint_from, app_id);
}

void SqliteOutbox::delete_webhook(const std::string& app_id, const std::string& webhook_id) {
  check_id(webhook_id, "webhook");
  ctx_.write_tx([&](Conn& c) {
    Stmt s = c.prepare("UPDATE webhook_endpoints SET deleted_at=? WHERE id=? AND app_id=? AND deleted_at IS NULL");
    s.args(now_rfc3339(), webhook_id, app_id).run();
    if (s.changes() == 0) throw Error(ErrorCode::kNotFound, "webhook not found");
  });
}

WebhookEndpoint SqliteOutbox::get_webhook(const std::string& webhook_id) {
  check_id(webhook_id, "webhook");
  WebhookEndpoint e;
  ctx_.read_tx([&](Conn& c) {
    Stmt s = c.prepare("SELECT " ENDPOINT_COLS " FROM webhook_endpoints WHERE id=? AND deleted_at IS NULL");
    s.args(webhook_id);
    if (!s.step()) throw Error(ErrorCode::kNotFound, "webhook not found");
    e = endpoint_from(s);
  });
  return e;
}

OutboxEvent SqliteOutbox::enqueue_event(const Scope& scope, const std::string& type, const Json& data) {
  store::check_scope(scope);
  if (type.empty() || type.size() > 100) throw Error(ErrorCode::kBadInput, "type: an event type");
  OutboxEvent ev;
  ctx_.write_tx([&](Conn& c) { ev = enqueue_in(c, scope, type, data); });
  return ev;
}

OutboxEvent enqueue_in(Conn& c, const Scope& scope, const std::string& type, const Json& data) {
  OutboxEvent ev{auth::uuid4(), scope.app_id, scope.mode, type, now_rfc3339(), data};
  std::int64_t now = store::unix_now();
  c.prepare("INSERT INTO outbox(id, app_id, mode, type, data, created_at) VALUES (?,?,?,?,?,?)")
      .args(ev.id, ev.app_id, ev.mode, type, versions::canonical(data), ev.created_at)
      .run();
  std::vector<std::string> targets;
  {
    Stmt s = c.prepare("SELECT id, events FROM webhook_endpoints WHERE app_id=? AND deleted_at IS NULL ORDER BY seq");
    s.args(scope.app_id);
    while (s.step()) {
      for (const Json& t : parse_stored(s.text(1), "webhook events")) {
        if (t == type || t == "*") {
          targets.push_back(s.text(0));
          break;
        }
      }
    }
  }
  for (const auto& endpoint : targets) {
    c.prepare(
         "INSERT INTO deliveries(id, event_id, endpoint_id, status, next_attempt_unix, created_at, updated_at) "
         "VALUES (?,?,?,'pending',?,?,?)")
        .args(auth::uuid4(), ev.id, endpoint, now, ev.created_at, ev.created_at)
        .run();
  }
  return ev;
}

std::vector<Delivery> SqliteOutbox::claim_deliveries(int limit, int lease_seconds) {
  if (limit < 1 || limit > 1000) throw Error(ErrorCode::kBadInput, "limit: 1-1000");
  if (lease_seconds < 1) throw Error(ErrorCode::kBadInput, "lease_seconds: at least 1");
  std::vector<Delivery> out;
  std::int64_t now = store::unix_now();
  ctx_.write_tx([&](Conn& c) {
    {
      Stmt s = c.prepare(DELIVERY_SELECT
                         "WHERE d.status='pending' AND d.next_attempt_unix<=? AND d.locked_until<=? "
                         "ORDER BY d.next_attempt_unix, d.seq LIMIT ?");
      s.args(now, now, limit);
      while (s.step()) out.push_back(delivery_from(s));
    }
    for (const auto& d : out) {
      c.prepare("UPDATE deliveries SET locked_until=? WHERE id=?").args(now + lease_seconds, d.id).run();
    }
  });
  return out;
}

Delivery SqliteOutbox::record_delivery(const std::string& delivery_id, int response_status, bool success,
                                       const std::string& error, std::optional<double> next_attempt_in) {
  check_id(delivery_id, "delivery");
  if (next_attempt_in && !(std::isfinite(*next_attempt_in) && *next_attempt_in <= 366.0 * 86400)) {
    throw Error(ErrorCode::kBadInput, "next_attempt_in: seconds, at most 366 days (negative: give up)");
  }
  Delivery out;
  std::int64_t now = store::unix_now();
  ctx_.write_tx([&](Conn& c) {
    std::string status;
    int attempt = 0;
    {
      Stmt s = c.prepare("SELECT status, attempt FROM deliveries WHERE id=?");
      s.args(delivery_id);
      if (!s.step()) throw Error(ErrorCode::kNotFound, "delivery not found");
      status = s.text(0);
      attempt = static_cast<int>(s.i64(1));
    }
    if (status != "pending") throw Error(ErrorCode::kConflict, "the delivery already " + status);
    ++attempt;
    std::string now_s = now_rfc3339();
    c.prepare("INSERT INTO delivery_attempts(delivery_id, attempt, response_status, error, created_at) VALUES (?,?,?,?,?)")
        .args(delivery_id, attempt, response_status, error, now_s)
        .run();
    // The caller's schedule (next_attempt_in) replaces the built-in backoff and its attempt cap.
    bool give_up = next_attempt_in ? *next_attempt_in < 0 : attempt >= kMaxDeliveryAttempts;
    std::string next_status = success ? "succeeded" : (give_up ? "failed" : "pending");
    std::int64_t delay = next_attempt_in ? static_cast<std::int64_t>(std::ceil(*next_attempt_in))
                                         : (give_up ? 0 : kBackoff[attempt - 1]);
    std::int64_t next = success || give_up ? now : now + delay;
    c.prepare(
         "UPDATE deliveries SET status=?, attempt=?, response_status=?, next_attempt_unix=?, locked_until=0, "
         "updated_at=? WHERE id=?")
        .args(next_status, attempt, response_status, next, now_s, delivery_id)
        .run();
    Stmt s = c.prepare(DELIVERY_SELECT "WHERE d.id=?");
    s.args(delivery_id);
    if (s.step()) out = delivery_from(s);
  });
  return out;
}

std::vector<DeliveryAttempt> SqliteOutbox::list_delivery_attempts(const std::string& delivery_id) {
  check_id(delivery_id, "delivery");
  std::vector<DeliveryAttempt> out;
  ctx_.read_tx([&](Conn& c) {
    std::string status;
    {
      Stmt s = c.prepare("SELECT status FROM deliveries WHERE id=?");
      s.args(delivery_id);
      if (!s.step()) throw Error(ErrorCode::kNotFound, "delivery not found");
      status = s.text(0);
    }
    Stmt s = c.prepare(
        "SELECT attempt, response_status, error, created_at FROM delivery_attempts WHERE delivery_id=? ORDER BY seq");
    s.args(delivery_id);
    while (s.step()) {
      DeliveryAttempt a;
      a.attempt = static_cast<int>(s.i64(0));
      a.response_status = static_cast<int>(s.i64(1));
      a.error = s.text(2);
      a.created_at = s.text(3);
      out.push_back(std::move(a));
    }
    // Only the last attempt can end a delivery: every earlier one failed and was retried.
    for (std::size_t i = 0; i < out.size(); ++i) out[i].status = i + 1 == out.size() ? status : "pending";
  });
  return out;
}

Page<Delivery> SqliteOutbox::list_deliveries(const std::string& app_id, const std::string& webhook_id, int limit,
                                             const std::string& cursor) {
  return ctx_.page<Delivery>(DELIVERY_SELECT "WHERE w.app_id=? AND d.endpoint_id=? AND d.seq>? ORDER BY d.seq LIMIT ?",
                             limit, cursor, 16, delivery_from, app_id, webhook_id);
}

}  // namespace conjure::sqlite
