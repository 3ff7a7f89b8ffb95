#include "conjure/infer/wordpiece.hpp"

#include <algorithm>
#include <fstream>

#include "infer/bert_unicode.hpp"

namespace conjure::infer {
namespace bu = bert_unicode;
namespace {

template <class T>
const T* find_range(const T* first, std::size_t n, char32_t cp) {
  const T* end = first + n;
  const T* it = std::upper_bound(first, end, cp, [](char32_t c, const T& r) { return c < r.first; });
  if (it == first) return nullptr;
  --it;
  return cp <= it->last ? it : nullptr;
}

unsigned char kind_of(char32_t cp) {
  const bu::Range* r = find_range(bu::kKindRanges, bu::kKindRangeCount, cp);
  if (r) return r->value;
  const bu::MapEntry* end = bu::kMapEntries + bu::kMapEntryCount;
  const bu::MapEntry* m =
      std::lower_bound(bu::kMapEntries, end, cp, [](const bu::MapEntry& e, char32_t c) { return e.cp < c; });
  return (m != end && m->cp == cp) ? bu::kMap : bu::kKeep;
}

unsigned char split_of(char32_t cp) {
  if (cp == U' ') return bu::kWhitespace;
  const bu::Range* r = find_range(bu::kSplitRanges, bu::kSplitRangeCount, cp);
  return r ? r->value : bu::kNone;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Decodes one code point at text[i]; returns its length, or 0 when the bytes are not UTF-8
// (overlong forms, surrogates and values past U+10FFFF included).
std::size_t decode(std::string_view text, std::size_t i, char32_t& cp) {
  const auto b0 = static_cast<unsigned char>(text[i]);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  std::size_t len;
  char32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(text[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

[[noreturn]] void throw_invalid(std::size_t offset) {
  throw InvalidUtf8(offset, "text is not valid UTF-8 (at byte " + std::to_string(offset) + ")");
}

}  // namespace

WordPieceTokenizer WordPieceTokenizer::from_vocab_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read the vocabulary " + path);
  std::vector<std::string> vocab;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    vocab.push_back(line);
  }
  return WordPieceTokenizer(std::move(vocab));
}

WordPieceTokenizer::WordPieceTokenizer(std::vector<std::string> vocab) {
  vocab_.reserve(vocab.size());
  for (std::size_t i = 0; i < vocab.size(); ++i) vocab_.emplace(std::move(vocab[i]), static_cast<std::int32_t>(i));
  auto id = [&](const char* name) {
    auto it = vocab_.find(std::string_view(name));
    if (it == vocab_.end()) throw std::runtime_error(std::string("the vocabulary has no ") + name + " token");
    return it->second;
  };
  cls_ = id("[CLS]");
  sep_ = id("[SEP]");
  unk_ = id("[UNK]");
  pad_ = id("[PAD]");
}

template <class OnWord>
void WordPieceTokenizer::split(std::string_view text, OnWord&& on_word) const {
  std::string word;
  std::size_t chars = 0;
  bool going = true;
  auto flush = [&] {
    if (going && chars > 0) going = on_word(std::string_view(word), chars);
    word.clear();
    chars = 0;
  };
  auto emit = [&](char32_t c) {
    if (!going) return;
    switch (split_of(c)) {
      case bu::kWhitespace:
        flush();
        break;
      case bu::kPunct: {
        flush();
        append_utf8(word, c);
        chars = 1;
        flush();
        break;
      }
      default:
        append_utf8(word, c);
        ++chars;
    }
  };
  std::size_t i = 0;
  while (i < text.size()) {
    char32_t cp;
    const std::size_t n = decode(text, i, cp);
    if (n == 0) throw_invalid(i);
    i += n;
    if (!going) continue;  // still validate the rest
    switch (kind_of(cp)) {
      case bu::kKeep:
        emit(cp);
        break;
      case bu::kDrop:
        break;
      case bu::kSpace:
        emit(U' ');
        break;
      case bu::kCjk:
        emit(U' ');
        emit(cp);
        emit(U' ');
        break;
      default: {
        const bu::MapEntry* m = std::lower_bound(
            bu::kMapEntries, bu::kMapEntries + bu::kMapEntryCount, cp,
            [](const bu::MapEntry& e, char32_t c) { return e.cp < c; });
        for (std::uint32_t k = 0; k < m->length; ++k) emit(bu::kMapData[m->offset + k]);
      }
    }
  }
  flush();
}

void WordPieceTokenizer::word_pieces(std::string_view word, std::size_t chars,
                                     std::vector<std::int32_t>& out) const {
  if (chars > kMaxCharsPerWord) {
    out.push_back(unk_);
    return;
  }
  // Byte offsets of the code point boundaries (the word is valid UTF-8: we wrote it).
  std::vector<std::size_t> cuts;
  cuts.reserve(chars + 1);
  for (std::size_t i = 0; i < word.size(); ++i)
    if ((static_cast<unsigned char>(word[i]) & 0xC0) != 0x80) cuts.push_back(i);
  cuts.push_back(word.size());
  const std::size_t mark = out.size();
  std::string key;
  std::size_t start = 0;  // index into cuts
  while (start + 1 < cuts.size()) {
    std::int32_t found = -1;
    std::size_t end = cuts.size() - 1;
    for (; end > start; --end) {
      key.assign(start > 0 ? "##" : "");
      key.append(word.substr(cuts[start], cuts[end] - cuts[start]));
      auto it = vocab_.find(std::string_view(key));
      if (it != vocab_.end()) {
        found = it->second;
        break;
      }
    }
    if (found < 0) {
      out.resize(mark);
      out.push_back(unk_);
      return;
    }
    out.push_back(found);
    start = end;
  }
}

std::vector<std::int32_t> WordPieceTokenizer::encode(std::string_view text, std::size_t max_len) const {
  if (max_len < 2) throw std::invalid_argument("max_len must leave room for [CLS] and [SEP]");
  const std::size_t limit = max_len - 2;
  std::vector<std::int32_t> ids;
  ids.push_back(cls_);
  split(text, [&](std::string_view word, std::size_t chars) {
    word_pieces(word, chars, ids);
    return ids.size() - 1 < limit;
  });
  if (ids.size() - 1 > limit) ids.resize(limit + 1);
  ids.push_back(sep_);
  return ids;
}

std::vector<std::string> WordPieceTokenizer::basic_tokens(std::string_view text) const {
  std::vector<std::string> words;
  split(text, [&](std::string_view word, std::size_t) {
    words.emplace_back(word);
    return true;
  });
  return words;
}

}  // namespace conjure::infer
