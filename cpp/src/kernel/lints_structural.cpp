// Structural lints that look at one reference or one pair of events at a time:
// dangling-ref, transition-needs-to, override-forbids-to, terminal-needs-ending,
// duplicate-name, ending-dead-end, reserved-hotkey, hotkey-clash, and the
// `limit` on how many states and events a world holds.
#include <unordered_map>
#include <unordered_set>

#include "kernel/model.hpp"

namespace conjure::kernel {

namespace {

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool reserved_key(std::string_view hk) {
  if (hk.size() != 1) return false;
  char c = hk[0];
  return c == 'w' || c == 'a' || c == 's' || c == 'd' || c == 'W' || c == 'A' || c == 'S' ||
         c == 'D' || (c >= '0' && c <= '9');
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

  auto has_state = [&](const std::string& id) { return m.state_index.count(id) != 0; };

  if (m.entrance_ok && !has_state(m.entrance)) {
    cx.error("dangling-ref", "entrance.state",
             "entrance.state names state " + quote(m.entrance) +
                 ", which does not exist; point it at a state in scene.states or add that state");
  }

  std::unordered_map<std::string_view, std::size_t> names;
  std::unordered_map<std::string, std::size_t> hotkeys;  // "<state>\0<key>" -> event
  std::unordered_set<std::uint64_t> clash_reported;
  names.reserve(m.events.size());
  for (std::size_t i = 0; i < m.events.size(); ++i) {
    const Event& e = m.events[i];
    const std::string& p = e.path;
    if (e.name_ok) {
      auto [it, fresh] = names.emplace(e.name, i);
      if (!fresh) {
        cx.error("duplicate-name", p,
                 "two events are named " + quote(e.name) +
                     " (events are addressed by name); rename one of them");
      }
    }
    if (e.from_ok) {
      std::unordered_set<std::string_view> seen;
      for (const std::string& s : e.from) {
        if (!seen.insert(s).second) continue;
        auto it = m.state_index.find(s);
        if (it == m.state_index.end()) {
          cx.error("dangling-ref", p + ".from",
                   p + ".from names state " + quote(s) +
                       ", which does not exist; fix the id or add that state");
        } else if ((e.kind == EventKind::kTransition || e.kind == EventKind::kOverride) &&
                   m.states[it->second].ending.present) {
          cx.error("ending-dead-end", p + ".from",
                   "the " + std::string(kind_name(e.kind)) + " fires from " + quote(s) +
                       ", but that state has an ending and ends the run on arrival; remove it from "
                       "`from` or remove the state's ending");
        }
      }
    }
    switch (e.kind) {
      case EventKind::kTransition:
        if (!e.has_to) {
          cx.error("transition-needs-to", p + ".to",
                   "a transition must say where it goes; add \"to\": \"<state id>\" (or make it an "
                   "override to change the scene in place)");
        } else if (e.to_ok && !has_state(e.to)) {
          cx.error("dangling-ref", p + ".to",
                   p + ".to names state " + quote(e.to) +
                       ", which does not exist; fix the id or add that state");
        }
        break;
      case EventKind::kOverride:
      case EventKind::kTerminal:
        if (e.has_to) {
          cx.error("override-forbids-to", p + ".to",
                   std::string("an ") + (e.kind == EventKind::kOverride ? "override" : "terminal") +
                       " never moves the player, so it may not carry \"to\"; remove it, or make the "
                       "event a transition");
        }
        if (e.kind == EventKind::kTerminal && !e.ending.present) {
          cx.error("terminal-needs-ending", p + ".ending",
                   "a terminal ends the run and needs an ending; add \"ending\": {\"kind\": "
                   "\"win\"|\"lose\", \"title\": \"...\"}");
        }
        break;
      default:
        break;
    }
    if (!e.hotkey.empty()) {
      if (reserved_key(e.hotkey)) {
        cx.error("reserved-hotkey", p + ".hotkey",
                 "hotkey " + quote(e.hotkey) +
                     " is reserved (W, A, S, D move the player; digits pick listed events); choose "
                     "another key such as E, F, Q or Space");
      }
      if (e.from_ok) {
        std::string key_l = lower_ascii(e.hotkey);
        for (const std::string& s : e.from) {
          std::string key = s;
          key += '\0';
          key += key_l;
          auto [it, fresh] = hotkeys.emplace(std::move(key), i);
          if (fresh || it->second == i) continue;
          std::uint64_t pair = (std::uint64_t{it->second} << 32) ^ i;
          if (!clash_reported.insert(pair).second) continue;
          const Event& other = m.events[it->second];
          cx.error("hotkey-clash", p + ".hotkey",
                   "hotkey " + quote(e.hotkey) + " is also bound by " + other.path +
                       ", and both can fire from state " + quote(s) +
                       "; give one of them another key");
        }
      }
    }
  }

  std::unordered_set<std::string_view> cut_names;
  for (const Cutscene& c : m.cutscenes) {
    if (c.name_ok && !cut_names.insert(c.name).second) {
      cx.error("duplicate-name", c.path,
               "two cutscenes are named " + quote(c.name) + "; rename one of them");
    }
    if (c.has_state && !has_state(c.state)) {
      cx.error("dangling-ref", c.path + ".state",
               c.path + ".state names state " + quote(c.state) +
                   ", which does not exist; fix the id or add that state");
    }
  }
}

}  // namespace conjure::kernel
