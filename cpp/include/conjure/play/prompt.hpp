// Prompt composition (RUNTIME.md "The play engine"): the prose a renderer is
// given for one frame, from the current state or its variant arm (slots are
// already filled in the resolved world): base, ambient, the camera and movement
// layers (the `static` halves while still, the `dynamic` halves while moving)
// and an active override's prose.
#pragma once
#include <string>
#include <vector>

namespace conjure::play {

struct PromptParts {
  std::string title;          // the state id, or the ending's title once ended
  std::string subtitle;       // the ending's subtitle once ended
  std::string ending_kind;    // "win" | "lose" once ended, else ""
  std::string state;          // the state id
  std::string arm_label;      // "" for the base arm, else the variant label
  std::string base;
  std::vector<std::string> ambient;
  std::string camera;         // the chosen half of the camera layer
  std::string movement;       // the chosen half of the movement layer
  std::string override_text;  // the active override's prose ("" when none)
  bool moving = false;

  // The composed prompt: the non-empty parts joined by ", " in the order
  // base, ambient..., camera, movement, override.
  std::string text() const;
};

}  // namespace conjure::play
