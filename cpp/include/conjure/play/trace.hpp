// Traces: a run written down as inputs with times, and what it produced.
// replay() drives a fresh Session through the inputs, so a run can be tested
// and reproduced without a renderer or a socket.
//
// JSON form of the inputs (tests/data/play/*.json):
//   [{"at": 0.5, "fire": "Open the door"}, {"at": 1, "key": "E"},
//    {"at": 2, "move": "W"}, {"at": 9}]
// `at` is seconds on the session clock (non-decreasing); before each input the
// session ticks up to `at`. An input with no action only advances the clock.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conjure/json.hpp"
#include "conjure/play/play_world.hpp"
#include "conjure/play/session.hpp"

namespace conjure::play {

struct TraceInput {
  enum class Kind { kWait, kFire, kKey, kMove };
  double at = 0;             // seconds
  Kind kind = Kind::kWait;
  std::string value;         // event name, key or held movement keys
};

struct TraceStep {
  double at = 0;                       // seconds on the session clock
  std::string input;                   // "fire:Name", "key:E", "move:WA", "wait"
  std::string refusal;                 // refusal_name of the input's result ("ok")
  std::vector<std::string> fired;      // events fired while processing it, in order
  std::string state;                   // state after it
  std::string override_event;          // the override active after it ("" when none)
  bool moving = false;                 // moving after it
};

struct Trace {
  std::string player;
  std::vector<std::string> states;     // every state entered, starting with the entrance
  std::vector<std::string> fired;      // every event fired, in order
  std::vector<std::string> flags;      // held at the end, in grant order
  std::optional<Ending> ending;
  std::vector<TraceStep> steps;        // one per input

  Json to_json() const;
  bool operator==(const Trace& other) const;
};

// Reads the JSON input list above. Error(kBadInput) for a malformed entry, a
// non-finite or decreasing `at`, or more than `max_inputs` entries.
std::vector<TraceInput> parse_trace_inputs(const Json& inputs, std::size_t max_inputs = 100000);

// Plays the inputs on a fresh session of `world` for `player`.
Trace replay(const std::shared_ptr<const PlayWorld>& world, std::string_view player,
             const std::vector<TraceInput>& inputs);

}  // namespace conjure::play
