#include "store/sqlite/sessions.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "conjure/auth/crypto.hpp"
#include "conjure/auth/tokens.hpp"
#include "conjure/versions/snapshot.hpp"
#include "store/sqlite/meters.hpp"
#include "store/sqlite/world_rows.hpp"

namespace conjure::sqlite {

using store::format_time;
using store::unix_now;

namespace {

constexpr std::int64_t kConnectWindow = 60;
constexpr int kMaxSessionTtl = 3600;

std::string session_key_of_seed(const Context& ctx, const std::string& seed) {
  return ctx.keyed("conjure session key v1|" + seed);
}

std::string connect_hash(const Context& ctx, const std::string& token) { return ctx.keyed("connect|" + token); }

// Inserts a new current signing key (inside a write transaction); older keys
// are retired now and dropped once every token they signed has expired.
std::string add_session_key(Conn& c, std::int64_t now) {
  std::string kid = auth::random_token(6);
  c.prepare("UPDATE session_keys SET retired_unix=? WHERE retired_unix IS NULL").args(now).run();
  c.prepare("DELETE FROM session_keys WHERE retired_unix IS NOT NULL AND retired_unix<?")
      .args(now - kMaxSessionTtl - 60)
      .run();
  c.prepare("INSERT INTO session_keys(kid, seed, created_unix) VALUES (?,?,?)")
      .bind(1, kid)
      .bind_blob(2, auth::random_bytes(32))
      .bind(3, now)
      .run();
  return kid;
}

bool claims_from(const Json& j, SessionClaims* out) {
  auto str = [&](const char* k, std::string* v, bool required) {
    auto it = j.find(k);
    if (it == j.end()) return !required;
    if (!it->is_string()) return false;
    *v = it->get<std::string>();
    return !required || !v->empty();
  };
  auto exp = j.find("exp");
  if (exp == j.end() || !exp->is_number_integer()) return false;
  out->exp = exp->get<std::int64_t>();
  return str("app", &out->app, true) && str("mode", &out->mode, true) && str("world", &out->world, true) &&
         str("player", &out->player, true) && str("jti", &out->jti, true) && str("kid", &out->kid, true) &&
         str("origin", &out->origin, false);
}

void check_claims(const SessionClaims& c) {
  if (c.app.empty() || c.jti.empty() || c.world.empty() || c.player.empty() || (c.mode != "test" && c.mode != "live")) {
    throw Error(ErrorCode::kBadInput, "claims: the claims of a verified session token");
  }
}

#define SESSION_COLS                                                                                              \
  "id, app_id, mode, world_id, player_id, origin, status, expires_unix, coalesce(seconds_used, -1), reservation_id, " \
  "minutes, created_unix, coalesce(bound_unix, 0), seq, jti"  // columns 0-14; callers add theirs from 15

struct SessionRow {
  SessionInfo info;
  std::string reservation_id;
  std::int64_t minutes = 0, created_unix = 0, bound_unix = 0, expires_unix = 0, seq = 0;
};

SessionRow session_from(Stmt& s) {
  SessionRow r;
  r.info.id = s.text(0);
  r.info.app_id = s.text(1);
  r.info.mode = s.text(2);
  r.info.world_id = s.text(3);
  r.info.jti = s.text(14);
  r.info.player_id = s.text(4);
  r.info.origin = s.text(5);
  r.info.status = s.text(6);
  r.expires_unix = s.i64(7);
  r.info.expires_at = format_time(r.expires_unix, 0);
  r.info.seconds_used = s.i64(8);
  r.reservation_id = s.text(9);
  r.minutes = s.i64(10);
  r.created_unix = s.i64(11);
  r.bound_unix = s.i64(12);
  r.seq = s.i64(13);
  return r;
}

SessionRow load_session(Conn& c, const std::string& session_id, const SessionClaims* owner) {
  store::check_id(session_id, "session");
  Stmt s = c.prepare("SELECT " SESSION_COLS " FROM sessions WHERE id=?");
  s.args(session_id);
  if (!s.step()) throw Error(ErrorCode::kNotFound, "session not found");
  SessionRow r = session_from(s);
  if (owner && (owner->app != r.info.app_id || owner->mode != r.info.mode)) {
    throw Error(ErrorCode::kNotFound, "session not found");
  }
  return r;
}

// Settles a live session inside the caller's write transaction.
void settle_row(Context& ctx, Conn& c, SessionRow& r, std::int64_t seconds, const std::string& reason,
                std::int64_t now) {
  if (seconds < 0) seconds = std::max<std::int64_t>(0, std::min(now, r.expires_unix) - r.created_unix);
  std::int64_t used_minutes = std::min(r.minutes, (seconds + 59) / 60);
  settle_in(ctx, c, r.reservation_id, used_minutes, false);
  c.prepare(
       "UPDATE sessions SET status='settled', settled_unix=?, seconds_used=?, settle_reason=?, connect_hash=NULL "
       "WHERE seq=?")
      .args(now, seconds, reason, r.seq)
      .run();
  r.info.status = "settled";
  r.info.seconds_used = seconds;
}

}  // namespace

std::string SqliteSessions::rotate_session_key() {
  std::string kid;
  ctx_.write_tx([&](Conn& c) { kid = add_session_key(c, unix_now()); });
  std::lock_guard<std::mutex> lock(keys_mu_);
  session_keys_.clear();  // re-read: retirements may have dropped keys
  return kid;
}

std::string SqliteSessions::session_key(const std::string& kid) {
  if (kid.empty() || kid.size() > 64) return {};
  {
    std::lock_guard<std::mutex> lock(keys_mu_);
    auto it = session_keys_.find(kid);
    if (it != session_keys_.end()) return it->second;
  }
  std::string seed;
  ctx_.read_tx([&](Conn& c) {
    Stmt s = c.prepare("SELECT seed FROM session_keys WHERE kid=?");
    s.args(kid);
    if (s.step()) seed = s.blob(0);
  });
  if (seed.empty()) return {};
  std::string key = session_key_of_seed(ctx_, seed);
  std::lock_guard<std::mutex> lock(keys_mu_);
  if (session_keys_.size() >= 64) session_keys_.clear();
  session_keys_[kid] = key;
  return key;
}

SessionToken SqliteSessions::mint_session_token(const Scope& scope, const std::string& world_id,
                                                const std::string& player_id, const std::string& origin,
                                                int ttl_seconds) {
  store::check_scope(scope);
  if (ttl_seconds < 1 || ttl_seconds > kMaxSessionTtl) throw Error(ErrorCode::kBadInput, "ttlSeconds: 1-3600");
  if (player_id.empty() || player_id.size() > 200) throw Error(ErrorCode::kBadInput, "playerId: 1-200 characters");
  if (origin.size() > 2048) throw Error(ErrorCode::kBadInput, "origin: at most 2048 characters");
  std::string kid, seed;
  auto current = [&](Conn& c) {
    Stmt s = c.prepare("SELECT kid, seed FROM session_keys ORDER BY seq DESC LIMIT 1");
    if (s.step()) {
      kid = s.text(0);
      seed = s.blob(1);
    }
  };
  ctx_.read_tx([&](Conn& c) {
    load_world(ctx_, c, scope, world_id, false);
    current(c);
  });
  if (kid.empty()) {  // the first mint: generate the first key (once, whoever wins)
    ctx_.write_tx([&](Conn& c) {
      current(c);
      if (kid.empty()) add_session_key(c, unix_now());
      current(c);
    });
  }
  std::int64_t exp = unix_now() + ttl_seconds;
  SessionToken out;
  out.jti = auth::random_token(16);
  Json claims = {{"app", scope.app_id}, {"mode", scope.mode}, {"world", world_id}, {"player", player_id},
                 {"exp", exp},          {"jti", out.jti},     {"kid", kid}};
  if (!origin.empty()) claims["origin"] = origin;
  out.token = auth::seal("st_", versions::canonical(claims), session_key_of_seed(ctx_, seed));
  out.expires_at = format_time(exp, 0);
  return out;
}

SessionClaims SqliteSessions::verify_session_token(const std::string& token, const std::string& origin,
                                                   std::int64_t now_unix) {
  const Error bad(ErrorCode::kUnauthorized, "the session token is invalid or expired");
  auto claims = auth::open_signed(token, "st_", [&](const Json& c) {
    auto kid = c.find("kid");
    return kid != c.end() && kid->is_string() ? session_key(kid->get<std::string>()) : std::string();
  });
  SessionClaims out;
  if (!claims || !claims_from(*claims, &out)) throw bad;
  if (out.exp <= (now_unix ? now_unix : unix_now())) throw bad;
  if (!out.origin.empty() && !auth::equal_ct(out.origin, origin)) {
    throw Error(ErrorCode::kForbidden, "origin_mismatch: the session token is bound to another origin");
  }
  return out;
}

AdmittedSession SqliteSessions::admit_session(const SessionClaims& claims, int app_cap, int global_cap, int minutes) {
  check_claims(claims);
  if (app_cap < 0 || global_cap < 0) throw Error(ErrorCode::kBadInput, "caps: non-negative numbers");
  if (minutes < 1 || minutes > 24 * 60) throw Error(ErrorCode::kBadInput, "minutes: 1-1440");
  std::int64_t now = unix_now();
  if (claims.exp <= now) throw Error(ErrorCode::kUnauthorized, "the session token is invalid or expired");
  AdmittedSession out;
  out.session_id = auth::uuid4();
  out.connect_token = "ct_" + auth::random_token(32);
  std::int64_t expires = std::min<std::int64_t>(claims.exp, now + 60 * static_cast<std::int64_t>(minutes));
  std::int64_t connect_expires = std::min(now + kConnectWindow, expires);
  out.expires_at = format_time(expires, 0);
  out.connect_expires_at = format_time(connect_expires, 0);
  ctx_.write_tx([&](Conn& c) {
    load_world(ctx_, c, Scope{claims.app, claims.mode}, claims.world, false);
    {
      Stmt s = c.prepare("SELECT 1 FROM sessions WHERE jti=? AND status<>'settled'");
      s.args(claims.jti);
      if (s.step()) {
        throw Error(ErrorCode::kConflict, "session_active: this session token already has a live session; settle it first");
      }
    }
    auto count = [&](const char* sql, const std::string* app) {
      Stmt s = c.prepare(sql);
      if (app) s.args(*app);
      return s.step() ? s.i64(0) : 0;
    };
    std::int64_t app_live = count("SELECT count(*) FROM sessions WHERE app_id=? AND status<>'settled'", &claims.app);
    if (app_live >= app_cap) {
      throw Error(ErrorCode::kCapacity, "concurrency_cap: the app has " + std::to_string(app_live) +
                                            " live sessions, its cap; nothing was admitted");
    }
    std::int64_t all_live = count("SELECT count(*) FROM sessions WHERE status<>'settled'", nullptr);
    if (all_live >= global_cap) {
      throw Error(ErrorCode::kCapacity, "concurrency_cap: the server is at its cap of " + std::to_string(global_cap) +
                                            " live sessions; nothing was admitted");
    }
    Reservation r{auth::uuid4(), claims.app, "session_minutes", utc_day(), minutes};
    reserve_in(ctx_, c, r);
    c.prepare(
         "INSERT INTO sessions(id, app_id, mode, world_id, player_id, origin, jti, status, reservation_id, minutes, "
         "connect_hash, connect_expires_unix, created_unix, expires_unix, created_at) "
         "VALUES (?,?,?,?,?,?,?,'admitted',?,?,?,?,?,?,?)")
        .args(out.session_id, claims.app, claims.mode, claims.world, claims.player, claims.origin, claims.jti, r.id,
              minutes)
        .bind_blob(10, connect_hash(ctx_, out.connect_token))
        .bind(11, connect_expires)
        .bind(12, now)
        .bind(13, expires)
        .bind(14, now_rfc3339())
        .run();
  });
  return out;
}

SessionInfo SqliteSessions::consume_connect_token(const std::string& token, std::int64_t now_unix) {
  const Error bad(ErrorCode::kUnauthorized, "the connect token is invalid, used or expired");
  if (token.size() < 4 || token.size() > 200 || token.compare(0, 3, "ct_") != 0) throw bad;
  std::int64_t now = now_unix ? now_unix : unix_now();
  std::string hash = connect_hash(ctx_, token);
  SessionInfo out;
  ctx_.write_tx([&](Conn& c) {
    std::string stored;
    std::int64_t until = 0;
    {
      Stmt s = c.prepare("SELECT " SESSION_COLS ", connect_hash, connect_expires_unix FROM sessions WHERE connect_hash=?");
      s.bind_blob(1, hash);
      if (!s.step()) throw bad;
      out = session_from(s).info;
      stored = s.blob(15);
      until = s.i64(16);
    }
    if (!auth::equal_ct(stored, hash) || until <= now || out.status == "settled") throw bad;
    // Used once: the hash goes with this use.
    c.prepare("UPDATE sessions SET connect_hash=NULL WHERE id=?").args(out.id).run();
  });
  return out;
}

SessionInfo SqliteSessions::bind_session(const std::string& session_id, const SessionClaims& claims) {
  check_claims(claims);
  SessionInfo out;
  ctx_.write_tx([&](Conn& c) {
    SessionRow r = load_session(c, session_id, &claims);
    if (r.info.status == "settled") throw Error(ErrorCode::kConflict, "the session was settled");
    if (r.info.status == "admitted") {
      c.prepare("UPDATE sessions SET status='bound', bound_unix=? WHERE seq=?").args(unix_now(), r.seq).run();
      r.info.status = "bound";
    }
    out = r.info;
  });
  return out;
}

SessionInfo SqliteSessions::settle_session(const std::string& session_id, std::int64_t seconds_used,
                                           const SessionClaims* claims) {
  if (claims) check_claims(*claims);
  if (seconds_used > 366ll * 24 * 3600) throw Error(ErrorCode::kBadInput, "secondsUsed: too large");
  SessionInfo out;
  ctx_.write_tx([&](Conn& c) {
    SessionRow r = load_session(c, session_id, claims);
    if (r.info.status != "settled") settle_row(ctx_, c, r, seconds_used, "client", unix_now());
    out = r.info;
  });
  return out;
}

// An admitted session whose connect token was never used opened no socket: 0 seconds.
int SqliteSessions::settle_where(const std::string& where, std::int64_t now, const std::string& reason) {
  int n = 0;
  ctx_.write_tx([&](Conn& c) {
    std::vector<std::pair<SessionRow, bool>> rows;
    {
      std::string sql = "SELECT " SESSION_COLS ", connect_hash IS NOT NULL FROM sessions WHERE status<>'settled'" + where;
      Stmt s = c.prepare(sql.c_str());
      int params = static_cast<int>(std::count(where.begin(), where.end(), '?'));
      for (int i = 1; i <= params; ++i) s.bind(i, now);
      while (s.step()) {
        SessionRow r = session_from(s);
        bool unconnected = r.info.status == "admitted" && s.i64(15) != 0;
        rows.emplace_back(std::move(r), unconnected);
      }
    }
    for (auto& [r, unconnected] : rows) {
      settle_row(ctx_, c, r, unconnected ? 0 : -1, reason, now);
      ++n;
    }
  });
  return n;
}

int SqliteSessions::reap_sessions(std::int64_t now_unix) {
  std::int64_t now = now_unix ? now_unix : unix_now();
  return settle_where(
      " AND (expires_unix<=? OR (status='admitted' AND connect_hash IS NOT NULL AND connect_expires_unix<=?))", now,
      "reaped");
}

int SqliteSessions::settle_all_active(const std::string& reason) {
  if (reason.size() > 200) throw Error(ErrorCode::kBadInput, "reason: at most 200 characters");
  return settle_where("", unix_now(), reason.empty() ? "restart" : reason);
}

}  // namespace conjure::sqlite
