// libFuzzer target: arbitrary bytes -> run_gate_text with the default limits.
// The gate must never crash or hang; malformed or oversized input is a
// conjure::Error (parse or limit), anything else must come back as a result
// that holds the invariants in fuzz_check.hpp.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    conjure::GateResult result = conjure::run_gate_text(text);
    conjure_fuzz::check_gate_result(result);
  } catch (const conjure::Error& e) {
    conjure_fuzz::check_input_error(e);
  }
  return 0;
}
