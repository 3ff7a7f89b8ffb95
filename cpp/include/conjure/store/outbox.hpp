// Webhook endpoints, the event outbox and its deliveries (store.hpp: the contract).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "conjure/json.hpp"
#include "conjure/store/common.hpp"

namespace conjure {

struct WebhookEndpoint {
  std::string id, app_id, url, description, created_at;
  std::vector<std::string> events;
};
struct CreatedWebhook {
  WebhookEndpoint endpoint;
  std::string secret;  // "whsec_…", returned once
};
struct OutboxEvent {
  std::string id, app_id, mode, type, created_at;
  Json data;
};
struct Delivery {
  std::string id, event_id, endpoint_id, url, secret, type, status;  // pending | succeeded | failed
  int attempt = 0;
  int response_status = 0;
  std::string created_at, next_attempt_at;
  Json body;  // {id, type, createdAt, appId, mode, data}
};
// One recorded attempt of a delivery. status: "succeeded" (it ended the
// delivery), "pending" (it failed and the delivery was or will be retried) or
// "failed" (it failed and the delivery gave up).
struct DeliveryAttempt {
  int attempt = 0;
  std::string status;
  int response_status = 0;  // 0: no answer came
  std::string error, created_at;
};

class OutboxStore {
 public:
  virtual ~OutboxStore() = default;

  virtual CreatedWebhook create_webhook(const std::string& app_id, const std::string& url,
                                        const std::vector<std::string>& events,
                                        const std::string& description) = 0;
  virtual Page<WebhookEndpoint> list_webhooks(const std::string& app_id, int limit,
                                              const std::string& cursor) = 0;
  virtual void delete_webhook(const std::string& app_id, const std::string& webhook_id) = 0;
  // A live endpoint by id, whatever its app (the caller checks ownership); kNotFound otherwise.
  virtual WebhookEndpoint get_webhook(const std::string& webhook_id) = 0;
  // Records an event and one pending delivery per subscribed endpoint, atomically.
  virtual OutboxEvent enqueue_event(const Scope& scope, const std::string& type, const Json& data) = 0;
  // Claims up to `limit` due deliveries (leased for lease_seconds).
  virtual std::vector<Delivery> claim_deliveries(int limit, int lease_seconds) = 0;
  // Records an attempt: success ends it; else it is retried after the backoff
  // (1 min, 5 min, 30 min, 2 h, 8 h) and marked failed after the sixth attempt.
  // `next_attempt_in` (seconds, rounded up) replaces that backoff: the caller's
  // schedule is kept in the store; a negative value gives up (failed) now.
  virtual Delivery record_delivery(const std::string& delivery_id, int response_status, bool success,
                                   const std::string& error,
                                   std::optional<double> next_attempt_in = std::nullopt) = 0;
  // Every recorded attempt of a delivery, oldest first (kNotFound for an unknown delivery).
  virtual std::vector<DeliveryAttempt> list_delivery_attempts(const std::string& delivery_id) = 0;
  virtual Page<Delivery> list_deliveries(const std::string& app_id, const std::string& webhook_id, int limit,
                                         const std::string& cursor) = 0;
};

}  // namespace conjure
