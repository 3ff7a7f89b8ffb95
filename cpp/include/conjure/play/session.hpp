// The deterministic play engine (RUNTIME.md "The play engine"). A Session is
// one player's run through a PlayWorld: current state, flags, spent one-shots,
// time in state, the active override, the variant arm per state and the ending.
// It is pure: no clock, no randomness, no I/O. Time only moves through tick(),
// so the same world, player id and input trace always give the same run.
// A Session is not thread-safe; the world it plays is shared read-only.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conjure/play/play_world.hpp"
#include "conjure/play/prompt.hpp"

namespace conjure::play {

// Why an input did nothing.
enum class Refusal : std::uint8_t {
  kNone,            // accepted
  kEnded,           // the run has ended; every input is refused
  kUnknownEvent,    // no event has that name
  kWrongState,      // the event cannot fire from the current state
  kMissingFlags,    // a required flag is not held
  kSpent,           // a one-shot event already fired in this run
  kUnknownKey,      // no event of the current state has that hotkey (or a reserved key)
  kNoSuchIndex,     // a digit beyond the listed events (or 0)
  kBadInput,        // a negative / non-finite dt, an empty key, ...
};

// "ok", "ended", "unknown_event", "wrong_state", "missing_flags", "spent",
// "unknown_key", "no_such_index", "bad_input".
const char* refusal_name(Refusal r) noexcept;

// One event that fired.
struct Fired {
  std::string event;
  EventKind kind = EventKind::kTransition;
  std::string from;                 // the state it fired in
  std::string state;                // the state after it (== from unless a transition)
  std::vector<std::string> granted; // flags newly granted by it
  double duration = 0;              // an override's duration in seconds, else 0
  bool automatic = false;           // fired by its timer
  std::int64_t at_us = 0;           // session clock when it fired
};

// What one call changed. The runtime turns it into `state` / `fired` / `ending`
// messages: `fired` in order, then a `state` message when state_changed (or
// moving_changed / override_ended), then `ending` when ending is set.
struct StepResult {
  Refusal refusal = Refusal::kNone;
  std::string message;              // a readable reason when refused
  std::vector<Fired> fired;
  bool state_changed = false;       // state, flags or the listed events may differ
  bool moving_changed = false;
  bool override_ended = false;      // an override expired during this call
  std::optional<Ending> ending;     // the run ended during this call

  bool ok() const noexcept { return refusal == Refusal::kNone; }
};

// An event the player can fire now, with its digit (1–9; 0 past the ninth).
struct ListedEvent {
  std::string name;
  std::string hotkey;
  int index = 0;
  EventKind kind = EventKind::kTransition;
};

class Session {
 public:
  // Most automatic firings (timers) processed by one tick; time past them is
  // carried to the next tick, so a tick is bounded even in a world with
  // self-firing cycles behind hotkeys.
  static constexpr int kMaxFiringsPerTick = 1024;
  // Largest dt accepted by one tick (seconds); larger values are clamped.
  static constexpr double kMaxTickSeconds = 86400.0;

  Session(std::shared_ptr<const PlayWorld> world, std::string player_id);

  StepResult tick(double dt_seconds);
  StepResult fire(std::string_view event_name);
  // A hotkey (case-insensitive: "e", "Space") or a digit "1"–"9" picking from
  // available_events().
  StepResult key(std::string_view key);
  // The held movement keys ("WA"; "" when still). Letters other than WASD are ignored.
  StepResult move(std::string_view keys);

  std::vector<ListedEvent> available_events() const;
  // The refusal fire(name) would give now (kNone when it would fire).
  Refusal availability(std::uint32_t event) const noexcept;

  const PlayWorld& world() const noexcept { return *world_; }
  const std::shared_ptr<const PlayWorld>& world_ptr() const noexcept { return world_; }
  const std::string& player_id() const noexcept { return player_; }
  const std::string& state() const noexcept { return world_->states()[state_].id; }
  std::uint32_t state_index() const noexcept { return state_; }
  std::size_t arm() const noexcept { return arm_; }      // the current state's arm
  std::vector<std::string> flags() const;                 // held flags, in the order granted
  bool has_flag(std::string_view flag) const noexcept;
  bool spent(std::string_view event_name) const noexcept;
  bool moving() const noexcept { return moving_; }
  bool ended() const noexcept { return ending_.has_value(); }
  const std::optional<Ending>& ending() const noexcept { return ending_; }
  std::int64_t now_us() const noexcept { return now_us_; }
  double now() const noexcept { return static_cast<double>(now_us_) / 1e6; }
  double time_in_state() const noexcept { return static_cast<double>(now_us_ - entered_us_) / 1e6; }
  // The active override's event name ("" when none) and its end on the session clock.
  std::string active_override() const;
  std::int64_t override_end_us() const noexcept { return override_end_us_; }

  // The prompt for the current frame (PromptParts::text() is the composed prose).
  PromptParts prompt() const;

 private:
  void arrive(std::uint32_t state);
  StepResult fire_index(std::uint32_t event, bool automatic);
  void apply(std::uint32_t event, bool automatic, StepResult& out);

  std::shared_ptr<const PlayWorld> world_;
  std::string player_;
  std::uint32_t state_ = 0;
  std::size_t arm_ = 0;
  std::vector<std::uint8_t> held_;         // per flag
  std::vector<std::uint32_t> held_order_;  // flags in grant order
  std::vector<std::uint8_t> spent_;        // per event
  std::vector<std::uint8_t> timer_done_;   // per timer of the current state, this visit
  std::int64_t now_us_ = 0;
  std::int64_t entered_us_ = 0;
  std::int64_t carry_us_ = 0;              // tick time not yet processed
  std::uint32_t override_ = kNone;
  std::int64_t override_end_us_ = 0;
  std::uint32_t ended_by_ = kNone;         // the terminal event that ended the run
  bool moving_ = false;
  std::optional<Ending> ending_;
};

}  // namespace conjure::play
