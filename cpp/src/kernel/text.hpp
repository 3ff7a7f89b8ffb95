// Private to the kernel: UTF-8 decoding and the character classes shared by the
// doctrine word scanner and the default tokenizer (docs/lints.md).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace conjure::kernel::text {

enum class CharClass : std::uint8_t { kSpace, kWord, kApostrophe, kPunct };

// Decodes one code point at s[i], advancing i. Invalid bytes decode as U+FFFD
// and consume one byte, so scanning always terminates.
inline char32_t next_cp(std::string_view s, std::size_t& i) noexcept {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    ++i;
    return c;
  }
  int len = (c >= 0xF0 && c < 0xF8) ? 4 : (c >= 0xE0) ? 3 : (c >= 0xC0) ? 2 : 0;
  if (len == 0 || i + len > s.size()) {
    ++i;
    return 0xFFFD;
  }
  char32_t cp = c & (0x7F >> len);
  for (int k = 1; k < len; ++k) {
    unsigned char d = static_cast<unsigned char>(s[i + k]);
    if ((d & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (d & 0x3F);
  }
  i += len;
  return cp;
}

// Whitespace separates; letters and digits (ASCII alphanumerics and any other
// code point that is not listed punctuation or space) build words; ' and U+2019
// are apostrophes; everything else is punctuation.
constexpr CharClass classify_ascii(char32_t cp) noexcept {
  if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f' || cp == '\v') {
    return CharClass::kSpace;
  }
  if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9')) {
    return CharClass::kWord;
  }
  if (cp == '\'') return CharClass::kApostrophe;
  if (cp < 0x20 || cp == 0x7F) return CharClass::kSpace;
  return CharClass::kPunct;
}

// classify_ascii of every code point below 0x80, looked up.
inline constexpr auto kAsciiClass = [] {
  std::array<CharClass, 128> t{};
  for (char32_t c = 0; c < 128; ++c) t[c] = classify_ascii(c);
  return t;
}();

// For each byte: the lower-cased ASCII letter or digit it is when it builds a word
// on its own (classify_ascii is kWord), else 0 (every other byte, UTF-8 included).
inline constexpr auto kAsciiWordLower = [] {
  std::array<char, 256> t{};
  for (char32_t c = 0; c < 128; ++c) {
    if (classify_ascii(c) != CharClass::kWord) continue;
    t[c] = static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
  }
  return t;
}();

inline CharClass classify(char32_t cp) noexcept {
  if (cp < 0x80) return kAsciiClass[cp];
  if (cp == 0x2019) return CharClass::kApostrophe;
  if (cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
      cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000 || cp == 0xFEFF) {
    return CharClass::kSpace;
  }
  if (cp < 0xA0) return CharClass::kSpace;  // C1 controls
  if ((cp >= 0xA1 && cp <= 0xBF) || cp == 0xD7 || cp == 0xF7 || (cp >= 0x2010 && cp <= 0x205E) ||
      (cp >= 0x2190 && cp <= 0x2BFF) || (cp >= 0x3001 && cp <= 0x303F) || cp == 0xFFFD ||
      (cp >= 0xFF01 && cp <= 0xFF0F) || (cp >= 0x1F000 && cp <= 0x1FAFF)) {
    return CharClass::kPunct;
  }
  return CharClass::kWord;
}

}  // namespace conjure::kernel::text
