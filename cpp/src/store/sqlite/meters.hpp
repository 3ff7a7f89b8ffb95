// Internal: usage meters on SQLite. reserve_in / settle_in run inside another
// unit's transaction (a session admits and settles its minutes atomically).
#pragma once
#include "conjure/store/meters.hpp"
#include "store/sqlite/context.hpp"

namespace conjure::sqlite {

// Reserves r.amount of r.meter (kQuotaExceeded when it would pass the limit).
void reserve_in(Context& ctx, Conn& c, const Reservation& r);
// Commits (or refunds) a held reservation: charges `used` (-1: all) and releases the rest.
MeterState settle_in(Context& ctx, Conn& c, const std::string& reservation_id, std::int64_t used, bool refund);

class SqliteMeters : public virtual MeterStore {
 public:
  explicit SqliteMeters(Context& ctx) : ctx_(ctx) {}

  Reservation meter_reserve(const std::string& app_id, const std::string& meter, std::int64_t amount,
                            const std::string& day) override;
  MeterState meter_commit(const std::string& reservation_id, std::int64_t used) override;
  MeterState meter_refund(const std::string& reservation_id) override;
  std::vector<MeterState> meter_usage(const std::string& app_id, const std::string& day) override;
  void set_meter_limit(const std::string& app_id, const std::string& meter, std::int64_t limit) override;

 private:
  MeterState settle(const std::string& reservation_id, std::int64_t used, bool refund);

  Context& ctx_;
};

}  // namespace conjure::sqlite
