// Doctrine lints (negation, whiteout, intent, lethal-override) and `budget`.
// The word lists are data files (cpp/data/lints/<lint>.txt). Each field is
// scanned once into lower-cased words, each hashed as it is read; each word
// costs one probe of a flat table, and multi-word entries are checked only from
// their first word.
#include <algorithm>
#include <array>
#include <memory>

#include "conjure/embedded.hpp"
#include "kernel/model.hpp"
#include "kernel/text.hpp"

namespace conjure::kernel {

namespace {

enum Lint : std::uint8_t { kNegation, kWhiteout, kIntent, kLethal, kLintCount };
constexpr std::array<const char*, kLintCount> kLintIds = {"negation", "whiteout", "intent",
                                                           "lethal-override"};

// FNV-1a over the lower-cased bytes of a word.
constexpr std::uint64_t kHashBasis = 0xcbf29ce484222325ull;
constexpr std::uint64_t hash_step(std::uint64_t h, char ch) noexcept {
  return (h ^ static_cast<unsigned char>(ch)) * 0x100000001b3ull;
}

struct Word {
  std::size_t lo = 0, hi = 0;          // into the lower-cased buffer
  std::uint64_t hash = kHashBasis;     // of buf[lo, hi)
  std::size_t byte_start = 0, byte_end = 0;
  std::size_t cp_start = 0, cp_end = 0;
  bool joined = false;                 // only spaces/hyphens since the previous word
};

inline char lower_ascii(char ch) noexcept {
  return (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
}

// What scan_words saw besides the words.
struct ScanInfo {
  bool braces = false;     // a `{` or `}` (then the words are not the tokenizer's)
  // conjure-words-v1 tokens (docs/lints.md), meaningful when !braces: the
  // scanner's words are the tokenizer's (same classes, same apostrophe rule),
  // each one token per started 8 code points; every other character that is
  // not space costs one.
  std::size_t tokens = 0;
};

// Splits `s` into words (see text.hpp). Skips `{slot}` references and `{{`/`}}`
// escapes, which break phrases. Offsets in code points index a Python str.
ScanInfo scan_words(std::string_view s, std::string& buf, std::vector<Word>& words) {
  using text::CharClass;
  buf.resize(s.size());  // the lower-cased words never outgrow the text
  char* out = buf.data();
  std::size_t n = 0;     // bytes written to out
  words.clear();
  ScanInfo info;
  const std::size_t size = s.size();
  std::size_t i = 0, cp = 0;
  bool in_word = false, soft_gap = false;
  std::uint64_t hash = kHashBasis;  // of the open word's bytes so far
  auto put = [&](char ch) {
    out[n++] = ch;
    hash = hash_step(hash, ch);
  };
  // The open word is words.back() from open() to close().
  auto open = [&](std::size_t byte_start, std::size_t cp_start) {
    const bool joined = soft_gap && !words.empty();
    Word& w = words.emplace_back();
    w.lo = n;
    w.byte_start = byte_start;
    w.cp_start = cp_start;
    w.joined = joined;
    hash = kHashBasis;
    in_word = true;
  };
  auto close = [&](std::size_t byte_end, std::size_t cp_end) {
    if (!in_word) return;
    Word& w = words.back();
    w.hi = n;
    w.hash = hash;
    w.byte_end = byte_end;
    w.cp_end = cp_end;
    info.tokens += (cp_end - w.cp_start + 7) / 8;
    in_word = false;
    soft_gap = true;
  };
  while (i < size) {
    // A run of ASCII letters and digits, lower-cased and hashed without decoding.
    if (char ch = text::kAsciiWordLower[static_cast<unsigned char>(s[i])]) {
      if (!in_word) open(i, cp);
      std::size_t j = i;
      do {
        put(ch);
        ++j;
      } while (j < size && (ch = text::kAsciiWordLower[static_cast<unsigned char>(s[j])]) != 0);
      cp += j - i;
      i = j;
      continue;
    }
    std::size_t at = i, at_cp = cp;
    if (s[i] == '{' || s[i] == '}') {
      info.braces = true;
      std::size_t len = (i + 1 < size && s[i + 1] == s[i]) ? 2 : (s[i] == '{' ? slot_ref_length(s, i) : 0);
      if (len) {
        close(at, at_cp);
        soft_gap = false;
        i += len;
        cp += len;  // slot references and escapes are ASCII
        continue;
      }
    }
    char32_t c = text::next_cp(s, i);
    ++cp;
    CharClass k = text::classify(c);
    if (k == CharClass::kApostrophe && in_word && i < size) {
      std::size_t j = i;
      if (text::classify(text::next_cp(s, j)) == CharClass::kWord) {
        put('\'');
        continue;
      }
    }
    if (k == CharClass::kWord) {  // a letter beyond ASCII: its bytes as written
      if (!in_word) open(at, at_cp);
      for (std::size_t b = at; b < i; ++b) put(s[b]);
      continue;
    }
    close(at, at_cp);
    if (k != CharClass::kSpace) ++info.tokens;
    if (!(k == CharClass::kSpace || c == '-')) soft_gap = false;
  }
  close(size, cp);
  buf.resize(n);
  return info;
}


// Whether `w` ends with `suffix` (a short word-list suffix): a plain loop, no library call.
inline bool ends_with(std::string_view w, std::string_view suffix) noexcept {
  if (w.size() < suffix.size()) return false;
  const char* tail = w.data() + (w.size() - suffix.size());
  for (std::size_t k = suffix.size(); k-- > 0;) {
    if (tail[k] != suffix[k]) return false;
  }
  return true;
}

struct Phrase {
  Lint lint;
  std::vector<std::string> rest;  // the words after the first
};

class Matcher {
 public:
  static const Matcher& get() {
    static const Matcher instance;
    return instance;
  }

  struct Hit {
    Lint lint;
    std::size_t first, last;  // word indices, inclusive
  };

  // Every match in `words`, in text order; `lethal` enables lethal-override.
  void match(const std::string& buf, const std::vector<Word>& words, bool lethal,
             std::vector<Hit>& hits) const {
    hits.clear();
    std::array<std::size_t, kLintCount> next{};
    for (std::size_t i = 0; i < words.size(); ++i) {
      std::string_view w(buf.data() + words[i].lo, words[i].hi - words[i].lo);
      std::array<std::size_t, kLintCount> best{};  // words matched, per lint
      bool any = false;
      if (const Entry* e = find(w, words[i].hash)) {
        for (const Phrase& p : e->phrases) {
          if (!lethal && p.lint == kLethal) continue;
          if (i < next[p.lint] || best[p.lint] > p.rest.size()) continue;
          if (i + p.rest.size() >= words.size()) continue;
          bool ok = true;
          for (std::size_t k = 0; k < p.rest.size() && ok; ++k) {
            const Word& nw = words[i + 1 + k];
            ok = nw.joined && std::string_view(buf.data() + nw.lo, nw.hi - nw.lo) == p.rest[k];
          }
          if (ok) {
            best[p.lint] = p.rest.size() + 1;
            any = true;
          }
        }
      }
      // Suffix entries, tried only when the word ends with the last byte of one.
      if (suffix_last_[static_cast<unsigned char>(w.back())]) {
        for (const auto& [lint, suffix] : suffixes_) {
          if (!lethal && lint == kLethal) continue;
        if (i < next[lint] || best[lint]) continue;
          if (ends_with(w, suffix)) {
            best[lint] = 1;
            any = true;
          }
        }
      }
      if (!any) continue;
      for (std::size_t l = 0; l < kLintCount; ++l) {
        if (!best[l]) continue;
        hits.push_back(Hit{static_cast<Lint>(l), i, i + best[l] - 1});
        next[l] = i + best[l];
      }
    }
  }

 private:
  // The phrases that start with one word, longest first.
  struct Entry {
    std::string first;
    std::uint64_t hash;
    std::vector<Phrase> phrases;
  };
  std::vector<Entry> entries_;
  std::vector<std::uint32_t> table_;  // open addressing by hash: 1 + entry index, 0 when empty
  std::size_t mask_ = 0;
  std::vector<std::pair<Lint, std::string>> suffixes_;
  std::array<bool, 256> suffix_last_{};  // the last bytes of suffixes_

  const Entry* find(std::string_view w, std::uint64_t hash) const {
    for (std::size_t at = hash & mask_;; at = (at + 1) & mask_) {
      std::uint32_t e = table_[at];
      if (e == 0) return nullptr;
      const Entry& entry = entries_[e - 1];
      if (entry.hash == hash && entry.first == w) return &entry;
    }
  }

  Matcher() {
    std::string buf;
    std::vector<Word> words;
    for (std::size_t l = 0; l < kLintCount; ++l) {
      std::string name = std::string("lints/") + kLintIds[l] + ".txt";
      for (std::string_view line : embedded_lines(name)) {
        if (line.front() == '*') {
          std::string suffix(line.substr(1));
          for (char& c : suffix) c = lower_ascii(c);
          if (!suffix.empty()) {
            suffix_last_[static_cast<unsigned char>(suffix.back())] = true;
            suffixes_.emplace_back(static_cast<Lint>(l), std::move(suffix));
          }
          continue;
        }
        scan_words(line, buf, words);
        if (words.empty()) continue;
        Phrase p;
        p.lint = static_cast<Lint>(l);
        for (std::size_t k = 1; k < words.size(); ++k) {
          p.rest.emplace_back(buf.substr(words[k].lo, words[k].hi - words[k].lo));
        }
        std::string first = buf.substr(words[0].lo, words[0].hi - words[0].lo);
        auto same = [&](const Entry& e) { return e.first == first; };
        auto it = std::find_if(entries_.begin(), entries_.end(), same);
        if (it == entries_.end()) {
          entries_.push_back(Entry{std::move(first), words[0].hash, {}});
          it = entries_.end() - 1;
        }
        it->phrases.push_back(std::move(p));
      }
    }
    std::size_t size = 16;
    while (size < entries_.size() * 4) size *= 2;
    table_.assign(size, 0);
    mask_ = size - 1;
    for (std::size_t k = 0; k < entries_.size(); ++k) {
      Entry& e = entries_[k];
      std::stable_sort(e.phrases.begin(), e.phrases.end(),
                       [](const Phrase& a, const Phrase& b) { return a.rest.size() > b.rest.size(); });
      std::size_t at = e.hash & mask_;
      while (table_[at] != 0) at = (at + 1) & mask_;
      table_[at] = static_cast<std::uint32_t>(k + 1);
    }
  }
};

std::string message_for(Lint lint, const std::string& path, const std::string& match) {
  switch (lint) {
    case kNegation:
      return path + " negates with " + quote(match) +
             ": world models draw what is named, negated or not; describe what is there instead";
    case kWhiteout:
      return path + " says " + quote(match) +
             ", which invites blown-out white frames; describe the light and what it falls on";
    case kIntent:
      return path + " says " + quote(match) +
             ", which states intent or story instead of pixels; describe only what the camera sees";
    default:
      return path + " says " + quote(match) +
             ", which is lethal, but an override keeps the player in the scene; use a terminal "
             "(lose) or a transition to a lose ending instead";
  }
}

// Every doctrine finding in `textv`; path_of() names the field. Returns the
// conjure-words-v1 count of the text when it holds no brace, else kNone.
template <class PathOf>
std::size_t lint_text(std::string_view textv, const PathOf& path_of, bool lethal, Context& cx,
                      std::string& buf, std::vector<Word>& words, std::vector<Matcher::Hit>& hits) {
  const ScanInfo info = scan_words(textv, buf, words);
  const std::size_t tokens = info.braces ? kNone : info.tokens;
  if (words.empty()) return tokens;
  Matcher::get().match(buf, words, lethal, hits);
  if (hits.empty()) return tokens;
  const std::string path = path_of();
  for (const Matcher::Hit& h : hits) {
    const Word& a = words[h.first];
    const Word& b = words[h.last];
    std::string match(textv.substr(a.byte_start, b.byte_end - a.byte_start));
    Json loc{{"field", path},
             {"start", a.cp_start},
             {"end", b.cp_end},
             {"match", match}};
    cx.add(kLintIds[h.lint], Severity::kWarning, path, message_for(h.lint, path, match),
           std::move(loc));
  }
  return tokens;
}

}  // namespace

void lint_doctrine(const Model& m, Context& cx, std::vector<std::size_t>& prose_tokens) {
  std::string buf;
  std::vector<Word> words;
  std::vector<Matcher::Hit> hits;
  prose_tokens.assign(m.prose.size(), kNone);
  for (std::size_t i = 0; i < m.prose.size(); ++i) {
    const ProseField& f = m.prose[i];
    prose_tokens[i] =
        lint_text(f.raw, [&] { return m.path(f); }, f.override_prose, cx, buf, words, hits);
  }
  for (const Slot& s : m.slots) {
    lint_text(s.raw, [&] { return s.path(); }, false, cx, buf, words, hits);
  }
}

void lint_budget(const Model& m, Context& cx, const std::vector<std::size_t>& prose_tokens) {
  const std::size_t budget = cx.limits.budget_tokens;
  // The default counter (conjure-words-v1, docs/lints.md) counts texts joined by
  // ", " as the sum of their counts plus one token per ", " (the comma ends any
  // word and costs one; the space costs nothing): with it each field is counted
  // once and the sums are added up, and a field compiled verbatim without a
  // brace reuses the count its doctrine scan made. Another counter gets the
  // composed text.
  const bool additive = &cx.tokenizer == &default_tokenizer();
  std::vector<std::size_t> field_tokens(additive ? m.prose.size() : 0, kNone);
  std::string composed;
  for (const State& st : m.states) {
    for (int layer = 0; layer < 2; ++layer) {
      std::size_t parts[3] = {st.base, layer == 0 ? st.cam_static : st.cam_dynamic,
                              layer == 0 ? st.mov_static : st.mov_dynamic};
      composed.clear();
      std::size_t joined = 0;  // non-empty parts
      std::size_t n = 0;       // their tokens (additive)
      bool ok = true;
      auto add = [&](std::size_t idx) {
        if (idx == kNone) return;
        const ProseField& f = m.prose[idx];
        if (!f.fillable) {
          ok = false;
          return;
        }
        std::string_view t = f.text();
        if (t.empty()) return;
        if (additive) {
          if (field_tokens[idx] == kNone) {
            field_tokens[idx] = f.verbatim && idx < prose_tokens.size() && prose_tokens[idx] != kNone
                                    ? prose_tokens[idx]
                                    : cx.tokenizer.count(t);
          }
          n += field_tokens[idx] + (joined > 0 ? 1 : 0);
        } else {
          if (!composed.empty()) composed += ", ";
          composed += t;
        }
        ++joined;
      };
      for (std::size_t idx : parts) add(idx);
      for (std::size_t idx : st.ambient) add(idx);
      if (!ok) continue;  // a field could not be filled: reported elsewhere
      if (!additive) n = cx.tokenizer.count(composed);
      if (n <= budget) continue;
      const char* name = layer == 0 ? "static" : "dynamic";
      const std::string path = st.path();
      cx.add("budget", Severity::kWarning, path,
             path + "'s " + name + " prompt (base + camera." + name + " + movement." + name +
                 " + ambient) is " + std::to_string(n) + " tokens by " +
                 std::string(cx.tokenizer.name()) + ", over the budget of " + std::to_string(budget) +
                 "; shorten the prose, the renderer drops what passes the budget",
             Json{{"field", path}, {"layer", name}, {"tokens", n}, {"budget", budget}});
    }
  }
}

}  // namespace conjure::kernel
