// Helpers shared by the op sources (not part of the public interface).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

#include "conjure/json.hpp"

namespace conjure::ops_detail {

// The slug rule of derive_state_id without the freshness step: "" when the
// prose yields no word.
std::string slug_from_prose(std::string_view prose);

// The first of `base`, `base<sep>2`, `base<sep>3`, ... that `taken` does not hold.
// `next` (optional) remembers, per base, the suffix to try first, so a batch of
// many ops deriving the same base stays linear.
template <class Taken>
std::string fresh_id(const std::string& base, const char* sep, const Taken& taken,
                     std::unordered_map<std::string, std::size_t>* next) {
  std::size_t n = 1;
  if (next != nullptr) {
    auto it = next->find(base);
    if (it != next->end()) n = it->second;
  }
  std::string id;
  for (;; ++n) {
    id = n == 1 ? base : base + sep + std::to_string(n);
    if (!taken(id)) break;
  }
  if (next != nullptr) (*next)[base] = n + 1;
  return id;
}

// Truncates UTF-8 text to at most `max_bytes` without cutting a code point.
std::string utf8_prefix(const std::string& text, std::size_t max_bytes);

}  // namespace conjure::ops_detail
