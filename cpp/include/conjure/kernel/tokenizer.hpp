// The token counter behind the `budget` lint. A renderer with a real tokenizer
// implements this interface and passes it in GateOptions.
#pragma once
#include <cstddef>
#include <string_view>

namespace conjure {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  virtual std::string_view name() const = 0;
  // Number of tokens `utf8` costs. Must be deterministic and thread safe.
  virtual std::size_t count(std::string_view utf8) const = 0;
};

// The documented default ("conjure-words-v1", see docs/lints.md).
const Tokenizer& default_tokenizer();

}  // namespace conjure
