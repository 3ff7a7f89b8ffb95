#include "store/sqlite/accounts.hpp"

#include "conjure/auth/crypto.hpp"
#include "conjure/auth/tokens.hpp"
#include "conjure/versions/snapshot.hpp"

namespace conjure::sqlite {

using store::check_id;
using store::unix_now;

namespace {

User user_from(Stmt& s) { return User{s.text(0), s.text(1), s.text(2)}; }

App app_from(Stmt& s) { return App{s.text(0), s.text(1), s.text(2), s.text(3)}; }

#define KEY_COLS "id, app_id, type, mode, name, prefix, last4, created_at, last_used_at, revoked_at"

KeyInfo key_from(Stmt& s) {
  KeyInfo k;
  k.id = s.text(0);
  k.app_id = s.text(1);
  k.type = s.text(2);
  k.mode = s.text(3);
  k.name = s.text(4);
  k.prefix = s.text(5);
  k.last4 = s.text(6);
  k.created_at = s.text(7);
  k.last_used_at = s.text(8);
  k.revoked_at = s.text(9);
  return k;
}

// The user-token key is derived from the server secret and never leaves the core.
constexpr const char* kUserTokenKey = "conjure user token v1";

}  // namespace

User SqliteAccounts::create_user(const std::string& email, const std::string& password) {
  const std::string& e = email;
  if (e.size() < 3 || e.size() > 254 || e.find('@') == std::string::npos || e.front() == '@' || e.back() == '@' ||
      e.find_first_of(" \t\r\n") != std::string::npos) {
    throw Error(ErrorCode::kBadInput, "email: not an email address");
  }
  if (password.size() < 10) throw Error(ErrorCode::kBadInput, "password: at least 10 characters");
  if (password.size() > 1024) throw Error(ErrorCode::kBadInput, "password: at most 1024 characters");
  std::string hash = auth::hash_password(password);  // slow: outside the transaction
  User u{auth::uuid4(), e, now_rfc3339()};
  ctx_.write_tx([&](Conn& c) {
    Stmt q = c.prepare("SELECT 1 FROM users WHERE email=?");
    q.args(e);
    if (q.step()) throw Error(ErrorCode::kConflict, "email_taken: an account with this email exists");
    c.prepare("INSERT INTO users(id, email, password_hash, created_at) VALUES (?,?,?,?)")
        .args(u.id, e, hash, u.created_at)
        .run();
  });
  return u;
}

User SqliteAccounts::get_user(const std::string& user_id) {
  check_id(user_id, "user");
  User u;
  ctx_.read_tx([&](Conn& c) {
    Stmt s = c.prepare("SELECT id, email, created_at FROM users WHERE id=?");
    s.args(user_id);
    if (!s.step()) throw Error(ErrorCode::kNotFound, "user not found");
    u = user_from(s);
  });
  return u;
}

User SqliteAccounts::authenticate_user(const std::string& email, const std::string& password) {
  User u;
  std::string hash;
  if (email.size() <= 254 && password.size() <= 1024) {
    ctx_.read_tx([&](Conn& c) {
      Stmt s = c.prepare("SELECT id, email, created_at, password_hash FROM users WHERE email=?");
      s.args(email);
      if (s.step()) {
        u = user_from(s);
        hash = s.text(3);
      }
    });
  }
  // An unknown email costs the same work as a wrong password.
  static const std::string dummy = auth::hash_password("conjure-dummy-password");
  bool ok = auth::verify_password(password, hash.empty() ? dummy : hash);
  if (!ok || hash.empty()) throw Error(ErrorCode::kUnauthorized, "invalid_credentials: wrong email or password");
  return u;
}

std::optional<User> SqliteAccounts::find_user(const std::string& email) {
  if (email.empty() || email.size() > 254) return std::nullopt;
  std::optional<User> out;
  ctx_.read_tx([&](Conn& c) {
    Stmt s = c.prepare("SELECT id, email, created_at FROM users WHERE email=?");
    s.args(email);
    if (s.step()) out = user_from(s);
  });
  return out;
}

App SqliteAccounts::create_app(const std::string& owner_id, const std::string& name) {
  if (name.empty() || name.size() > 200) throw Error(ErrorCode::kBadInput, "name: 1-200 characters");
  App a{auth::uuid4(), owner_id, name, now_rfc3339()};
  ctx_.write_tx([&](Conn& c) {
    if (!owner_id.empty()) {
      Stmt q = c.prepare("SELECT 1 FROM users WHERE id=?");
      q.args(owner_id);
      if (!q.step()) throw Error(ErrorCode::kNotFound, "user not found");
    }
    c.prepare("INSERT INTO apps(id, owner_id, name, created_at) VALUES (?,?,?,?)")
        .bind(1, a.id)
        .bind_opt(2, owner_id)
        .bind(3, name)
        .bind(4, a.created_at)
        .run();
  });
  return a;
}

App SqliteAccounts::get_app(const std::string& app_id) {
  check_id(app_id, "app");
  App a;
  ctx_.read_tx([&](Conn& c) {
    Stmt s = c.prepare("SELECT id, coalesce(owner_id, ''), name, created_at FROM apps WHERE id=?");
    s.args(app_id);
    if (!s.step()) throw Error(ErrorCode::kNotFound, "app not found");
    a = app_from(s);
  });
  return a;
}

Page<App> SqliteAccounts::list_apps(const std::string& owner_id, int limit, const std::string& cursor) {
  return ctx_.page<App>(
      "SELECT id, coalesce(owner_id, ''), name, created_at, seq FROM apps WHERE owner_id=? AND seq>? "
      "ORDER BY seq LIMIT ?",
      limit, cursor, 4, app_from, owner_id);
}

MintedKey SqliteAccounts::create_key(const std::string& app_id, const std::string& type, const std::string& mode,
                                     const std::string& name) {
  if (type != "secret" && type != "publishable") throw Error(ErrorCode::kBadInput, "type: \"secret\" or \"publishable\"");
  if (mode != "test" && mode != "live") throw Error(ErrorCode::kBadInput, "mode: \"test\" or \"live\"");
  if (name.size() > 200) throw Error(ErrorCode::kBadInput, "name: at most 200 characters");
  check_id(app_id, "app");
  MintedKey m;
  m.info.prefix = std::string(type == "secret" ? "sk_" : "pk_") + mode + "_";
  m.key = m.info.prefix + auth::random_token(32);  // 256 random bits
  m.info.id = auth::uuid4();
  m.info.app_id = app_id;
  m.info.type = type;
  m.info.mode = mode;
  m.info.name = name;
  m.info.last4 = m.key.substr(m.key.size() - 4);
  m.info.created_at = now_rfc3339();
  std::string hash = ctx_.keyed(m.key);
  ctx_.write_tx([&](Conn& c) {
    Stmt q = c.prepare("SELECT 1 FROM apps WHERE id=?");
    q.args(app_id);
    if (!q.step()) throw Error(ErrorCode::kNotFound, "app not found");
    c.prepare("INSERT INTO keys(id, app_id, type, mode, name, prefix, last4, hash, created_at) VALUES (?,?,?,?,?,?,?,?,?)")
        .args(m.info.id, app_id, type, mode, name, m.info.prefix, m.info.last4)
        .bind_blob(8, hash)
        .bind(9, m.info.created_at)
        .run();
  });
  return m;
}

Page<KeyInfo> SqliteAccounts::list_keys(const std::string& app_id, int limit, const std::string& cursor) {
  return ctx_.page<KeyInfo>("SELECT " KEY_COLS ", seq FROM keys WHERE app_id=? AND seq>? ORDER BY seq LIMIT ?", limit,
                            cursor, 10, key_from, app_id);
}

KeyInfo SqliteAccounts::revoke_key(const std::string& app_id, const std::string& key_id) {
  check_id(key_id, "key");
  KeyInfo k;
  ctx_.write_tx([&](Conn& c) {
    c.prepare("UPDATE keys SET revoked_at=? WHERE id=? AND app_id=? AND revoked_at IS NULL")
        .args(now_rfc3339(), key_id, app_id)
        .run();
    Stmt s = c.prepare("SELECT " KEY_COLS " FROM keys WHERE id=? AND app_id=?");
    s.args(key_id, app_id);
    if (!s.step()) throw Error(ErrorCode::kNotFound, "key not found");
    k = key_from(s);
  });
  return k;
}

KeyInfo SqliteAccounts::verify_key(const std::string& key) {
  if (key.empty() || key.size() > 200) throw Error(ErrorCode::kUnauthorized, "invalid key");
  std::string hash = ctx_.keyed(key);
  KeyInfo k;
  std::int64_t last_used = 0;
  std::string stored;
  ctx_.read_tx([&](Conn& c) {
    Stmt s = c.prepare("SELECT " KEY_COLS ", last_used_unix, hash FROM keys WHERE hash=?");
    s.bind_blob(1, hash);
    if (s.step()) {
      k = key_from(s);
      last_used = s.i64(10);
      stored = s.blob(11);
    }
  });
  if (!auth::equal_ct(stored, hash) || k.id.empty()) throw Error(ErrorCode::kUnauthorized, "invalid key");
  if (!k.revoked_at.empty()) throw Error(ErrorCode::kUnauthorized, "the key was revoked");
  std::int64_t now = unix_now();
  if (now - last_used >= 60 && !ctx_.options().read_only) {  // touch at most once a minute
    k.last_used_at = now_rfc3339();
    ctx_.write_tx([&](Conn& c) {
      c.prepare("UPDATE keys SET last_used_at=?, last_used_unix=? WHERE id=?").args(k.last_used_at, now, k.id).run();
    });
  }
  return k;
}

UserToken SqliteAccounts::issue_user_token(const std::string& user_id, std::int64_t ttl_seconds) {
  if (ttl_seconds < 60 || ttl_seconds > 366 * 24 * 3600) {
    throw Error(ErrorCode::kBadInput, "ttl_seconds: between 60 seconds and 366 days");
  }
  get_user(user_id);  // kNotFound for an unknown user
  std::int64_t now = unix_now(), exp = now + ttl_seconds;
  Json claims = {{"sub", user_id}, {"iat", now}, {"exp", exp}, {"jti", auth::random_token(12)}};
  return UserToken{auth::seal("us_", versions::canonical(claims), ctx_.keyed(kUserTokenKey)),
                   store::format_time(exp, 0)};
}

User SqliteAccounts::verify_user_token(const std::string& token) {
  const Error bad(ErrorCode::kUnauthorized, "the user token is invalid or expired");
  std::string key = ctx_.keyed(kUserTokenKey);
  auto claims = auth::open_signed(token, "us_", [&](const Json&) { return key; });
  if (!claims) throw bad;
  auto sub = claims->find("sub");
  auto exp = claims->find("exp");
  if (sub == claims->end() || !sub->is_string() || exp == claims->end() || !exp->is_number_integer()) throw bad;
  if (exp->get<std::int64_t>() <= unix_now()) throw bad;
  try {
    return get_user(sub->get<std::string>());
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kNotFound) throw bad;
    throw;
  }
}

}  // namespace conjure::sqlite
