// Internal: users, apps, API keys and user tokens on SQLite.
#pragma once
#include "conjure/store/accounts.hpp"
#include "store/sqlite/context.hpp"

namespace conjure::sqlite {

class SqliteAccounts : public virtual AccountStore {
 public:
  explicit SqliteAccounts(Context& ctx) : ctx_(ctx) {}

  User create_user(const std::string& email, const std::string& password) override;
  User get_user(const std::string& user_id) override;
  User authenticate_user(const std::string& email, const std::string& password) override;
  App create_app(const std::string& owner_id, const std::string& name) override;
  App get_app(const std::string& app_id) override;
  Page<App> list_apps(const std::string& owner_id, int limit, const std::string& cursor) override;
  MintedKey create_key(const std::string& app_id, const std::string& type, const std::string& mode,
                       const std::string& name) override;
  Page<KeyInfo> list_keys(const std::string& app_id, int limit, const std::string& cursor) override;
  KeyInfo revoke_key(const std::string& app_id, const std::string& key_id) override;
  std::optional<User> find_user(const std::string& email) override;
  UserToken issue_user_token(const std::string& user_id, std::int64_t ttl_seconds) override;
  User verify_user_token(const std::string& token) override;
  KeyInfo verify_key(const std::string& key) override;

 private:
  Context& ctx_;
};

}  // namespace conjure::sqlite
