// Doctrine lints (negation, whiteout, intent, lethal-override) and `budget`.
// The word lists are data files (cpp/data/lints/<lint>.txt). Each field is
// scanned once into lower-cased words; each word costs one hash lookup, and
// multi-word entries are checked only from their first word.
#include <algorithm>
#include <array>
#include <deque>
#include <memory>
#include <unordered_map>

#include "conjure/embedded.hpp"
#include "kernel/model.hpp"
#include "kernel/text.hpp"

namespace conjure::kernel {

namespace {

enum Lint : std::uint8_t { kNegation, kWhiteout, kIntent, kLethal, kLintCount };
constexpr std::array<const char*, kLintCount> kLintIds = {"negation", "whiteout", "intent",
                                                           "lethal-override"};

struct Word {
  std::size_t lo = 0, hi = 0;          // into the lower-cased buffer
  std::size_t byte_start = 0, byte_end = 0;
  std::size_t cp_start = 0, cp_end = 0;
  bool joined = false;                 // only spaces/hyphens since the previous word
};

// Splits `s` into words (see text.hpp). Skips `{slot}` references and `{{`/`}}`
// escapes, which break phrases. Offsets in code points index a Python str.
void scan_words(std::string_view s, std::string& buf, std::vector<Word>& words) {
  using text::CharClass;
  buf.clear();
  words.clear();
  std::size_t i = 0, cp = 0;
  bool in_word = false, soft_gap = false;
  Word cur;
  auto close = [&](std::size_t byte_end, std::size_t cp_end) {
    if (!in_word) return;
    cur.hi = buf.size();
    cur.byte_end = byte_end;
    cur.cp_end = cp_end;
    words.push_back(cur);
    in_word = false;
    soft_gap = true;
  };
  while (i < s.size()) {
    std::size_t at = i, at_cp = cp;
    if (s[i] == '{' || s[i] == '}') {
      std::size_t n = (i + 1 < s.size() && s[i + 1] == s[i]) ? 2 : (s[i] == '{' ? slot_ref_length(s, i) : 0);
      if (n) {
        close(at, at_cp);
        soft_gap = false;
        i += n;
        cp += n;  // slot references and escapes are ASCII
        continue;
      }
    }
    char32_t c = text::next_cp(s, i);
    ++cp;
    CharClass k = text::classify(c);
    if (k == CharClass::kApostrophe && in_word && i < s.size()) {
      std::size_t j = i;
      if (text::classify(text::next_cp(s, j)) == CharClass::kWord) {
        buf += '\'';
        continue;
      }
    }
    if (k == CharClass::kWord) {
      if (!in_word) {
        in_word = true;
        cur = Word{};
        cur.lo = buf.size();
        cur.byte_start = at;
        cur.cp_start = at_cp;
        cur.joined = soft_gap && !words.empty();
      }
      if (c < 0x80) {
        char ch = static_cast<char>(c);
        buf += (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
      } else {
        buf.append(s.substr(at, i - at));
      }
      continue;
    }
    close(at, at_cp);
    if (!(k == CharClass::kSpace || c == '-')) soft_gap = false;
  }
  close(s.size(), cp);
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
      std::array<std::size_t, kLintCount> best;
      best.fill(0);
      auto it = first_.find(w);
      if (it != first_.end()) {
        for (const Phrase& p : it->second) {
          if (!lethal && p.lint == kLethal) continue;
          if (i < next[p.lint] || best[p.lint] > p.rest.size()) continue;
          if (i + p.rest.size() >= words.size()) continue;
          bool ok = true;
          for (std::size_t k = 0; k < p.rest.size() && ok; ++k) {
            const Word& nw = words[i + 1 + k];
            ok = nw.joined && std::string_view(buf.data() + nw.lo, nw.hi - nw.lo) == p.rest[k];
          }
          if (ok) best[p.lint] = p.rest.size() + 1;
        }
      }
      for (const auto& [lint, suffix] : suffixes_) {
        if (!lethal && lint == kLethal) continue;
        if (i < next[lint] || best[lint]) continue;
        if (w.size() >= suffix.size() && w.substr(w.size() - suffix.size()) == suffix) best[lint] = 1;
      }
      for (std::size_t l = 0; l < kLintCount; ++l) {
        if (!best[l]) continue;
        hits.push_back(Hit{static_cast<Lint>(l), i, i + best[l] - 1});
        next[l] = i + best[l];
      }
    }
  }

 private:
  std::deque<std::string> storage_;
  std::unordered_map<std::string_view, std::vector<Phrase>> first_;
  std::vector<std::pair<Lint, std::string>> suffixes_;

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
          for (char& c : suffix) {
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
          }
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
        storage_.emplace_back(buf.substr(words[0].lo, words[0].hi - words[0].lo));
        first_[storage_.back()].push_back(std::move(p));
      }
    }
    for (auto& [w, list] : first_) {
      std::stable_sort(list.begin(), list.end(),
                       [](const Phrase& a, const Phrase& b) { return a.rest.size() > b.rest.size(); });
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

void lint_text(std::string_view textv, const std::string& path, bool lethal, Context& cx,
               std::string& buf, std::vector<Word>& words, std::vector<Matcher::Hit>& hits) {
  scan_words(textv, buf, words);
  if (words.empty()) return;
  Matcher::get().match(buf, words, lethal, hits);
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
    lint_text(f.raw, f.path, f.override_prose, cx, buf, words, hits);
  }
  for (const Slot& s : m.slots) {
    lint_text(s.raw, s.path, false, cx, buf, words, hits);
  }
}

void lint_budget(const Model& m, Context& cx) {
  const std::size_t budget = cx.limits.budget_tokens;
  std::string composed;
  for (const State& st : m.states) {
    for (int layer = 0; layer < 2; ++layer) {
      std::size_t parts[3] = {st.base, layer == 0 ? st.cam_static : st.cam_dynamic,
                              layer == 0 ? st.mov_static : st.mov_dynamic};
      composed.clear();
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
        if (!composed.empty()) composed += ", ";
        composed += t;
      };
      for (std::size_t idx : parts) add(idx);
      for (std::size_t idx : st.ambient) add(idx);
      if (!ok) continue;  // a field could not be filled: reported elsewhere
      std::size_t n = cx.tokenizer.count(composed);
      if (n <= budget) continue;
      const char* name = layer == 0 ? "static" : "dynamic";
      cx.add("budget", Severity::kWarning, st.path,
             st.path + "'s " + name + " prompt (base + camera." + name + " + movement." + name +
                 " + ambient) is " + std::to_string(n) + " tokens by " +
                 std::string(cx.tokenizer.name()) + ", over the budget of " + std::to_string(budget) +
                 "; shorten the prose, the renderer drops what passes the budget",
             Json{{"field", st.path}, {"layer", name}, {"tokens", n}, {"budget", budget}});
    }
  }
}

}  // namespace conjure::kernel
