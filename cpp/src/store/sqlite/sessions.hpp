// Internal: play sessions and their signing keys on SQLite.
#pragma once
#include <mutex>
#include <string>
#include <unordered_map>

#include "conjure/store/sessions.hpp"
#include "store/sqlite/context.hpp"

namespace conjure::sqlite {

class SqliteSessions : public virtual SessionStore {
 public:
  explicit SqliteSessions(Context& ctx) : ctx_(ctx) {}

  std::string rotate_session_key() override;
  SessionToken mint_session_token(const Scope& scope, const std::string& world_id, const std::string& player_id,
                                  const std::string& origin, int ttl_seconds) override;
  SessionClaims verify_session_token(const std::string& token, const std::string& origin,
                                     std::int64_t now_unix) override;
  AdmittedSession admit_session(const SessionClaims& claims, int app_cap, int global_cap, int minutes) override;
  SessionInfo consume_connect_token(const std::string& token, std::int64_t now_unix) override;
  SessionInfo bind_session(const std::string& session_id, const SessionClaims& claims) override;
  SessionInfo settle_session(const std::string& session_id, std::int64_t seconds_used,
                             const SessionClaims* claims) override;
  int reap_sessions(std::int64_t now_unix) override;
  int settle_all_active(const std::string& reason) override;

 private:
  // The signing key of `kid` (cached; keys are immutable), or empty when unknown.
  std::string session_key(const std::string& kid);
  // Settles the live sessions matching `where` (its '?' are bound to `now`).
  int settle_where(const std::string& where, std::int64_t now, const std::string& reason);

  Context& ctx_;
  std::mutex keys_mu_;
  std::unordered_map<std::string, std::string> session_keys_;  // kid -> signing key
};

}  // namespace conjure::sqlite
