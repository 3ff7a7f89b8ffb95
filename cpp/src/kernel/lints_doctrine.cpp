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

// Splits `s` into words (see text.hpp). Skips `{slot}` references and `{{`/`}}`
// escapes, which break phrases. Offsets in code points index a Python str.
void scan_words(std::string_view s, std::string& buf, std::vector<Word>& words) {
  using text::CharClass;
  buf.resize(s.size());  // the lower-cased words never outgrow the text
  char* out = buf.data();
  std::size_t n = 0;     // bytes written to out
  words.clear();
  std::size_t i = 0, cp = 0;
  bool in_word = false, soft_gap = false;
  Word cur;
  auto put = [&](char ch) {
    out[n++] = ch;
    cur.hash = hash_step(cur.hash, ch);
  };
  auto close = [&](std::size_t byte_end, std::size_t cp_end) {
    if (!in_word) return;
    cur.hi = n;
    cur.byte_end = byte_end;
    cur.cp_end = cp_end;
    words.push_back(cur);
    in_word = false;
    soft_gap = true;
  };
  while (i < s.size()) {
    std::size_t at = i, at_cp = cp;
    if (s[i] == '{' || s[i] == '}') {
      std::size_t len = (i + 1 < s.size() && s[i + 1] == s[i]) ? 2 : (s[i] == '{' ? slot_ref_length(s, i) : 0);
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
    if (k == CharClass::kApostrophe && in_word && i < s.size()) {
      std::size_t j = i;
      if (text::classify(text::next_cp(s, j)) == CharClass::kWord) {
        put('\'');
        continue;
      }
    }
    if (k == CharClass::kWord) {
      if (!in_word) {
        in_word = true;
        cur = Word{};
        cur.lo = n;
        cur.byte_start = at;
        cur.cp_start = at_cp;
        cur.joined = soft_gap && !words.empty();
      }
      if (c < 0x80) {
        put(lower_ascii(static_cast<char>(c)));
      } else {
        for (std::size_t b = at; b < i; ++b) put(s[b]);
      }
      // The rest of a run of ASCII letters and digits, without decoding.
      std::size_t j = i;
      std::uint64_t h = cur.hash;
      for (; j < s.size(); ++j) {
        unsigned char b = static_cast<unsigned char>(s[j]);
        if (b >= 0x80 || text::kAsciiClass[b] != CharClass::kWord) break;
        char ch = lower_ascii(static_cast<char>(b));
        out[n + (j - i)] = ch;
        h = hash_step(h, ch);
      }
      cur.hash = h;
      n += j - i;
      cp += j - i;
      i = j;
      continue;
    }
    close(at, at_cp);
    if (!(k == CharClass::kSpace || c == '-')) soft_gap = false;
  }
  close(s.size(), cp);
  buf.resize(n);
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
      for (const auto& [lint, suffix] : suffixes_) {
        if (!lethal && lint == kLethal) continue;
        if (i < next[lint] || best[lint]) continue;
        if (w.size() >= suffix.size() && w.substr(w.size() - suffix.size()) == suffix) {
          best[lint] = 1;
          any = true;
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
      std::string_view data = embedded_file(name);
      std::size_t pos = 0;
      while (pos < data.size()) {
        std::size_t eol = data.find('\n', pos);
        if (eol == std::string_view::npos) eol = data.size();
        std::string_view line = data.substr(pos, eol - pos);
        pos = eol + 1;
        if (std::size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
        while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) {
          line.remove_suffix(1);
        }
        while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
        if (line.empty()) continue;
        if (line.front() == '*') {
          std::string suffix(line.substr(1));
          for (char& c : suffix) c = lower_ascii(c);
          if (!suffix.empty()) suffixes_.emplace_back(static_cast<Lint>(l), std::move(suffix));
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

// Every doctrine finding in `textv`; path_of() names the field.
template <class PathOf>
void lint_text(std::string_view textv, const PathOf& path_of, bool lethal, Context& cx,
               std::string& buf, std::vector<Word>& words, std::vector<Matcher::Hit>& hits) {
  scan_words(textv, buf, words);
  if (words.empty()) return;
  Matcher::get().match(buf, words, lethal, hits);
  if (hits.empty()) return;
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
}

}  // namespace

void lint_doctrine(const Model& m, Context& cx) {
  std::string buf;
  std::vector<Word> words;
  std::vector<Matcher::Hit> hits;
  for (const ProseField& f : m.prose) {
    lint_text(f.raw, [&] { return m.path(f); }, f.override_prose, cx, buf, words, hits);
  }
  for (const Slot& s : m.slots) {
    lint_text(s.raw, [&] { return s.path(); }, false, cx, buf, words, hits);
  }
}

void lint_budget(const Model& m, Context& cx) {
  const std::size_t budget = cx.limits.budget_tokens;
  // The default counter (conjure-words-v1, docs/lints.md) counts texts joined by
  // ", " as the sum of their counts plus one token per ", " (the comma ends any
  // word and costs one; the space costs nothing): with it each field is counted
  // once and the sums are added up. Another counter gets the composed text.
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
          if (field_tokens[idx] == kNone) field_tokens[idx] = cx.tokenizer.count(t);
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
