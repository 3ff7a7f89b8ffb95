// Graph lints, linear in the size of the world and free of recursion on graph
// depth: kernel-cycle (iterative Tarjan), and a worklist fixpoint over
// reachable states and obtainable flags for unreachable, stuck,
// unsatisfiable-requires and no-ending.
#include <algorithm>

#include "kernel/model.hpp"

namespace conjure::kernel {

std::vector<std::vector<std::size_t>> cyclic_components(
    std::size_t n, const std::vector<std::vector<std::size_t>>& adj) {
  std::vector<std::vector<std::size_t>> out;
  std::vector<std::size_t> index(n, kNone), low(n, 0);
  std::vector<char> on_stack(n, 0);
  std::vector<std::size_t> stack;
  std::vector<std::pair<std::size_t, std::size_t>> call;  // (node, next edge)
  std::size_t counter = 0;
  for (std::size_t root = 0; root < n; ++root) {
    if (index[root] != kNone) continue;
    call.emplace_back(root, 0);
    index[root] = low[root] = counter++;
    stack.push_back(root);
    on_stack[root] = 1;
    while (!call.empty()) {
      std::size_t v = call.back().first;
      std::size_t& k = call.back().second;
      if (k < adj[v].size()) {
        std::size_t w = adj[v][k++];
        if (index[w] == kNone) {
          index[w] = low[w] = counter++;
          stack.push_back(w);
          on_stack[w] = 1;
          call.emplace_back(w, 0);
        } else if (on_stack[w]) {
          low[v] = std::min(low[v], index[w]);
        }
        continue;
      }
      call.pop_back();
      if (!call.empty()) {
        std::size_t parent = call.back().first;
        low[parent] = std::min(low[parent], low[v]);
      }
      if (low[v] != index[v]) continue;
      std::vector<std::size_t> comp;
      std::size_t w;
      do {
        w = stack.back();
        stack.pop_back();
        on_stack[w] = 0;
        comp.push_back(w);
      } while (w != v);
      bool cyclic = comp.size() > 1 ||
                    std::find(adj[v].begin(), adj[v].end(), v) != adj[v].end();
      if (cyclic) {
        std::sort(comp.begin(), comp.end());
        out.push_back(std::move(comp));
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

// The states every event names, looked up once: `to` (kNone when absent, not a
// string or unknown) and the `from` list (kNone for an unknown id), flattened.
struct EventStates {
  std::vector<std::size_t> to;
  std::vector<std::size_t> from_begin;  // event i: from[from_begin[i], from_begin[i + 1])
  std::vector<std::size_t> from;

  explicit EventStates(const Model& m) {
    to.reserve(m.events.size());
    from_begin.reserve(m.events.size() + 1);
    for (const Event& e : m.events) {
      to.push_back(e.to_ok ? m.state_index.find(e.to) : kNone);
      from_begin.push_back(from.size());
      for (std::string_view f : e.from) from.push_back(m.state_index.find(f));
    }
    from_begin.push_back(from.size());
  }
  template <class F>
  void for_from(std::size_t i, F&& f) const {
    for (std::size_t k = from_begin[i]; k < from_begin[i + 1]; ++k) f(from[k]);
  }
};

void kernel_cycles(const Model& m, const EventStates& es, Context& cx) {
  const std::size_t n = m.states.size();
  std::vector<std::vector<std::size_t>> adj(n);
  std::vector<std::size_t> self_firing;
  for (std::size_t i = 0; i < m.events.size(); ++i) {
    const Event& e = m.events[i];
    if (e.kind != EventKind::kTransition || !e.to_ok || !e.from_ok) continue;
    if (!(e.after > 0) || !e.hotkey.empty() || !e.requires_.empty()) continue;
    std::size_t to = es.to[i];
    if (to == kNone) continue;
    self_firing.push_back(i);
    es.for_from(i, [&](std::size_t from) {
      if (from != kNone) adj[from].push_back(to);
    });
  }
  if (self_firing.empty()) return;
  auto comps = cyclic_components(n, adj);
  if (comps.empty()) return;
  std::vector<std::size_t> comp_of(n, kNone);
  for (std::size_t c = 0; c < comps.size(); ++c) {
    for (std::size_t v : comps[c]) comp_of[v] = c;
  }
  std::vector<char> reported(comps.size(), 0);
  for (std::size_t i : self_firing) {
    const Event& e = m.events[i];
    std::size_t c = comp_of[es.to[i]];
    if (c == kNone || reported[c]) continue;
    bool inside = false;
    es.for_from(i, [&](std::size_t from) {
      if (from != kNone && comp_of[from] == c) inside = true;
    });
    if (!inside) continue;
    reported[c] = 1;
    std::string states;
    std::size_t shown = 0;
    for (std::size_t v : comps[c]) {
      if (shown++ == 8) {
        states += ", ...";
        break;
      }
      if (!states.empty()) states += ", ";
      states += m.states[v].id;
    }
    cx.error("kernel-cycle", e.path(),
             "self-firing transitions (timing.after > 0, no hotkey, no requires) loop through states " +
                 states + " with no input from the player; give one of them a hotkey or a "
                 "requirement, or break the loop");
  }
}

}  // namespace

void lint_graph(const Model& m, Context& cx) {
  const EventStates es(m);
  kernel_cycles(m, es, cx);

  // Flags, interned.
  ViewIndex flag_id;
  auto intern = [&](std::string_view f) { return flag_id.insert(f, flag_id.size()); };
  for (const Event& e : m.events) {
    for (std::string_view g : e.grants) intern(g);
  }
  const std::size_t granted_flags = flag_id.size();  // ids below this are granted somewhere
  std::vector<std::size_t> asked_by;  // per flag id: 1 + the last event that required it
  for (std::size_t i = 0; i < m.events.size(); ++i) {
    const Event& e = m.events[i];
    for (std::string_view r : e.requires_) {
      std::size_t id = intern(r);
      if (asked_by.size() <= id) asked_by.resize(id + 1, 0);
      if (asked_by[id] == i + 1) continue;  // listed twice
      asked_by[id] = i + 1;
      if (id < granted_flags) continue;
      const std::string path = e.path();
      cx.add("unsatisfiable-requires", Severity::kWarning, path + ".requires",
             path + " requires flag " + quote(r) +
                 ", which no event grants, so it can never fire; add it to some event's grants or "
                 "remove the requirement",
             Json{{"field", path + ".requires"}, {"flag", r}});
    }
  }

  if (!m.entrance_ok) return;
  const std::size_t entrance = m.state_index.find(m.entrance);
  if (entrance == kNone) return;  // dangling entrance: reported, nothing to walk from
  // An event whose kind, `from` or `to` is broken makes reachability guesswork:
  // its error is reported, and unreachable/stuck/no-ending stay quiet.
  for (std::size_t i = 0; i < m.events.size(); ++i) {
    const Event& e = m.events[i];
    if (e.kind == EventKind::kInvalid || !e.from_ok) return;
    bool known = true;
    es.for_from(i, [&](std::size_t from) { known = known && from != kNone; });
    if (!known) return;
    if (e.kind == EventKind::kTransition && es.to[i] == kNone) return;
  }

  // Events that may ever fire at all: a valid kind, a valid `from`, and a trigger
  // (listed to the player, a hotkey, or timing.after > 0).
  const std::size_t ns = m.states.size(), ne = m.events.size(), nf = flag_id.size();
  std::vector<std::vector<std::size_t>> by_state(ns), by_flag(nf);
  std::vector<std::size_t> pending(ne, 0);
  std::vector<char> live(ne, 0);
  for (std::size_t i = 0; i < ne; ++i) {
    const Event& e = m.events[i];
    if (e.kind == EventKind::kInvalid || !e.from_ok) continue;
    if (e.hidden && e.hotkey.empty() && !(e.after > 0)) continue;
    live[i] = 1;
    pending[i] = 1;  // "some `from` state is reachable"
    // Each list is filled in event order, so a repeat of this event is its last entry.
    es.for_from(i, [&](std::size_t s) {
      if (s != kNone && (by_state[s].empty() || by_state[s].back() != i)) by_state[s].push_back(i);
    });
    for (std::string_view r : e.requires_) {
      std::size_t id = flag_id.find(r);
      if (by_flag[id].empty() || by_flag[id].back() != i) {
        by_flag[id].push_back(i);
        ++pending[i];
      }
    }
  }

  std::vector<char> reached(ns, 0), obtained(nf, 0), fired(ne, 0);
  std::vector<std::size_t> state_work{entrance}, flag_work;
  std::vector<char> from_met(ne, 0);
  reached[entrance] = 1;
  auto fire = [&](std::size_t i) {
    fired[i] = 1;
    const Event& e = m.events[i];
    for (std::string_view g : e.grants) {
      std::size_t id = flag_id.find(g);
      if (!obtained[id]) {
        obtained[id] = 1;
        flag_work.push_back(id);
      }
    }
    if (e.kind == EventKind::kTransition) {
      std::size_t to = es.to[i];
      if (to != kNone && !reached[to]) {
        reached[to] = 1;
        state_work.push_back(to);
      }
    }
  };
  while (!state_work.empty() || !flag_work.empty()) {
    if (!state_work.empty()) {
      std::size_t s = state_work.back();
      state_work.pop_back();
      if (m.states[s].ending.present) continue;  // arriving ends the run
      for (std::size_t i : by_state[s]) {
        if (!live[i] || from_met[i]) continue;
        from_met[i] = 1;
        if (--pending[i] == 0) fire(i);
      }
    } else {
      std::size_t f = flag_work.back();
      flag_work.pop_back();
      for (std::size_t i : by_flag[f]) {
        if (live[i] && --pending[i] == 0) fire(i);
      }
    }
  }

  bool ending_reachable = false;
  for (std::size_t i = 0; i < ne; ++i) {
    if (fired[i] && m.events[i].kind == EventKind::kTerminal) ending_reachable = true;
  }
  // A state can leave (or end the run) when some transition or terminal from it fires.
  std::vector<char> can_leave(ns, 0);
  for (std::size_t s = 0; s < ns; ++s) {
    for (std::size_t i : by_state[s]) {
      EventKind k = m.events[i].kind;
      if (fired[i] && (k == EventKind::kTransition || k == EventKind::kTerminal)) can_leave[s] = 1;
    }
  }
  for (std::size_t s = 0; s < ns; ++s) {
    const State& st = m.states[s];
    if (!reached[s] && m.character) {
      cx.add("character-stance-unreached", Severity::kWarning, st.path(),
             "stance " + quote(st.id) +
                 " is never taken: no stance event leads to it from the entrance; add an event "
                 "whose trigger moves the character into it, or delete it");
      continue;
    }
    if (m.character) continue;  // a stance graph has no endings: stuck and no-ending do not apply
    if (!reached[s]) {
      cx.add("unreachable", Severity::kWarning, st.path(),
             "state " + quote(st.id) +
                 " cannot be reached from the entrance (requires and grants taken into account); "
                 "add a transition into it or delete it");
      continue;
    }
    if (st.ending.present) {
      ending_reachable = true;
      continue;
    }
    if (!can_leave[s]) {
      cx.add("stuck", Severity::kWarning, st.path(),
             "state " + quote(st.id) +
                 " is reachable but no transition or terminal could ever fire from it, so the "
                 "player is trapped; add a way out or give the state an ending");
    }
  }
  if (!ending_reachable && !m.character) {
    cx.add("no-ending", Severity::kInfo, "scene",
           "no ending is reachable from the entrance, so a run never ends; add a state with an "
           "ending or a terminal event the player can reach");
  }
}

}  // namespace conjure::kernel
