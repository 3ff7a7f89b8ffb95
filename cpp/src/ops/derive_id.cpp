// derive_state_id: a readable, fresh state id from prose (docs/ops.md, "Ids").
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "conjure/ops/ops.hpp"
#include "kernel/text.hpp"
#include "ops/internal.hpp"

namespace conjure {
namespace ops_detail {
namespace {

// Words dropped wherever they stand.
constexpr std::string_view kDeterminers[] = {
    "a",    "an",   "the",  "this", "these", "those", "some",  "its",  "his",  "her",
    "their", "our", "my",   "your", "each",  "every", "any",   "another", "such", "thy"};

// Words that end the head phrase once it has a word (skipped before that).
constexpr std::string_view kBreakers[] = {
    "of",      "in",     "at",      "on",      "with",    "by",      "from",   "to",
    "under",   "over",   "into",    "onto",    "near",    "beside",  "behind", "above",
    "below",   "beneath", "inside", "outside", "through", "across",  "along",  "among",
    "between", "for",    "against", "around",  "toward",  "towards", "upon",   "within",
    "without", "beyond", "past",    "before",  "after",   "during",  "like",   "via",
    "amid",    "amidst", "underneath", "atop", "and",     "or",      "but",    "where",
    "while",   "that",   "which",   "who",     "whose",   "as",      "when",   "than",
    "then",    "is",     "are",     "was",     "were",    "has"};

template <std::size_t N>
bool is_one_of(const std::string& w, const std::string_view (&list)[N]) {
  for (std::string_view s : list)
    if (w == s) return true;
  return false;
}

// ASCII spelling of a Latin-1 Supplement / Latin Extended-A letter, "" when none.
std::string_view transliterate(std::uint32_t cp) {
  if (cp >= 0xC0 && cp <= 0xFF) {
    static constexpr std::array<std::string_view, 64> kLatin1 = {
        "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",
        "d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "ss",
        "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",
        "d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "y"};
    return kLatin1[cp - 0xC0];
  }
  struct Range {
    std::uint32_t last;
    std::string_view ascii;
  };
  // Latin Extended-A in ranges of one base letter (each entry: last code point).
  static constexpr Range kExtA[] = {{0x105, "a"},  {0x10D, "c"}, {0x111, "d"},
                                                   {0x11B, "e"},  {0x123, "g"}, {0x127, "h"},
                                                   {0x131, "i"},  {0x133, "ij"}, {0x135, "j"},
                                                   {0x138, "k"},  {0x142, "l"}, {0x14B, "n"},
                                                   {0x151, "o"},  {0x153, "oe"}, {0x159, "r"},
                                                   {0x161, "s"},  {0x167, "t"}, {0x173, "u"},
                                                   {0x175, "w"},  {0x178, "y"}, {0x17E, "z"},
                                                   {0x17F, "s"}};
  if (cp >= 0x100 && cp <= 0x17F) {
    for (const Range& r : kExtA)
      if (cp <= r.last) return r.ascii;
  }
  return {};
}

}  // namespace

std::string slug_from_prose(std::string_view prose) {
  constexpr std::size_t kMaxSlug = 48;  // leaves room for "-<n>" within 64 chars
  std::vector<std::string> phrase;      // head-phrase words collected so far
  std::string word;
  bool phrase_done = false;             // a breaker ended the current phrase
  std::size_t slot_depth = 0;           // inside a {slot} reference

  auto end_word = [&] {
    while (!word.empty() && word.back() == '-') word.pop_back();
    if (word.empty()) return;
    if (!phrase_done && !is_one_of(word, kDeterminers)) {
      if (is_one_of(word, kBreakers)) {
        if (!phrase.empty()) phrase_done = true;
      } else {
        phrase.push_back(word);
      }
    }
    word.clear();
  };
  // Returns true when the phrase just ended yields the slug.
  auto end_phrase = [&] {
    end_word();
    if (!phrase.empty()) return true;
    phrase_done = false;
    return false;
  };

  std::size_t i = 0;
  while (i < prose.size()) {
    std::uint32_t cp = kernel::text::next_cp(prose, i);
    if (cp == '{') {
      end_word();
      ++slot_depth;
      continue;
    }
    if (cp == '}') {
      if (slot_depth > 0) --slot_depth;
      continue;
    }
    if (slot_depth > 0) continue;
    if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) {
      word.push_back(static_cast<char>(cp));
    } else if (cp >= 'A' && cp <= 'Z') {
      word.push_back(static_cast<char>(cp - 'A' + 'a'));
    } else if (cp == '\'' || cp == 0x2019) {
      // apostrophes vanish inside words ("smith's" -> "smiths")
    } else if (cp == '-') {
      if (!word.empty() && word.back() != '-') word.push_back('-');
    } else if (cp == ',' || cp == '.' || cp == ';' || cp == ':' || cp == '!' || cp == '?' ||
               cp == '(' || cp == ')' || cp == '[' || cp == ']' || cp == '"' || cp == '\n' ||
               cp == '\r' || cp == 0x2013 || cp == 0x2014 || cp == 0x2026) {
      if (end_phrase()) break;
    } else if (cp < 0x80) {
      end_word();  // space, tab and other ASCII punctuation separate words
    } else {
      std::string_view ascii = transliterate(cp);
      if (!ascii.empty()) word.append(ascii);  // other letters and symbols are dropped
    }
    if (word.size() > 256) word.resize(256);  // a word this long is not a noun
  }
  end_phrase();
  if (phrase.empty()) return {};
  std::string slug = phrase.back();
  if (slug.size() > kMaxSlug) slug.resize(kMaxSlug);
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  return slug;
}

std::string utf8_prefix(const std::string& text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return text.substr(0, n);
}

}  // namespace ops_detail

std::string derive_state_id(const Json& world, const std::string& prose) {
  std::string base = ops_detail::slug_from_prose(prose);
  if (base.empty()) base = "state";
  const Json* states = nullptr;
  if (world.is_object()) {
    auto scene = world.find("scene");
    if (scene != world.end() && scene->is_object()) {
      auto st = scene->find("states");
      if (st != scene->end() && st->is_object()) states = &*st;
    }
  }
  auto taken = [states](const std::string& id) { return states != nullptr && states->contains(id); };
  return ops_detail::fresh_id(base, "-", taken, nullptr);
}

}  // namespace conjure
