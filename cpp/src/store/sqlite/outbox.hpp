// Internal: webhook endpoints, the event outbox and deliveries on SQLite.
#pragma once
#include "conjure/store/outbox.hpp"
#include "store/sqlite/context.hpp"

namespace conjure::sqlite {

// Records an event and its pending deliveries inside the caller's write transaction.
OutboxEvent enqueue_in(Conn& c, const Scope& scope, const std::string& type, const Json& data);

class SqliteOutbox : public virtual OutboxStore {
 public:
  explicit SqliteOutbox(Context& ctx) : ctx_(ctx) {}

  CreatedWebhook create_webhook(const std::string& app_id, const std::string& url,
                                const std::vector<std::string>& events, const std::string& description) override;
  Page<WebhookEndpoint> list_webhooks(const std::string& app_id, int limit, const std::string& cursor) override;
  void delete_webhook(const std::string& app_id, const std::string& webhook_id) override;
  WebhookEndpoint get_webhook(const std::string& webhook_id) override;
  OutboxEvent enqueue_event(const Scope& scope, const std::string& type, const Json& data) override;
  std::vector<Delivery> claim_deliveries(int limit, int lease_seconds) override;
  Delivery record_delivery(const std::string& delivery_id, int response_status, bool success, const std::string& error,
                           std::optional<double> next_attempt_in) override;
  std::vector<DeliveryAttempt> list_delivery_attempts(const std::string& delivery_id) override;
  Page<Delivery> list_deliveries(const std::string& app_id, const std::string& webhook_id, int limit,
                                 const std::string& cursor) override;

 private:
  Context& ctx_;
};

}  // namespace conjure::sqlite
