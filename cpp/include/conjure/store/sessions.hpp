// Play sessions (RUNTIME.md "The two-token rule").
// A session token (`st_…`) is base64url(claims JSON) "." base64url(HMAC-SHA256(
// key[kid], the first part)). Signing keys live in the store, one current, the
// older ones kept until every token they signed has expired.
#pragma once
#include <cstdint>
#include <string>

#include "conjure/store/common.hpp"

namespace conjure {

struct SessionClaims {
  std::string app, mode, world, player, origin;  // origin: empty when unbound
  std::int64_t exp = 0;                           // unix seconds
  std::string jti, kid;
};
struct SessionToken {
  std::string token, expires_at, jti;
};
struct AdmittedSession {
  std::string session_id;
  std::string connect_token;  // "ct_…", single use, returned once
  std::string connect_expires_at, expires_at;
};
struct SessionInfo {
  std::string id, app_id, mode, world_id, player_id, origin;
  std::string status;  // admitted | bound | settled
  std::string expires_at;
  std::int64_t seconds_used = -1;  // settled only
  std::string jti;                  // the session token's id
};

// `now_unix` 0 means now.
class SessionStore {
 public:
  virtual ~SessionStore() = default;

  // Adds a new current signing key; older keys stay valid until their tokens expire. Returns its kid.
  virtual std::string rotate_session_key() = 0;
  // A session token for a player of a world of `scope` (kNotFound otherwise);
  // ttl 1..3600 s (kBadInput otherwise). Charges nothing: the caller meters mints.
  virtual SessionToken mint_session_token(const Scope& scope, const std::string& world_id,
                                          const std::string& player_id, const std::string& origin,
                                          int ttl_seconds) = 0;
  // The claims of a well-formed, correctly signed, unexpired token (kUnauthorized
  // otherwise; constant-time signature check); kForbidden when the token is bound
  // to an origin and `origin` differs (an empty origin differs from every origin).
  virtual SessionClaims verify_session_token(const std::string& token, const std::string& origin,
                                             std::int64_t now_unix = 0) = 0;
  // One transaction: kCapacity when the app's or the server's count of live
  // (admitted or bound) sessions is at its cap; kConflict when this token (jti)
  // already has a live session; kQuotaExceeded when `minutes` do not fit the
  // app's session_minutes budget; else reserves them, records the session and
  // mints a single-use connect token valid 60 s (only its keyed hash is kept).
  // The session expires at the token's expiry or when the reserved minutes run
  // out, whichever is first.
  virtual AdmittedSession admit_session(const SessionClaims& claims, int app_cap, int global_cap, int minutes) = 0;
  // The session a connect token opens; the token works once, within 60 s (kUnauthorized otherwise).
  virtual SessionInfo consume_connect_token(const std::string& token, std::int64_t now_unix = 0) = 0;
  // Marks the session bound (idempotent); kNotFound unless the claims' app and mode own it,
  // kConflict once it is settled.
  virtual SessionInfo bind_session(const std::string& session_id, const SessionClaims& claims) = 0;
  // Frees the slot, charges ceil(seconds / 60) minutes (at most the reservation)
  // and refunds the rest; idempotent (a settled session answers as it is).
  // seconds_used < 0: the time since admission. claims: when given, its app and mode must own the session.
  virtual SessionInfo settle_session(const std::string& session_id, std::int64_t seconds_used,
                                     const SessionClaims* claims) = 0;
  // Settles live sessions past their expiry, and admitted ones whose connect
  // token expired unused (0 seconds). Returns how many.
  virtual int reap_sessions(std::int64_t now_unix = 0) = 0;
  // Settles every live session (a server restart: no slot outlives its server). Returns how many.
  virtual int settle_all_active(const std::string& reason) = 0;
};

}  // namespace conjure
