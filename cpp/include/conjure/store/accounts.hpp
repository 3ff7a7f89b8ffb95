// Users, apps, API keys and user session tokens (store.hpp: the contract).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "conjure/store/common.hpp"

namespace conjure {

struct User {
  std::string id, email, created_at;
};
struct App {
  std::string id, owner_id, name, created_at;
};
struct KeyInfo {
  std::string id, app_id, type, mode, name, prefix, last4, created_at;
  std::string last_used_at, revoked_at;  // empty when never / not revoked
};
struct MintedKey {
  KeyInfo info;
  std::string key;  // the plaintext, returned once
};
struct UserToken {
  std::string token, expires_at;  // "us_…"
};

class AccountStore {
 public:
  virtual ~AccountStore() = default;

  virtual User create_user(const std::string& email, const std::string& password) = 0;
  virtual User get_user(const std::string& user_id) = 0;
  virtual User authenticate_user(const std::string& email, const std::string& password) = 0;  // kUnauthorized
  virtual App create_app(const std::string& owner_id, const std::string& name) = 0;
  virtual App get_app(const std::string& app_id) = 0;
  virtual Page<App> list_apps(const std::string& owner_id, int limit, const std::string& cursor) = 0;
  virtual MintedKey create_key(const std::string& app_id, const std::string& type, const std::string& mode,
                               const std::string& name) = 0;
  virtual Page<KeyInfo> list_keys(const std::string& app_id, int limit, const std::string& cursor) = 0;
  virtual KeyInfo revoke_key(const std::string& app_id, const std::string& key_id) = 0;
  // The user of an email (case-insensitive), or nullopt.
  virtual std::optional<User> find_user(const std::string& email) = 0;
  // User session tokens (`us_…`): signed with a key derived from the server
  // secret, which never leaves the core. issue: kNotFound for an unknown user,
  // kBadInput for a ttl outside 60 s .. 366 days. verify: the token's user;
  // kUnauthorized for a bad, expired or forged token or a deleted user.
  virtual UserToken issue_user_token(const std::string& user_id, std::int64_t ttl_seconds) = 0;
  virtual User verify_user_token(const std::string& token) = 0;
  // The key's metadata when `key` is a live (not revoked) key; touches last_used_at. kUnauthorized otherwise.
  virtual KeyInfo verify_key(const std::string& key) = 0;
};

}  // namespace conjure
