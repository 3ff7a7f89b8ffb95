// The BERT WordPiece tokenizer (uncased): the basic-tokenizer rules (clean text, CJK spacing,
// accent stripping, lowercasing, whitespace and punctuation split) then greedy longest-match
// word pieces. Torch-free, so it lives in libconjure and is tested under the sanitizers.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace conjure::infer {

// Text that is not valid UTF-8; `offset` is the byte where decoding failed.
class InvalidUtf8 : public std::invalid_argument {
 public:
  InvalidUtf8(std::size_t offset, const std::string& what) : std::invalid_argument(what), offset(offset) {}
  std::size_t offset;
};

class WordPieceTokenizer {
 public:
  // One token a line, the line number its id (BERT's vocab.txt). Throws std::runtime_error
  // when the file is missing or lacks [CLS], [SEP], [UNK] or [PAD].
  static WordPieceTokenizer from_vocab_file(const std::string& path);
  explicit WordPieceTokenizer(std::vector<std::string> vocab);

  // [CLS] pieces... [SEP], at most max_len ids in all (pieces past max_len - 2 are cut, as the
  // reference truncates). The whole text is validated as UTF-8 even where it is cut; throws
  // InvalidUtf8 otherwise.
  std::vector<std::int32_t> encode(std::string_view text, std::size_t max_len) const;
  // The words after normalisation and splitting, before word pieces (tests, diagnostics).
  std::vector<std::string> basic_tokens(std::string_view text) const;

  std::int32_t cls_id() const { return cls_; }
  std::int32_t sep_id() const { return sep_; }
  std::int32_t unk_id() const { return unk_; }
  std::int32_t pad_id() const { return pad_; }
  std::size_t vocab_size() const { return vocab_.size(); }

  static constexpr std::size_t kMaxCharsPerWord = 100;

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  // Calls on_word(word, chars) for each word; stops early when it returns false.
  template <class OnWord>
  void split(std::string_view text, OnWord&& on_word) const;
  // Appends the word's pieces to out; false when the word is [UNK].
  void word_pieces(std::string_view word, std::size_t chars, std::vector<std::int32_t>& out) const;

  std::unordered_map<std::string, std::int32_t, Hash, std::equal_to<>> vocab_;
  std::int32_t cls_ = -1, sep_ = -1, unk_ = -1, pad_ = -1;
};

}  // namespace conjure::infer
