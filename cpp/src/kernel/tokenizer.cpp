// "conjure-words-v1": the default token counter of the `budget` lint, a
// deterministic approximation of a CLIP-style BPE. The rule (docs/lints.md):
// whitespace costs nothing; a word (a run of letters and digits, with an
// apostrophe between two of them belonging to the word) costs one token per
// started 8 code points; every other character costs one token.
#include "conjure/kernel/tokenizer.hpp"

#include "kernel/text.hpp"

namespace conjure {

namespace {

class WordsV1 final : public Tokenizer {
 public:
  std::string_view name() const override { return "conjure-words-v1"; }

  std::size_t count(std::string_view s) const override {
    using kernel::text::CharClass;
    std::size_t tokens = 0;
    std::size_t word = 0;  // code points in the current word
    std::size_t i = 0;
    auto end_word = [&] {
      if (word) tokens += (word + 7) / 8;
      word = 0;
    };
    while (i < s.size()) {
      CharClass c = kernel::text::classify(kernel::text::next_cp(s, i));
      if (c == CharClass::kWord) {
        ++word;
        // The rest of a run of ASCII letters and digits, without decoding.
        const std::size_t run = i;
        while (i < s.size() && kernel::text::kAsciiWordLower[static_cast<unsigned char>(s[i])] != 0) ++i;
        word += i - run;
        continue;
      }
      if (c == CharClass::kApostrophe && word > 0 && i < s.size()) {
        std::size_t j = i;
        if (kernel::text::classify(kernel::text::next_cp(s, j)) == CharClass::kWord) {
          ++word;
          continue;
        }
      }
      end_word();
      if (c != CharClass::kSpace) ++tokens;
    }
    end_word();
    return tokens;
  }
};

}  // namespace

const Tokenizer& default_tokenizer() {
  static const WordsV1 instance;
  return instance;
}

}  // namespace conjure
