// Usage meters (API.md "Quota"): per app, per UTC day, per meter name. The
// store keeps them: reserve -> commit | refund, atomically, never negative,
// never over the limit.
#pragma once
#include <array>
#include <string_view>

namespace conjure::quota {

inline constexpr std::array<std::string_view, 6> kMeters = {"generate", "edit",    "session",
                                                             "session_minutes", "say", "tts_seconds"};

bool is_meter(std::string_view name) noexcept;
// "YYYY-MM-DD" with a real month and day.
bool is_day(std::string_view day) noexcept;

}  // namespace conjure::quota
