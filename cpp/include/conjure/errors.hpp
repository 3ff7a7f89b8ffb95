// One error-code enum for the whole core. Bindings map it once to Python
// exceptions; the HTTP layer maps it once to a status and a `code`.
#pragma once
#include <cstddef>
#include <stdexcept>
#include <string>

namespace conjure {

enum class ErrorCode : int {
  kBadInput = 1,   // a request that is malformed (wrong type, empty ops, bad op shape)
  kParse,          // a document that is not valid JSON / UTF-8 (has a position)
  kLimit,          // a size or nesting limit was passed
  kNotFound,       // unknown id / name
  kConflict,       // rev mismatch, already exists
  kGateFailed,     // the kernel gate refused the world
  kQuotaExceeded,  // over a meter's limit
  kUnauthorized,   // no or bad credential
  kForbidden,      // credential lacks the right
  kStorage,        // storage fault: corrupt/foreign file, disk full, read-only
  kInternal,       // a real fault in the core
  kCapacity,       // a concurrency cap is full (per app or global): try again later
};

// Stable snake_case name of a code ("bad_input", "parse_error", ...).
const char* error_code_name(ErrorCode code) noexcept;

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message, std::size_t offset = npos)
      : std::runtime_error(message), code_(code), offset_(offset) {}
  ErrorCode code() const noexcept { return code_; }
  // Byte offset into the input for parse errors, npos otherwise.
  std::size_t offset() const noexcept { return offset_; }
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

 private:
  ErrorCode code_;
  std::size_t offset_;
};

}  // namespace conjure
