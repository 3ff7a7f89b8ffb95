// Usage meters: per app, per UTC day "YYYY-MM-DD" (an empty day is today).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace conjure {

struct MeterState {
  std::string meter;
  std::int64_t used = 0, reserved = 0, limit = 0;
};
struct Reservation {
  std::string id, app_id, meter, day;
  std::int64_t amount = 0;
};

class MeterStore {
 public:
  virtual ~MeterStore() = default;

  virtual Reservation meter_reserve(const std::string& app_id, const std::string& meter, std::int64_t amount,
                                    const std::string& day = "") = 0;
  // Moves the reservation to used; `used` (0..amount, -1 = all) is charged and the rest released.
  virtual MeterState meter_commit(const std::string& reservation_id, std::int64_t used = -1) = 0;
  virtual MeterState meter_refund(const std::string& reservation_id) = 0;
  virtual std::vector<MeterState> meter_usage(const std::string& app_id, const std::string& day = "") = 0;
  virtual void set_meter_limit(const std::string& app_id, const std::string& meter, std::int64_t limit) = 0;
};

}  // namespace conjure
