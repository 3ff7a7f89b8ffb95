// Compiling prose: parses `{slot}` templates, checks the slot lexicon
// (slot-undefined, slot-cycle, slot-unused, limit) and fills slots. Every
// expansion's size is computed with memoised saturating arithmetic before any
// text is built, so a slot that would fill to gigabytes is refused at once.
#include <algorithm>
#include <cstdint>

#include "kernel/model.hpp"

namespace conjure::kernel {

namespace {

inline bool id_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

constexpr std::uint64_t kSat = std::uint64_t{1} << 62;
inline std::uint64_t sat_add(std::uint64_t a, std::uint64_t b) noexcept {
  return (a >= kSat || b >= kSat || a + b >= kSat) ? kSat : a + b;
}

// The first `{` or `}` in s at or after `from`, or npos. (A plain loop: the
// standard find_first_of looks each byte up in the set with a library call.)
std::size_t find_brace(std::string_view s, std::size_t from) noexcept {
  for (std::size_t i = from; i < s.size(); ++i) {
    if (s[i] == '{' || s[i] == '}') return i;
  }
  return std::string_view::npos;
}

// Splits a template into literal runs and slot references. Every piece is a
// view into `s`: an escape `{{` or `}}` becomes a one-character view of its
// first brace, so parsing allocates nothing but the segment list.
std::vector<Segment> parse_template(std::string_view s) {
  std::vector<Segment> out;
  std::size_t lit = 0;  // start of the pending literal run
  auto flush = [&](std::size_t end) {
    if (end > lit) out.push_back(Segment{false, s.substr(lit, end - lit), kNone});
  };
  std::size_t i = find_brace(s, 0);
  while (i != std::string_view::npos) {
    bool doubled = i + 1 < s.size() && s[i + 1] == s[i];
    if (doubled) {
      flush(i + 1);  // keep one brace
      lit = i + 2;
      i = find_brace(s, i + 2);
      continue;
    }
    if (s[i] == '{') {
      if (std::size_t n = slot_ref_length(s, i)) {
        flush(i);
        out.push_back(Segment{true, s.substr(i + 1, n - 2), kNone});
        lit = i + n;
        i = find_brace(s, i + n);
        continue;
      }
    }
    i = find_brace(s, i + 1);
  }
  flush(s.size());
  return out;
}

struct Size {
  std::uint64_t cps = 0;    // code points once filled
  std::uint64_t bytes = 0;  // bytes once filled
  std::uint64_t steps = 0;  // bytes + references walked while filling
  bool bad = false;         // uses an undefined or cyclic slot
};

// Size of a template given the sizes of the slots it references.
Size template_size(const std::vector<Segment>& segs, const std::vector<Size>& slot_sizes) {
  Size z;
  for (const Segment& seg : segs) {
    if (!seg.is_slot) {
      z.cps = sat_add(z.cps, count_code_points(seg.text));
      z.bytes = sat_add(z.bytes, seg.text.size());
      z.steps = sat_add(z.steps, seg.text.size());
      continue;
    }
    if (seg.slot == kNone) {
      z.bad = true;
      continue;
    }
    const Size& s = slot_sizes[seg.slot];
    z.bad = z.bad || s.bad;
    z.cps = sat_add(z.cps, s.cps);
    z.bytes = sat_add(z.bytes, s.bytes);
    z.steps = sat_add(sat_add(z.steps, s.steps), 1);
  }
  return z;
}

// Fills a template without recursion (slot chains may be thousands deep).
std::string fill(const std::vector<Segment>& segs, const std::vector<Slot>& slots, std::size_t reserve) {
  std::string out;
  out.reserve(reserve);
  std::vector<std::pair<const std::vector<Segment>*, std::size_t>> stack{{&segs, 0}};
  while (!stack.empty()) {
    auto& [list, idx] = stack.back();
    if (idx == list->size()) {
      stack.pop_back();
      continue;
    }
    const Segment& seg = (*list)[idx++];
    if (seg.is_slot) {
      stack.emplace_back(&slots[seg.slot].segments, 0);
    } else {
      out += seg.text;
    }
  }
  return out;
}

// `fill` is the slot's text (a string, as the seed types it); a slot with no definition
// (slot-undefined) has none, and its loc has no `fill` key rather than a null.
Json slot_loc(const std::string& field, std::string_view templ, std::string_view slot,
              const Json& fill_value) {
  Json loc{{"field", field}, {"template", templ}, {"slot", slot}};
  if (!fill_value.is_null()) loc["fill"] = fill_value;
  return loc;
}

// Resolves the slot references of a template; path_of() names it in findings.
template <class PathOf>
void check_refs(std::vector<Segment>& segs, const Model& m, Context& cx, const PathOf& path_of,
                std::string_view templ) {
  for (Segment& seg : segs) {
    if (!seg.is_slot) continue;
    if (std::size_t slot = m.slot_index.find(seg.text); slot != kNone) {
      seg.slot = slot;
      continue;
    }
    const std::string path = path_of();
    cx.error("slot-undefined", path,
             path + " uses {" + std::string(seg.text) + "} but scene.slots defines no slot '" +
                 std::string(seg.text) + "'; define it in scene.slots, or write {{" +
                 std::string(seg.text) + "}} for literal braces",
             slot_loc(path, templ, seg.text, Json()));
  }
}

}  // namespace

std::size_t slot_ref_length(std::string_view s, std::size_t i) noexcept {
  if (i >= s.size() || s[i] != '{') return 0;
  std::size_t j = i + 1;
  while (j < s.size() && j - i - 1 <= 64 && id_char(s[j])) ++j;
  std::size_t n = j - i - 1;
  if (n == 0 || n > 64 || j >= s.size() || s[j] != '}') return 0;
  return n + 2;
}

void compile(Model& m, Context& cx) {
  const std::uint64_t max_chars = cx.limits.max_prose_chars;
  const std::size_t ns = m.slots.size();

  // 1. Parse templates and resolve references.
  for (Slot& s : m.slots) {
    s.segments = parse_template(s.raw);
    check_refs(s.segments, m, cx, [&] { return s.path(); }, s.raw);
  }
  // A prose field without braces is its own compiled form: it keeps no segments.
  for (ProseField& f : m.prose) {
    if (find_brace(f.raw, 0) == std::string_view::npos) continue;
    f.segments = parse_template(f.raw);
    check_refs(f.segments, m, cx, [&] { return m.path(f); }, f.raw);
  }

  // 2. Slot cycles.
  std::vector<std::vector<std::size_t>> adj(ns);
  for (std::size_t i = 0; i < ns; ++i) {
    for (const Segment& seg : m.slots[i].segments) {
      if (seg.is_slot && seg.slot != kNone) adj[i].push_back(seg.slot);
    }
  }
  std::vector<char> cyclic(ns, 0);
  for (const auto& comp : cyclic_components(ns, adj)) {
    for (std::size_t v : comp) cyclic[v] = 1;
    for (std::size_t v : comp) {
      // The slot it references inside the same cycle.
      std::size_t next = v;
      for (std::size_t w : adj[v]) {
        if (std::binary_search(comp.begin(), comp.end(), w)) {
          next = w;
          break;
        }
      }
      const Slot& s = m.slots[v];
      const Slot& t = m.slots[next];
      const std::string s_name(s.name), t_name(t.name), s_path = s.path();
      std::string names;
      for (std::size_t k = 0; k < comp.size(); ++k) {
        if (k == 8) {
          names += ", ... (" + std::to_string(comp.size()) + " slots)";
          break;
        }
        if (!names.empty()) names += ", ";
        names += m.slots[comp[k]].name;
      }
      cx.error("slot-cycle", s_path,
               "slot '" + s_name + "' uses {" + t_name + "}, which fills back into '" + s_name +
                   "' (cycle: " + names + "); rewrite one of them as plain prose",
               slot_loc(s_path, s.raw, t.name, t.raw));
    }
  }

  // 3. Sizes of every slot, in dependency order, without recursion.
  std::vector<Size> sizes(ns);
  std::vector<char> done(ns, 0);
  for (std::size_t i = 0; i < ns; ++i) {
    if (cyclic[i]) {
      sizes[i].bad = true;
      done[i] = 1;
    }
  }
  for (std::size_t root = 0; root < ns; ++root) {
    if (done[root]) continue;
    std::vector<std::pair<std::size_t, std::size_t>> stack{{root, 0}};
    while (!stack.empty()) {
      auto& [v, k] = stack.back();
      if (k < adj[v].size()) {
        std::size_t w = adj[v][k++];
        if (!done[w]) stack.emplace_back(w, 0);
        continue;
      }
      sizes[v] = template_size(m.slots[v].segments, sizes);
      done[v] = 1;
      stack.pop_back();
    }
  }
  for (std::size_t i = 0; i < ns; ++i) {
    const Slot& s = m.slots[i];
    std::uint64_t raw = count_code_points(s.raw);
    if (raw > max_chars) {
      const std::string path = s.path();
      cx.error("limit", path,
               path + " is " + std::to_string(raw) + " characters, over the limit of " +
                   std::to_string(max_chars) + " characters per prose field (max_prose_chars); shorten it");
    } else if (!sizes[i].bad && sizes[i].cps > max_chars) {
      const std::string path = s.path();
      cx.error("limit", path,
               path + " fills to " + (sizes[i].cps >= kSat ? std::string("an unbounded number of") : std::to_string(sizes[i].cps)) +
                   " characters, over the limit of " + std::to_string(max_chars) +
                   " characters per prose field (max_prose_chars); use fewer or shorter slots");
    }
  }

  // 4. Prose fields: limits before and after filling, then the total work.
  std::vector<Size> field_sizes(m.prose.size());
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < m.prose.size(); ++i) {
    ProseField& f = m.prose[i];
    // Bytes bound code points from above: count them only where they may pass the limit.
    std::uint64_t raw = f.raw.size() > max_chars ? count_code_points(f.raw) : f.raw.size();
    Size z = f.segments.empty() ? Size{raw, f.raw.size(), f.raw.size(), false}
                                : template_size(f.segments, sizes);
    field_sizes[i] = z;
    if (raw > max_chars) {
      const std::string path = m.path(f);
      cx.error("limit", path,
               path + " is " + std::to_string(raw) + " characters, over the limit of " +
                   std::to_string(max_chars) + " characters per prose field (max_prose_chars); shorten it");
      continue;
    }
    if (z.bad) continue;  // reported where the slot is defined or used
    if (z.cps > max_chars) {
      const std::string path = m.path(f);
      cx.error("limit", path,
               path + " fills to " + (z.cps >= kSat ? std::string("an unbounded number of") : std::to_string(z.cps)) +
                   " characters once slots are filled, over the limit of " + std::to_string(max_chars) +
                   " characters per prose field (max_prose_chars); use fewer or shorter slots");
      continue;
    }
    f.fillable = true;
    total = sat_add(total, z.steps);
  }
  // The whole resolved world is bounded too: filling may not do more work than
  // eight times the document byte limit allows.
  const std::uint64_t max_total = sat_add(std::uint64_t{cx.limits.max_document_bytes} * 8, 0);
  if (total > max_total) {
    cx.error("limit", "scene",
             "filling slots would write " + std::to_string(total) +
                 " bytes of prose in all, over the limit of " + std::to_string(max_total) +
                 " (8 x max_document_bytes); use slots in fewer places or make them shorter");
    for (ProseField& f : m.prose) f.fillable = false;
  }
  for (std::size_t i = 0; i < m.prose.size(); ++i) {
    ProseField& f = m.prose[i];
    if (!f.fillable) continue;
    std::string_view raw = f.raw;
    bool has_slot = std::any_of(f.segments.begin(), f.segments.end(),
                                [](const Segment& seg) { return seg.is_slot; });
    if (!has_slot && raw.size() == field_sizes[i].bytes) {
      f.verbatim = true;  // no braces, or no slots and no escapes (they would shorten the text)
    } else {
      f.filled = fill(f.segments, m.slots, static_cast<std::size_t>(field_sizes[i].bytes));
    }
  }

  // 5. slot-unused: slots no prose field reaches, directly or through other slots.
  std::vector<char> used(ns, 0);
  std::vector<std::size_t> work;
  for (const ProseField& f : m.prose) {
    for (const Segment& seg : f.segments) {
      if (seg.is_slot && seg.slot != kNone && !used[seg.slot]) {
        used[seg.slot] = 1;
        work.push_back(seg.slot);
      }
    }
  }
  while (!work.empty()) {
    std::size_t v = work.back();
    work.pop_back();
    for (std::size_t w : adj[v]) {
      if (!used[w]) {
        used[w] = 1;
        work.push_back(w);
      }
    }
  }
  for (std::size_t i = 0; i < ns; ++i) {
    if (used[i]) continue;
    const std::string name(m.slots[i].name);
    cx.add("slot-unused", Severity::kInfo, m.slots[i].path(),
           "slot '" + name + "' is defined but no prose uses it; write {" + name +
               "} where it belongs or remove it from scene.slots");
  }
}

}  // namespace conjure::kernel
