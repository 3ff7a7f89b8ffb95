// The compact, typed form of a resolved world that the play engine runs
// (RUNTIME.md "The play engine"). Built once from the gate's resolved world
// (slots filled, `from` as arrays) and shared read-only by every session that
// plays it: a PlayWorld is immutable after build() and safe to read from many
// threads at once.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "conjure/json.hpp"

namespace conjure::play {

inline constexpr std::uint32_t kNone = 0xFFFFFFFFu;

// Heterogeneous lookup (string_view keys without a copy).
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

enum class EventKind : std::uint8_t { kTransition, kOverride, kTerminal };

// "transition" | "override" | "terminal".
const char* event_kind_name(EventKind kind) noexcept;

struct Ending {
  std::string kind;      // "win" | "lose"
  std::string title;
  std::string subtitle;  // may be empty
  bool operator==(const Ending&) const = default;
};

// A camera or movement layer: the `static` half is used while the player holds
// still, the `dynamic` half while moving.
struct LayerPair {
  std::string still;
  std::string moving;
};

// One prompt arm of a state: arm 0 is the state itself, arms 1.. its variants
// in document order. A variant inherits every field it does not set.
struct Arm {
  std::string label;  // "" for the base arm, the variant's `label` otherwise
  std::string base;
  LayerPair camera;
  LayerPair movement;
  std::vector<std::string> ambient;
};

struct PlayState {
  std::string id;
  std::vector<Arm> arms;              // never empty
  std::optional<Ending> ending;       // a terminal sink when set
  std::vector<std::uint32_t> events;  // events whose `from` holds this state, document order
  std::vector<std::uint32_t> timers;  // the subset with timing.after > 0, by (after, document order)
};

struct PlayEvent {
  std::string name;
  EventKind kind = EventKind::kTransition;
  std::vector<std::uint32_t> from;      // state indices
  std::uint32_t to = kNone;             // state index for a transition
  std::string hotkey;                   // as written ("" when none)
  std::string hotkey_key;               // upper-cased ASCII, for matching
  std::string base;                     // the event's prose
  std::string detail;
  std::vector<std::uint32_t> requires_; // flag indices
  std::vector<std::uint32_t> grants;    // flag indices
  bool hidden = false;
  bool one_shot = false;
  std::int64_t after_us = 0;            // timing.after in microseconds (0: no timer)
  std::int64_t duration_us = 0;         // override duration in microseconds (default 3 s)
  std::optional<Ending> ending;         // a terminal's ending
};

class PlayWorld {
 public:
  // Builds the typed form. Tolerates a world that has not been through the gate
  // (a `from` written as one string is read as an array) but refuses what cannot
  // be played: Error(kBadInput) naming the field for a missing or unknown
  // entrance, an event naming an unknown state, a transition without `to`, an
  // unknown event kind, a terminal without an ending or a wrong-typed field.
  static std::shared_ptr<const PlayWorld> build(const Json& resolved_world);

  const std::vector<PlayState>& states() const noexcept { return states_; }
  const std::vector<PlayEvent>& events() const noexcept { return events_; }
  const std::vector<std::string>& flags() const noexcept { return flags_; }
  std::uint32_t entrance() const noexcept { return entrance_; }
  const std::string& name() const noexcept { return name_; }

  std::uint32_t state_index(std::string_view id) const noexcept;     // kNone when unknown
  std::uint32_t event_index(std::string_view name) const noexcept;   // kNone when unknown
  // The events of `state` whose hotkey is `key_upper`, in document order.
  const std::vector<std::uint32_t>* events_by_hotkey(std::uint32_t state,
                                                     std::string_view key_upper) const noexcept;

 private:
  PlayWorld() = default;
  std::string name_;
  std::vector<PlayState> states_;
  std::vector<PlayEvent> events_;
  std::vector<std::string> flags_;
  std::uint32_t entrance_ = kNone;
  StringMap<std::uint32_t> state_ids_;
  StringMap<std::uint32_t> event_names_;
  // Per state: upper-cased hotkey → its events, document order.
  std::vector<StringMap<std::vector<std::uint32_t>>> hotkeys_;
};

// The variant arm a player sees in a state: arms are the base state plus its
// variants; the arm is variant_hash(player, state) % arm_count.
std::uint64_t variant_hash(std::string_view player_id, std::string_view state_id) noexcept;
std::size_t variant_arm(std::string_view player_id, std::string_view state_id,
                        std::size_t arm_count) noexcept;

}  // namespace conjure::play
