// apply_ops: the op vocabulary applied in order to a copy (docs/ops.md).
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "conjure/errors.hpp"
#include "conjure/ops/ops.hpp"
#include "ops/internal.hpp"

namespace conjure {
namespace {

using ops_detail::utf8_prefix;

// An op that cannot apply: caught per op, turned into an ApplyError.
struct Skip {
  ErrorCode code;
  std::string why;
};

std::string in_quotes(const std::string& s) {
  return "\"" + (s.size() > 80 ? utf8_prefix(s, 77) + "..." : s) + "\"";
}
std::string shown_id(const std::string& s) { return s.size() > 80 ? utf8_prefix(s, 77) + "..." : s; }

std::string str_or(const Json& obj, const char* key, const std::string& fallback = {}) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : fallback;
}

// The op without `op` and the given addressing keys: what gets stored.
Json body_of(const Json& op, std::initializer_list<const char*> drop) {
  Json body = op;
  body.erase("op");
  for (const char* k : drop) body.erase(k);
  return body;
}

void from_as_array(Json& event) {
  auto from = event.find("from");
  if (from != event.end() && from->is_string()) *from = Json::array({*from});
}

// Next free variant label: B..Z, then V27, V28, ...
std::string variant_label(std::size_t n) {
  if (n <= 26) return std::string(1, static_cast<char>('A' + n - 1));
  return "V" + std::to_string(n);
}

class Applier {
 public:
  explicit Applier(const Json& world) : world_(world) {
    auto scene = world_.find("scene");
    if (scene == world_.end()) return;
    if (!scene->is_object()) {
      scene_ok_ = false;
      return;
    }
    auto events = scene->find("events");
    if (events == scene->end()) return;
    if (!events->is_array()) {
      events_ok_ = false;
      return;
    }
    events_present_ = true;
    events_ = std::move(events->get_ref<Json::array_t&>());
    events->get_ref<Json::array_t&>().clear();
    live_.assign(events_.size(), 1);
    for (std::size_t i = 0; i < events_.size(); ++i) {
      const Json& ev = events_[i];
      if (!ev.is_object()) continue;
      auto name = ev.find("name");
      if (name != ev.end() && name->is_string()) by_name_[name->get<std::string>()].push_back(i);
    }
  }

  void apply(std::size_t index, const Json& op, std::vector<ApplyError>& errors) {
    const std::string kind = op["op"].get<std::string>();
    label_ = kind;
    try {
      if (kind == "add_state") {
        add_state(op);
      } else if (kind == "update_state") {
        update_state(op);
      } else if (kind == "delete_state") {
        delete_state(op);
      } else if (kind == "add_event") {
        add_event(op);
      } else if (kind == "update_event") {
        update_event(op);
      } else if (kind == "delete_event") {
        delete_event(op);
      } else if (kind == "set_entrance") {
        set_entrance(op);
      } else if (kind == "add_variant") {
        add_variant(op);
      } else if (kind == "remove_variant") {
        remove_variant(op);
      } else if (kind == "set_slot") {
        set_slot(op);
      } else if (kind == "remove_slot") {
        remove_slot(op);
      }
    } catch (const Skip& s) {
      errors.push_back({index, s.code, "op " + std::to_string(index) + " (" + label_ + "): " + s.why});
    }
  }

  Json finish() && {
    if (events_present_ || !events_.empty()) {
      Json::array_t out;
      out.reserve(events_.size());
      for (std::size_t i = 0; i < events_.size(); ++i)
        if (live_[i]) out.push_back(std::move(events_[i]));
      world_["scene"]["events"] = Json(std::move(out));
    }
    return std::move(world_);
  }

 private:
  // ---- containers ----
  Json& states(bool create) {
    if (!scene_ok_) throw Skip{ErrorCode::kBadInput, "the world's scene is not an object"};
    Json& scene = world_["scene"];
    auto it = scene.find("states");
    if (it == scene.end()) {
      if (!create) throw Skip{ErrorCode::kNotFound, "the world has no states"};
      return scene["states"] = Json::object();
    }
    if (!it->is_object()) throw Skip{ErrorCode::kBadInput, "the world's scene.states is not an object"};
    return *it;
  }
  Json& state(const std::string& id) {
    Json& all = states(false);
    auto it = all.find(id);
    if (it == all.end()) throw Skip{ErrorCode::kNotFound, "no state " + shown_id(id)};
    return *it;
  }
  void events_usable() const {
    if (!scene_ok_) throw Skip{ErrorCode::kBadInput, "the world's scene is not an object"};
    if (!events_ok_) throw Skip{ErrorCode::kBadInput, "the world's scene.events is not an array"};
  }
  std::size_t event_index(const std::string& name) const {
    events_usable();
    auto it = by_name_.find(name);
    if (it == by_name_.end() || it->second.empty()) {
      throw Skip{ErrorCode::kNotFound, "no event named " + in_quotes(name)};
    }
    return it->second.front();
  }
  void unindex(const std::string& name, std::size_t idx) {
    auto it = by_name_.find(name);
    if (it == by_name_.end()) return;
    auto& v = it->second;
    for (auto p = v.begin(); p != v.end(); ++p) {
      if (*p == idx) {
        v.erase(p);
        break;
      }
    }
    if (v.empty()) by_name_.erase(it);
  }
  void index(const std::string& name, std::size_t idx) {
    auto& v = by_name_[name];
    auto p = v.begin();
    while (p != v.end() && *p < idx) ++p;
    v.insert(p, idx);
  }

  // ---- reverse references (built on the first delete_state) ----
  void note_refs(std::size_t idx) {
    const Json& ev = events_[idx];
    if (!ev.is_object()) return;
    auto from = ev.find("from");
    if (from != ev.end() && from->is_array()) {
      for (const Json& s : *from)
        if (s.is_string()) event_refs_[s.get<std::string>()].push_back(idx);
    }
    auto to = ev.find("to");
    if (to != ev.end() && to->is_string()) event_refs_[to->get<std::string>()].push_back(idx);
  }
  void build_refs() {
    if (refs_built_) return;
    refs_built_ = true;
    for (std::size_t i = 0; i < events_.size(); ++i) note_refs(i);
    if (!scene_ok_) return;
    auto scene = world_.find("scene");
    if (scene == world_.end()) return;
    auto cuts = scene->find("cutscenes");
    if (cuts == scene->end() || !cuts->is_array()) return;
    for (std::size_t i = 0; i < cuts->size(); ++i) {
      const Json& c = (*cuts)[i];
      if (!c.is_object()) continue;
      std::string st = str_or(c, "state");
      if (st.empty() && !(c.contains("state") && c["state"].is_string())) continue;
      cutscene_refs_[st].push_back(str_or(c, "name", "#" + std::to_string(i)));
    }
  }
  // "event "X" (from), cutscene "Y"" for every live reference to `id`.
  std::vector<std::string> refs_to(const std::string& id) {
    build_refs();
    std::vector<std::string> out;
    auto it = event_refs_.find(id);
    if (it != event_refs_.end()) {
      std::vector<std::size_t>& idxs = it->second;
      std::vector<std::size_t> still;  // drop stale entries as they are found
      std::unordered_set<std::size_t> seen;
      for (std::size_t idx : idxs) {
        if (!live_[idx] || !seen.insert(idx).second) continue;
        const Json& ev = events_[idx];
        bool in_from = false, in_to = false;
        auto from = ev.find("from");
        if (from != ev.end() && from->is_array()) {
          for (const Json& s : *from)
            if (s.is_string() && s.get_ref<const std::string&>() == id) in_from = true;
        }
        auto to = ev.find("to");
        in_to = to != ev.end() && to->is_string() && to->get_ref<const std::string&>() == id;
        if (!in_from && !in_to) continue;
        still.push_back(idx);
        std::string role = in_from && in_to ? "from, to" : in_from ? "from" : "to";
        out.push_back("event " + in_quotes(str_or(ev, "name", "#" + std::to_string(idx))) + " (" +
                      role + ")");
      }
      idxs = std::move(still);
    }
    auto cit = cutscene_refs_.find(id);
    if (cit != cutscene_refs_.end()) {
      for (const std::string& name : cit->second) out.push_back("cutscene " + in_quotes(name));
    }
    return out;
  }

  // ---- ops ----
  void add_state(const Json& op) {
    Json& all = states(true);
    std::string id;
    auto given = op.find("id");
    if (given != op.end()) {
      id = given->get<std::string>();
      label_ += " " + shown_id(id);
      if (all.contains(id)) throw Skip{ErrorCode::kConflict, "a state " + shown_id(id) + " already exists"};
    } else {
      std::string base = ops_detail::slug_from_prose(str_or(op, "base"));
      if (base.empty()) base = "state";
      id = ops_detail::fresh_id(base, "-", [&all](const std::string& s) { return all.contains(s); },
                                &next_suffix_);
      label_ += " " + id;
    }
    all[id] = body_of(op, {"id"});
  }

  void update_state(const Json& op) {
    const std::string id = op["id"].get<std::string>();
    label_ += " " + shown_id(id);
    Json& st = state(id);
    const Json& patch = op["patch"];
    auto pid = patch.find("id");
    if (pid != patch.end()) {
      if (!(pid->is_string() && pid->get_ref<const std::string&>() == id)) {
        throw Skip{ErrorCode::kBadInput,
                   "a patch cannot change a state's id; add a state with the new id, move the "
                   "references, then delete this one"};
      }
      Json rest = patch;
      rest.erase("id");
      merge_patch(st, rest);
      return;
    }
    merge_patch(st, patch);
  }

  void delete_state(const Json& op) {
    const std::string id = op["id"].get<std::string>();
    label_ += " " + shown_id(id);
    Json& all = states(false);
    auto it = all.find(id);
    if (it == all.end()) throw Skip{ErrorCode::kNotFound, "no state " + shown_id(id)};
    auto entrance = world_.find("entrance");
    if (entrance != world_.end() && entrance->is_object() && str_or(*entrance, "state") == id &&
        entrance->contains("state")) {
      throw Skip{ErrorCode::kBadInput,
                 "it is the entrance; set_entrance to another state first"};
    }
    if (scene_ok_ && events_ok_) {
      std::vector<std::string> refs = refs_to(id);
      if (!refs.empty()) {
        constexpr std::size_t kShown = 5;
        std::string list;
        for (std::size_t i = 0; i < refs.size() && i < kShown; ++i) {
          if (i > 0) list += ", ";
          list += refs[i];
        }
        if (refs.size() > kShown) list += " and " + std::to_string(refs.size() - kShown) + " more";
        throw Skip{ErrorCode::kBadInput,
                   "the state is referenced by " + list + "; detach those refs first"};
      }
    } else {
      build_refs();
      if (cutscene_refs_.count(id) != 0) {
        throw Skip{ErrorCode::kBadInput, "the state is referenced by cutscene " +
                                             in_quotes(cutscene_refs_[id].front()) +
                                             "; detach those refs first"};
      }
    }
    all.erase(it);
  }

  void add_event(const Json& op) {
    events_usable();
    Json ev = body_of(op, {});
    from_as_array(ev);
    std::string name;
    if (ev.contains("name")) {
      name = ev["name"].get<std::string>();
      label_ += " " + in_quotes(name);
      if (by_name_.count(name) != 0) {
        throw Skip{ErrorCode::kConflict, "an event named " + in_quotes(name) + " already exists"};
      }
    } else {
      const std::string kind = ev["kind"].get<std::string>();
      std::string from0 = ev["from"].empty() ? std::string() : ev["from"][0].get<std::string>();
      std::string to = str_or(ev, "to");
      std::string base;
      if (kind == "transition" && !from0.empty() && !to.empty()) {
        base = utf8_prefix(from0, 50) + " to " + utf8_prefix(to, 50);
      } else if (!from0.empty()) {
        base = kind + " in " + utf8_prefix(from0, 90);
      } else {
        base = kind;
      }
      name = ops_detail::fresh_id(base, " ", [this](const std::string& s) { return by_name_.count(s) != 0; },
                                  &next_event_suffix_);
      ev["name"] = name;
      label_ += " " + in_quotes(name);
    }
    std::size_t idx = events_.size();
    events_.push_back(std::move(ev));
    live_.push_back(1);
    index(name, idx);
    if (refs_built_) note_refs(idx);
  }

  void update_event(const Json& op) {
    const std::string name = op["name"].get<std::string>();
    label_ += " " + in_quotes(name);
    std::size_t idx = event_index(name);
    const Json& patch = op["patch"];
    std::string new_name = name;
    auto pn = patch.find("name");
    if (pn != patch.end()) {
      if (!pn->is_string()) {
        throw Skip{ErrorCode::kBadInput, pn->is_null()
                                             ? "an event's name cannot be removed"
                                             : "patch.name must be a string"};
      }
      new_name = pn->get<std::string>();
      if (new_name != name && by_name_.count(new_name) != 0) {
        throw Skip{ErrorCode::kConflict,
                   "cannot rename: an event named " + in_quotes(new_name) + " already exists"};
      }
    }
    Json& ev = events_[idx];
    merge_patch(ev, patch);
    from_as_array(ev);
    if (new_name != name) {
      unindex(name, idx);
      index(new_name, idx);
    }
    if (refs_built_) note_refs(idx);
  }

  void delete_event(const Json& op) {
    const std::string name = op["name"].get<std::string>();
    label_ += " " + in_quotes(name);
    std::size_t idx = event_index(name);
    live_[idx] = 0;
    unindex(name, idx);
    events_[idx] = Json();
  }

  void set_entrance(const Json& op) {
    const std::string id = op["state"].get<std::string>();
    label_ += " " + shown_id(id);
    state(id);
    Json& entrance = world_["entrance"];
    if (!entrance.is_object()) entrance = Json::object();
    entrance["state"] = id;
    auto image = op.find("image");
    if (image != op.end()) entrance["image"] = *image;
  }

  Json& variants_of(const std::string& id, bool create) {
    Json& st = state(id);
    if (!st.is_object()) throw Skip{ErrorCode::kBadInput, "state " + shown_id(id) + " is not an object"};
    auto it = st.find("variants");
    if (it == st.end()) {
      if (!create) throw Skip{ErrorCode::kNotFound, "state " + shown_id(id) + " has no variants"};
      return st["variants"] = Json::array();
    }
    if (!it->is_array()) {
      throw Skip{ErrorCode::kBadInput, "state " + shown_id(id) + "'s variants is not an array"};
    }
    return *it;
  }

  void add_variant(const Json& op) {
    const std::string id = op["state"].get<std::string>();
    label_ += " " + shown_id(id);
    Json& variants = variants_of(id, true);
    std::unordered_set<std::string> labels;
    for (const Json& v : variants)
      if (v.is_object()) labels.insert(str_or(v, "label"));
    Json variant = body_of(op, {"state"});
    std::string label;
    if (op.contains("label")) {
      label = op["label"].get<std::string>();
      label_ += " " + in_quotes(label);
      if (labels.count(label) != 0) {
        throw Skip{ErrorCode::kConflict,
                   "state " + shown_id(id) + " already has a variant labelled " + in_quotes(label)};
      }
    } else {
      std::size_t n = 2;
      while (labels.count(variant_label(n)) != 0) ++n;
      label = variant_label(n);
      variant["label"] = label;
      label_ += " " + in_quotes(label);
    }
    variants.push_back(std::move(variant));
  }

  void remove_variant(const Json& op) {
    const std::string id = op["state"].get<std::string>();
    const std::string label = op["label"].get<std::string>();
    label_ += " " + shown_id(id) + " " + in_quotes(label);
    Json& variants = variants_of(id, false);
    for (std::size_t i = 0; i < variants.size(); ++i) {
      const Json& v = variants[i];
      if (v.is_object() && v.contains("label") && v["label"] == label) {
        variants.erase(i);
        return;
      }
    }
    throw Skip{ErrorCode::kNotFound,
               "state " + shown_id(id) + " has no variant labelled " + in_quotes(label)};
  }

  // ---- slots ----
  Json& slots(bool create) {
    if (!scene_ok_) throw Skip{ErrorCode::kBadInput, "the world's scene is not an object"};
    Json& scene = world_["scene"];
    auto it = scene.find("slots");
    if (it == scene.end()) {
      if (!create) throw Skip{ErrorCode::kNotFound, "the world has no slots"};
      return scene["slots"] = Json::object();
    }
    if (!it->is_object()) throw Skip{ErrorCode::kBadInput, "the world's scene.slots is not an object"};
    return *it;
  }

  void set_slot(const Json& op) {
    const std::string name = op["name"].get<std::string>();
    label_ += " " + shown_id(name);
    if (name.empty()) throw Skip{ErrorCode::kBadInput, "a slot name cannot be empty"};
    slots(true)[name] = op["value"];
  }

  void remove_slot(const Json& op) {
    const std::string name = op["name"].get<std::string>();
    label_ += " " + shown_id(name);
    Json& all = slots(false);
    auto it = all.find(name);
    if (it == all.end()) throw Skip{ErrorCode::kNotFound, "no slot " + shown_id(name)};
    all.erase(it);
  }

  Json world_;
  bool scene_ok_ = true;        // scene is absent or an object
  bool events_ok_ = true;       // scene.events is absent or an array
  bool events_present_ = false; // scene.events was an array on entry
  Json::array_t events_;        // scene.events while ops run; deleted ones are null and not live
  std::vector<char> live_;
  std::unordered_map<std::string, std::vector<std::size_t>> by_name_;  // name -> live indices, ascending
  bool refs_built_ = false;
  std::unordered_map<std::string, std::vector<std::size_t>> event_refs_;  // state -> events (may be stale)
  std::unordered_map<std::string, std::vector<std::string>> cutscene_refs_;  // state -> cutscene names
  std::unordered_map<std::string, std::size_t> next_suffix_, next_event_suffix_;
  std::string label_;  // "delete_state cellar": names the op in messages
};

}  // namespace

OpsResult apply_ops(const Json& world, const Json& ops) {
  check_ops(ops);
  if (!world.is_object()) throw Error(ErrorCode::kBadInput, "world: expected an object");
  Applier applier(world);
  OpsResult result;
  for (std::size_t i = 0; i < ops.size(); ++i) applier.apply(i, ops[i], result.apply_errors);
  result.world = std::move(applier).finish();
  return result;
}

}  // namespace conjure
