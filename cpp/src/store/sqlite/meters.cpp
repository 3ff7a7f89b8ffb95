#include "store/sqlite/meters.hpp"

#include "conjure/auth/crypto.hpp"
#include "conjure/quota/meters.hpp"

namespace conjure::sqlite {

using store::check_id;

namespace {

constexpr std::int64_t kMaxMeterAmount = 1'000'000'000'000;

std::int64_t meter_limit(Context& ctx, Conn& c, const std::string& app_id, const std::string& meter) {
  Stmt s = c.prepare("SELECT lim FROM meter_limits WHERE app_id=? AND meter=?");
  s.args(app_id, meter);
  return s.step() ? s.i64(0) : ctx.options().default_meter_limit;
}

MeterState meter_state(Context& ctx, Conn& c, const std::string& app_id, const std::string& day,
                       const std::string& meter) {
  MeterState m;
  m.meter = meter;
  m.limit = meter_limit(ctx, c, app_id, meter);
  Stmt s = c.prepare("SELECT used, reserved FROM meters WHERE app_id=? AND day=? AND meter=?");
  s.args(app_id, day, meter);
  if (s.step()) {
    m.used = s.i64(0);
    m.reserved = s.i64(1);
  }
  return m;
}

void check_meter(const std::string& meter) {
  if (!quota::is_meter(meter)) throw Error(ErrorCode::kBadInput, "meter: one of generate, edit, session, session_minutes");
}

std::string day_or_today(const std::string& day) {
  if (day.empty()) return utc_day();
  if (!quota::is_day(day)) throw Error(ErrorCode::kBadInput, "day: expected YYYY-MM-DD");
  return day;
}

}  // namespace

void reserve_in(Context& ctx, Conn& c, const Reservation& r) {
  MeterState m = meter_state(ctx, c, r.app_id, r.day, r.meter);
  if (m.used + m.reserved + r.amount > m.limit) {
    throw Error(ErrorCode::kQuotaExceeded, "quota exceeded: " + r.meter + " would reach " +
                                               std::to_string(m.used + m.reserved + r.amount) +
                                               " of a daily limit of " + std::to_string(m.limit) +
                                               "; nothing was charged");
  }
  c.prepare(
       "INSERT INTO meters(app_id, day, meter, used, reserved) VALUES (?,?,?,0,?) "
       "ON CONFLICT(app_id, day, meter) DO UPDATE SET reserved=reserved+excluded.reserved")
      .args(r.app_id, r.day, r.meter, r.amount)
      .run();
  c.prepare("INSERT INTO reservations(id, app_id, day, meter, amount, state, created_at) VALUES (?,?,?,?,?,'held',?)")
      .args(r.id, r.app_id, r.day, r.meter, r.amount, now_rfc3339())
      .run();
}

MeterState settle_in(Context& ctx, Conn& c, const std::string& reservation_id, std::int64_t used, bool refund) {
  std::string app_id, day, meter, state;
  std::int64_t amount = 0;
  {
    Stmt s = c.prepare("SELECT app_id, day, meter, amount, state FROM reservations WHERE id=?");
    s.args(reservation_id);
    if (!s.step()) throw Error(ErrorCode::kNotFound, "reservation not found");
    app_id = s.text(0);
    day = s.text(1);
    meter = s.text(2);
    amount = s.i64(3);
    state = s.text(4);
  }
  if (state != "held") throw Error(ErrorCode::kConflict, "the reservation was already " + state);
  std::int64_t charge = refund ? 0 : (used < 0 ? amount : used);
  if (charge > amount) throw Error(ErrorCode::kBadInput, "used: more than was reserved");
  c.prepare("UPDATE meters SET used=used+?, reserved=reserved-? WHERE app_id=? AND day=? AND meter=?")
      .args(charge, amount, app_id, day, meter)
      .run();
  c.prepare("UPDATE reservations SET state=?, charged=? WHERE id=?")
      .args(refund ? "refunded" : "committed", charge, reservation_id)
      .run();
  return meter_state(ctx, c, app_id, day, meter);
}

Reservation SqliteMeters::meter_reserve(const std::string& app_id, const std::string& meter, std::int64_t amount,
                                        const std::string& day) {
  check_id(app_id, "app");
  check_meter(meter);
  if (amount <= 0 || amount > kMaxMeterAmount) throw Error(ErrorCode::kBadInput, "amount: a positive number");
  Reservation r{auth::uuid4(), app_id, meter, day_or_today(day), amount};
  ctx_.write_tx([&](Conn& c) { reserve_in(ctx_, c, r); });
  return r;
}

MeterState SqliteMeters::settle(const std::string& reservation_id, std::int64_t used, bool refund) {
  check_id(reservation_id, "reservation");
  MeterState out;
  ctx_.write_tx([&](Conn& c) { out = settle_in(ctx_, c, reservation_id, used, refund); });
  return out;
}

MeterState SqliteMeters::meter_commit(const std::string& reservation_id, std::int64_t used) {
  return settle(reservation_id, used, false);
}

MeterState SqliteMeters::meter_refund(const std::string& reservation_id) { return settle(reservation_id, 0, true); }

std::vector<MeterState> SqliteMeters::meter_usage(const std::string& app_id, const std::string& day) {
  std::string d = day_or_today(day);
  std::vector<MeterState> out;
  ctx_.read_tx([&](Conn& c) {
    for (auto m : quota::kMeters) out.push_back(meter_state(ctx_, c, app_id, d, std::string(m)));
  });
  return out;
}

void SqliteMeters::set_meter_limit(const std::string& app_id, const std::string& meter, std::int64_t limit) {
  check_id(app_id, "app");
  check_meter(meter);
  if (limit < 0 || limit > kMaxMeterAmount) throw Error(ErrorCode::kBadInput, "limit: a non-negative number");
  ctx_.write_tx([&](Conn& c) {
    c.prepare("INSERT OR REPLACE INTO meter_limits(app_id, meter, lim) VALUES (?,?,?)").args(app_id, meter, limit).run();
  });
}

}  // namespace conjure::sqlite
