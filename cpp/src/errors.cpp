#include "conjure/errors.hpp"

namespace conjure {

const char* error_code_name(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kBadInput: return "bad_input";
    case ErrorCode::kParse: return "parse_error";
    case ErrorCode::kLimit: return "limit";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kConflict: return "conflict";
    case ErrorCode::kGateFailed: return "gate_failed";
    case ErrorCode::kQuotaExceeded: return "quota_exceeded";
    case ErrorCode::kUnauthorized: return "unauthorized";
    case ErrorCode::kForbidden: return "forbidden";
    case ErrorCode::kStorage: return "storage";
    case ErrorCode::kInternal: return "internal";
    case ErrorCode::kCapacity: return "concurrency_cap";
  }
  return "internal";
}

}  // namespace conjure
