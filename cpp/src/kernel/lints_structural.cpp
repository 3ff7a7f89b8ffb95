// Structural lints that look at one reference or one pair of events at a time:
// dangling-ref, transition-needs-to, override-forbids-to, terminal-needs-ending,
// duplicate-name, ending-dead-end, reserved-hotkey, hotkey-clash, and the
// `limit` on how many states and events a world holds.
#include <unordered_set>

#include "conjure/kernel/hotkeys.hpp"
#include "kernel/model.hpp"

namespace conjure {

bool is_reserved_hotkey(std::string_view hk) noexcept {
  if (hk.size() != 1) return false;
  char c = hk[0];
  return c == 'w' || c == 'a' || c == 's' || c == 'd' || c == 'W' || c == 'A' || c == 'S' ||
         c == 'D' || (c >= '0' && c <= '9');
}

}  // namespace conjure

namespace conjure::kernel {

namespace {

// Appends s to out with ASCII letters lower-cased.
void append_lower_ascii(std::string& out, std::string_view s) {
  for (char c : s) out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}


const char* kind_name(EventKind k) {
  switch (k) {
    case EventKind::kTransition: return "transition";
    case EventKind::kOverride: return "override";
    case EventKind::kTerminal: return "terminal";
    default: return "event";
  }
}

}  // namespace

void lint_structural(const Model& m, Context& cx) {
  const Limits& lim = cx.limits;
  if (m.states_count > lim.max_states) {
    cx.error("limit", "scene.states",
             "the world has " + std::to_string(m.states_count) + " states, over the limit of " +
                 std::to_string(lim.max_states) + " (max_states); split it into smaller worlds");
  }
  if (m.events_count > lim.max_events) {
    cx.error("limit", "scene.events",
             "the world has " + std::to_string(m.events_count) + " events, over the limit of " +
                 std::to_string(lim.max_events) + " (max_events); split it into smaller worlds");
  }

  auto has_state = [&](std::string_view id) { return m.state_index.contains(id); };

  if (m.entrance_ok && !has_state(m.entrance)) {
    cx.error("dangling-ref", "entrance.state",
             "entrance.state names state " + quote(m.entrance) +
                 ", which does not exist; point it at a state in scene.states or add that state");
  }

  ViewIndex names;
  // "<state>\0<lower-cased key>" -> the first event binding it. The keys live in
  // one buffer sized up front, so the views into it stay valid.
  std::string hotkey_keys;
  std::size_t hotkey_bytes = 0;
  for (const Event& e : m.events) {
    if (e.hotkey.empty() || !e.from_ok) continue;
    for (std::string_view s : e.from) hotkey_bytes += s.size() + 1 + e.hotkey.size();
  }
  hotkey_keys.reserve(hotkey_bytes);
  ViewIndex hotkeys;
  std::unordered_set<std::uint64_t> clash_reported;
  names.reserve(m.events.size());
  for (std::size_t i = 0; i < m.events.size(); ++i) {
    const Event& e = m.events[i];
    std::string p_;  // the event's path, formatted on its first finding
    auto path = [&]() -> const std::string& {
      if (p_.empty()) p_ = e.path();
      return p_;
    };
    if (e.name_ok) {
      if (names.insert(e.name, i) != i) {
        cx.error("duplicate-name", path(),
                 "two events are named " + quote(e.name) +
                     " (events are addressed by name); rename one of them");
      }
    }
    if (e.from_ok) {
      std::unordered_set<std::string_view> seen;  // filled only for lists of several ids
      for (std::string_view s : e.from) {
        if (e.from.size() > 1 && !seen.insert(s).second) continue;
        const std::size_t state = m.state_index.find(s);
        if (state == kNone) {
          cx.error("dangling-ref", path() + ".from",
                   path() + ".from names state " + quote(s) +
                       ", which does not exist; fix the id or add that state");
        } else if ((e.kind == EventKind::kTransition || e.kind == EventKind::kOverride) &&
                   m.states[state].ending.present) {
          cx.error("ending-dead-end", path() + ".from",
                   "the " + std::string(kind_name(e.kind)) + " fires from " + quote(s) +
                       ", but that state has an ending and ends the run on arrival; remove it from "
                       "`from` or remove the state's ending");
        }
      }
    }
    switch (e.kind) {
      case EventKind::kTransition:
        if (!e.has_to) {
          cx.error("transition-needs-to", path() + ".to",
                   "a transition must say where it goes; add \"to\": \"<state id>\" (or make it an "
                   "override to change the scene in place)");
        } else if (e.to_ok && !has_state(e.to)) {
          cx.error("dangling-ref", path() + ".to",
                   path() + ".to names state " + quote(e.to) +
                       ", which does not exist; fix the id or add that state");
        }
        break;
      case EventKind::kOverride:
      case EventKind::kTerminal:
        if (e.has_to) {
          cx.error("override-forbids-to", path() + ".to",
                   std::string("an ") + (e.kind == EventKind::kOverride ? "override" : "terminal") +
                       " never moves the player, so it may not carry \"to\"; remove it, or make the "
                       "event a transition");
        }
        if (e.kind == EventKind::kTerminal && !e.ending.present) {
          cx.error("terminal-needs-ending", path() + ".ending",
                   "a terminal ends the run and needs an ending; add \"ending\": {\"kind\": "
                   "\"win\"|\"lose\", \"title\": \"...\"}");
        }
        break;
      default:
        break;
    }
    if (!e.hotkey.empty()) {
      if (is_reserved_hotkey(e.hotkey)) {
        cx.error("reserved-hotkey", path() + ".hotkey",
                 "hotkey " + quote(e.hotkey) +
                     " is reserved (W, A, S, D move the player; digits pick listed events); choose "
                     "another key such as E, F, Q or Space");
      }
      if (e.from_ok) {
        for (std::string_view s : e.from) {
          const std::size_t at = hotkey_keys.size();
          hotkey_keys.append(s);
          hotkey_keys += '\0';
          append_lower_ascii(hotkey_keys, e.hotkey);
          const std::size_t first = hotkeys.insert(std::string_view(hotkey_keys).substr(at), i);
          if (first != i) hotkey_keys.resize(at);  // the key is held already
          if (first == i) continue;
          std::uint64_t pair = (std::uint64_t{first} << 32) ^ i;
          if (!clash_reported.insert(pair).second) continue;
          const Event& other = m.events[first];
          cx.error("hotkey-clash", path() + ".hotkey",
                   "hotkey " + quote(e.hotkey) + " is also bound by " + other.path() +
                       ", and both can fire from state " + quote(s) +
                       "; give one of them another key");
        }
      }
    }
  }

  ViewIndex cut_names;
  for (std::size_t k = 0; k < m.cutscenes.size(); ++k) {
    const Cutscene& c = m.cutscenes[k];
    if (c.name_ok && cut_names.insert(c.name, k) != k) {
      cx.error("duplicate-name", c.path(),
               "two cutscenes are named " + quote(c.name) + "; rename one of them");
    }
    if (c.has_state && !has_state(c.state)) {
      cx.error("dangling-ref", c.path() + ".state",
               c.path() + ".state names state " + quote(c.state) +
                   ", which does not exist; fix the id or add that state");
    }
  }
}

}  // namespace conjure::kernel
