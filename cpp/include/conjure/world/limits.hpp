// Size limits of a world (WORLD.md §2 `limit`). All configurable.
#pragma once
#include <cstddef>

namespace conjure {

struct Limits {
  std::size_t max_states = 10000;
  std::size_t max_events = 50000;
  std::size_t max_prose_chars = 4000;           // per prose field, before and after slot filling
  std::size_t max_document_bytes = 2u << 20;    // 2 MiB of JSON text
  std::size_t max_depth = 64;                   // JSON nesting depth
  std::size_t budget_tokens = 77;               // per composed layer (see kernel/tokenizer.hpp)
};

}  // namespace conjure
