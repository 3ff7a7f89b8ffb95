// What every part of the store interface shares: the caller's scope, a page of
// a keyset-paginated list, and the store's clock format.
#pragma once
#include <string>
#include <vector>

namespace conjure {

struct Scope {
  std::string app_id;
  std::string mode;  // "test" | "live"
};

template <class T>
struct Page {
  std::vector<T> data;
  std::string next_cursor;  // empty: no more
};

// RFC 3339 UTC timestamp with milliseconds, and today's UTC day (YYYY-MM-DD).
std::string now_rfc3339();
std::string utc_day();

}  // namespace conjure
