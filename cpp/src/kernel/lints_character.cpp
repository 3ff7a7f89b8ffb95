// The character-… lints: a character's brain (persona, lore, voice), its
// stance graph, and the characters a world places. The voices a character may
// name are data (cpp/data/voices/<engine>.txt), compiled into the library.
#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_set>

#include "conjure/embedded.hpp"
#include "kernel/model.hpp"

namespace conjure::kernel {

namespace {

constexpr std::size_t kMaxPersonaChars = 2000;
constexpr std::size_t kMaxFactChars = 500;         // one entry of a lore list
constexpr std::size_t kMaxLoreTextChars = 20000;   // lore given as one text
constexpr std::size_t kMaxLoreEntries = 200;
constexpr double kMinRate = 0.5, kMaxRate = 2.0;

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

// The voice names of `engine` (one per line, `#` comments), or null for an unknown engine.
const std::unordered_set<std::string_view>* voices_of(std::string_view engine) {
  static const auto load = [](const char* file) {
    std::vector<std::string_view> lines = embedded_lines(file);
    return std::unordered_set<std::string_view>(lines.begin(), lines.end());
  };
  static const std::unordered_set<std::string_view> piper = load("voices/piper.txt");
  static const std::unordered_set<std::string_view> espeak = load("voices/espeak-ng.txt");
  if (engine == "piper") return &piper;
  if (engine == "espeak-ng") return &espeak;
  return nullptr;
}

std::string number(double d) {
  std::string s = Json(d).dump();
  return s;
}

void lint_brain(const Model& m, Context& cx) {
  const Brain& b = m.brain;
  if (!b.present) return;  // a `schema` error already says so
  if (!b.persona_seen) {
    cx.error("character-persona", "brain.persona",
             "the character has no persona; add \"persona\": who they are and how they speak");
  } else if (b.persona_ok && blank(b.persona)) {
    cx.error("character-persona", "brain.persona",
             "the persona is empty; say who the character is and how they speak");
  } else if (b.persona_ok && count_code_points(b.persona) > kMaxPersonaChars) {
    cx.error("character-persona", "brain.persona",
             "the persona is " + std::to_string(count_code_points(b.persona)) + " characters, over the " +
                 std::to_string(kMaxPersonaChars) + " limit; keep it to who they are and how they speak, "
                 "and move facts to lore");
  }
  if (b.lore_is_text) {
    std::size_t n = count_code_points(b.lore.front());
    if (n > kMaxLoreTextChars) {
      cx.error("character-lore", "brain.lore",
               "the lore text is " + std::to_string(n) + " characters, over the " +
                   std::to_string(kMaxLoreTextChars) + " limit; keep the facts the character needs");
    }
  } else {
    if (b.lore.size() > kMaxLoreEntries) {
      cx.error("character-lore", "brain.lore",
               "the lore has " + std::to_string(b.lore.size()) + " entries, over the " +
                   std::to_string(kMaxLoreEntries) + " limit");
    }
    for (std::size_t i = 0; i < b.lore.size() && i < kMaxLoreEntries; ++i) {
      std::string path = "brain.lore[" + std::to_string(i) + "]";
      std::size_t n = count_code_points(b.lore[i]);
      if (blank(b.lore[i])) {
        if (b.lore[i].data() != nullptr) {  // an entry of the wrong type is a schema error
          cx.error("character-lore", path, "lore entry " + std::to_string(i) + " is empty; write the fact or remove it");
        }
      } else if (n > kMaxFactChars) {
        cx.error("character-lore", path,
                 "lore entry " + std::to_string(i) + " is " + std::to_string(n) + " characters, over the " +
                     std::to_string(kMaxFactChars) + " limit for one fact; split it into short facts");
      }
    }
  }
  if (!b.has_voice) return;
  std::string_view engine = b.engine.empty() ? std::string_view("piper") : b.engine;
  const auto* names = voices_of(engine);
  if (!names) {
    cx.error("character-voice", "brain.voice.engine",
             "voice engine " + quote(engine) + " is unknown; use \"piper\" (neural) or \"espeak-ng\" (light)");
  } else if (!b.voice_name.empty() && !names->count(b.voice_name)) {
    cx.error("character-voice", "brain.voice.name",
             "voice " + quote(b.voice_name) + " is not a voice of " + std::string(engine) +
                 (engine == "piper" ? "; use \"en_US-joe-medium\"" : "; use a language such as \"en-us\" or \"en-gb\""));
  }
  if (b.has_rate && !(b.rate >= kMinRate && b.rate <= kMaxRate)) {
    cx.error("character-voice", "brain.voice.rate",
             "brain.voice.rate is " + number(b.rate) + "; use a speed from 0.5 (slow) to 2 (fast), 1 is normal");
  }
  if (b.has_pitch && !(b.pitch >= 0 && b.pitch <= 1)) {
    cx.error("character-voice", "brain.voice.pitch",
             "brain.voice.pitch is " + number(b.pitch) + "; use 0 (low) to 1 (high), 0.5 is normal");
  } else if (b.has_pitch && engine == "piper") {
    cx.add("character-pitch-ignored", Severity::kInfo, "brain.voice.pitch",
           "Piper voices have no pitch control, so brain.voice.pitch is ignored; use espeak-ng for a set pitch");
  }
}

void lint_placements(const Model& m, Context& cx, const std::vector<std::string>* known) {
  std::unordered_set<std::string_view> seen;
  for (const Placement& p : m.placements) {
    std::string path = "characters[" + std::to_string(p.index) + "]";
    if (p.id_ok) {
      if (!seen.insert(p.id).second) {
        cx.error("character-placement", path + ".id",
                 "character " + quote(p.id) + " is placed twice; list all its states in one entry");
      } else if (known && std::find(known->begin(), known->end(), p.id) == known->end()) {
        cx.error("character-placement", path + ".id",
                 "character " + quote(p.id) + " is not a character of this app and mode; create it first "
                 "(POST /v1/characters) or correct the id");
      }
    }
    for (std::size_t j = 0; j < p.states.size(); ++j) {
      if (!m.state_index.contains(p.states[j])) {
        cx.error("character-placement", path + ".states[" + std::to_string(j) + "]",
                 "the world has no state " + quote(p.states[j]) + " to place character " + quote(p.id) + " in");
      }
    }
  }
}

}  // namespace

void lint_character(const Model& m, Context& cx, const std::vector<std::string>* known) {
  if (m.character) {
    lint_brain(m, cx);
  } else {
    lint_placements(m, cx, known);
  }
}

}  // namespace conjure::kernel
