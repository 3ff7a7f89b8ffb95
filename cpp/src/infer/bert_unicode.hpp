// Per-code-point rules of the BERT normaliser and pre-tokeniser, read off the reference
// tokenizer by gen_bert_unicode.py (see there for what each kind means).
#pragma once
#include <cstddef>
#include <cstdint>

namespace conjure::infer::bert_unicode {

enum Kind : unsigned char { kKeep = 0, kDrop = 1, kSpace = 2, kCjk = 3, kMap = 4 };
enum Split : unsigned char { kNone = 0, kWhitespace = 1, kPunct = 2 };

struct Range {
  char32_t first;
  char32_t last;
  unsigned char value;
};
struct MapEntry {
  char32_t cp;
  std::uint32_t offset;  // into kMapData
  std::uint32_t length;
};

extern const Range kKindRanges[];
extern const std::size_t kKindRangeCount;
extern const MapEntry kMapEntries[];
extern const std::size_t kMapEntryCount;
extern const char32_t kMapData[];
extern const Range kSplitRanges[];
extern const std::size_t kSplitRangeCount;

}  // namespace conjure::infer::bert_unicode
