// libFuzzer target: op batches -> check_ops / apply_ops -> run_gate on the result.
//
// Two input forms:
//   text form       "<world JSON>\n---ops---\n<ops JSON>": both halves are parsed
//                   with the default limits, then the ops apply to that world.
//   structured form anything without the separator: the bytes drive a small
//                   op builder (every op kind, well and badly shaped fields,
//                   merge patches with null deletes) over a built-in world.
// Neither may crash or hang; conjure::Error is the only exception allowed, and
// apply_ops only throws kBadInput (a malformed batch).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "conjure/ops/ops.hpp"
#include "fuzz_check.hpp"

namespace {

using conjure::Json;

constexpr std::string_view kSeparator = "\n---ops---\n";

const Json& base_world() {
  static const Json world = Json::parse(R"({
    "schemaVersion": "1.0",
    "name": "Fuzz Keep",
    "entrance": {"state": "gate", "image": {"src": "gate.jpg", "label": "the gate"}},
    "scene": {
      "slots": {"keep": "a squat stone keep on a cliff", "sea": "a grey sea under low cloud"},
      "states": {
        "gate": {"base": "{keep}, iron gate, torches", "camera": {"static": "eye level"},
                 "movement": {"static": "flags flapping"}, "ambient": ["gulls wheeling"]},
        "hall": {"base": "a long hall, banners, a cold hearth", "variants": [{"label": "B", "base": "a hall at night"}]},
        "cliff": {"base": "{sea}, a narrow ledge, spray"},
        "vault": {"base": "a vault of gold coins", "ending": {"kind": "win", "title": "Rich"}}
      },
      "events": [
        {"name": "Open the gate", "kind": "transition", "from": ["gate"], "to": "hall", "hotkey": "E"},
        {"name": "Climb out", "kind": "transition", "from": "hall", "to": "cliff", "hotkey": "F", "grants": ["rope"]},
        {"name": "Descend", "kind": "transition", "from": ["cliff"], "to": "vault", "hotkey": "Q", "requires": ["rope"]},
        {"name": "Thunder", "kind": "override", "from": ["cliff"], "base": "lightning over the sea", "timing": {"after": 5, "duration": 2}},
        {"name": "Slip", "kind": "terminal", "from": ["cliff"], "hotkey": "R", "ending": {"kind": "lose", "title": "Fallen"}}
      ],
      "cutscenes": [{"name": "Bell", "state": "hall", "base": "a bell swinging", "duration": 3}]
    }
  })");
  return world;
}

// Reads the input as a stream of small choices; past the end every read is 0.
class Bytes {
 public:
  Bytes(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool done() const { return pos_ >= size_; }
  std::uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::size_t pick(std::size_t n) { return n == 0 ? 0 : byte() % n; }
  // A short raw string straight from the input (may be invalid UTF-8).
  std::string raw(std::size_t max_len) {
    std::size_t len = pick(max_len + 1);
    std::string s;
    for (std::size_t i = 0; i < len && !done(); ++i) s.push_back(static_cast<char>(byte()));
    return s;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

const char* const kStates[] = {"gate", "hall", "cliff", "vault", "cellar", "tower", "", "a b", "x.y-z_9"};
const char* const kEvents[] = {"Open the gate", "Climb out", "Descend", "Thunder", "Slip", "Ring", "Dig", ""};
const char* const kProse[] = {"a dusty cellar, barrels", "{keep} at dawn", "{sea}, {keep}", "{missing} door",
                              "you should feel afraid", "blinding white light", "the guard dies",
                              "no torches, nothing", "{{literal}} braces", ""};
const char* const kKeys[] = {"E", "F", "Q", "R", "Space", "Enter", "W", "7", "e", ""};
const char* const kKinds[] = {"transition", "override", "terminal", "teleport"};
const char* const kOps[] = {"add_state", "update_state", "delete_state", "add_event", "update_event",
                            "delete_event", "set_entrance", "add_variant", "remove_variant", "bogus"};
const char* const kFields[] = {"base", "detail", "hotkey", "to", "from", "requires", "grants", "hidden",
                               "oneShot", "timing", "ending", "camera", "movement", "ambient", "kind",
                               "variants", "name", "id"};
const char* const kLabels[] = {"A", "B", "C", ""};

template <std::size_t N>
const char* choose(Bytes& in, const char* const (&pool)[N]) {
  return pool[in.pick(N)];
}

// A JSON value for a field: usually well typed, sometimes not, sometimes null.
Json value_for(Bytes& in, std::string_view field, int depth) {
  switch (in.pick(8)) {
    case 0: return nullptr;
    case 1: return in.raw(12);
    case 2: return static_cast<int>(in.byte()) - 64;
    case 3: return Json::array({choose(in, kStates), choose(in, kStates)});
    case 4:
      if (depth < 3) {
        Json obj = Json::object();
        std::size_t n = in.pick(4);
        for (std::size_t i = 0; i < n; ++i) obj[choose(in, kFields)] = value_for(in, "", depth + 1);
        return obj;
      }
      return true;
    default: break;
  }
  if (field == "base" || field == "detail") return choose(in, kProse);
  if (field == "hotkey") return choose(in, kKeys);
  if (field == "to") return choose(in, kStates);
  if (field == "from") return Json::array({choose(in, kStates)});
  if (field == "requires" || field == "grants") return Json::array({in.pick(2) ? "rope" : "key"});
  if (field == "hidden" || field == "oneShot") return in.pick(2) == 1;
  if (field == "timing") return Json{{"after", in.pick(6)}, {"duration", in.pick(4)}};
  if (field == "ending") return Json{{"kind", in.pick(2) ? "win" : "lose"}, {"title", "The end"}};
  if (field == "camera" || field == "movement") return Json{{"static", choose(in, kProse)}};
  if (field == "ambient") return Json::array({choose(in, kProse)});
  if (field == "kind") return choose(in, kKinds);
  return choose(in, kProse);
}

Json patch_for(Bytes& in) {
  Json patch = Json::object();
  std::size_t n = 1 + in.pick(4);
  for (std::size_t i = 0; i < n; ++i) {
    const char* field = choose(in, kFields);
    patch[field] = value_for(in, field, 0);
  }
  return patch;
}

Json build_op(Bytes& in) {
  Json op = Json::object();
  std::string kind = choose(in, kOps);
  op["op"] = kind;
  bool mangle = in.pick(16) == 0;  // now and then a field of the wrong type
  auto state = [&]() -> Json { return mangle ? Json(in.pick(9)) : Json(choose(in, kStates)); };
  if (kind == "add_state") {
    if (in.pick(3)) op["id"] = state();
    op["base"] = choose(in, kProse);
    if (in.pick(2)) op["camera"] = Json{{"static", choose(in, kProse)}};
    if (in.pick(4) == 0) op["ending"] = value_for(in, "ending", 0);
  } else if (kind == "update_state") {
    op["id"] = state();
    op["patch"] = mangle ? Json("not a patch") : patch_for(in);
  } else if (kind == "delete_state") {
    op["id"] = state();
  } else if (kind == "add_event") {
    op["kind"] = choose(in, kKinds);
    if (in.pick(4)) op["name"] = choose(in, kEvents);
    op["from"] = in.pick(2) ? Json(choose(in, kStates)) : Json::array({choose(in, kStates), choose(in, kStates)});
    if (in.pick(3)) op["to"] = state();
    if (in.pick(3)) op["hotkey"] = in.pick(5) ? Json(choose(in, kKeys)) : Json(nullptr);
    if (in.pick(2)) op["base"] = choose(in, kProse);
    if (in.pick(3) == 0) op["requires"] = value_for(in, "requires", 0);
    if (in.pick(3) == 0) op["grants"] = value_for(in, "grants", 0);
    if (in.pick(4) == 0) op["timing"] = value_for(in, "timing", 0);
    if (in.pick(4) == 0) op["ending"] = value_for(in, "ending", 0);
  } else if (kind == "update_event") {
    op["name"] = mangle ? Json(nullptr) : Json(choose(in, kEvents));
    op["patch"] = patch_for(in);
  } else if (kind == "delete_event") {
    op["name"] = choose(in, kEvents);
  } else if (kind == "set_entrance") {
    op["state"] = state();
    if (in.pick(3) == 0) op["image"] = in.pick(4) ? Json{{"src", "new.jpg"}} : Json(in.raw(6));
  } else if (kind == "add_variant") {
    op["state"] = state();
    if (in.pick(2)) op["label"] = choose(in, kLabels);
    op["base"] = choose(in, kProse);
  } else if (kind == "remove_variant") {
    op["state"] = state();
    op["label"] = choose(in, kLabels);
  }
  return op;
}

void apply_and_gate(const Json& world, const Json& ops) {
  try {
    conjure::OpsResult result = conjure::apply_ops(world, ops);
    std::size_t last = 0;
    bool first = true;
    for (const auto& err : result.apply_errors) {
      if (err.index >= ops.size()) conjure_fuzz::fail("apply error index past the batch");
      if (!first && err.index <= last) conjure_fuzz::fail("apply errors out of order");
      if (err.message.empty()) conjure_fuzz::fail("apply error without a message");
      last = err.index;
      first = false;
    }
    conjure_fuzz::check_gate_result(conjure::run_gate(result.world));
  } catch (const conjure::Error& e) {
    if (e.code() != conjure::ErrorCode::kBadInput && e.code() != conjure::ErrorCode::kLimit) {
      conjure_fuzz::fail(std::string("apply_ops threw ") + conjure::error_code_name(e.code()) + ": " +
                         e.what());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto cut = input.find(kSeparator);
  if (cut != std::string_view::npos) {
    Json world, ops;
    try {
      world = conjure::parse_world(input.substr(0, cut));
      ops = conjure::parse_json(input.substr(cut + kSeparator.size()));
    } catch (const conjure::Error& e) {
      conjure_fuzz::check_input_error(e);
      return 0;
    }
    try {
      conjure::check_ops(ops);
    } catch (const conjure::Error& e) {
      if (e.code() != conjure::ErrorCode::kBadInput) conjure_fuzz::fail("check_ops threw a non bad-input error");
      return 0;
    }
    apply_and_gate(world, ops);
    return 0;
  }

  Bytes in(data, size);
  Json ops = Json::array();
  while (!in.done() && ops.size() < 64) ops.push_back(build_op(in));
  if (ops.empty()) ops.push_back(Json{{"op", "delete_state"}, {"id", "hall"}});
  apply_and_gate(base_world(), ops);
  return 0;
}
