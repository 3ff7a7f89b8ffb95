// The lint catalogue: every built-in lint id, in the order of WORLD.md's two
// tables, then the character table of docs/lints.md, then `plugin-error`.
// tests/cpp/kernel checks it against WORLD.md and docs/lints.md.
#include "conjure/kernel/gate.hpp"

namespace conjure {

const std::vector<LintInfo>& lint_catalogue() {
  static const std::vector<LintInfo> catalogue = {
      {"schema", Severity::kError, true,
       "a required field is missing or has the wrong type, an enum value or id pattern is broken, "
       "or the schemaVersion major is unknown"},
      {"dangling-ref", Severity::kError, true,
       "entrance.state, an event's from/to, or a cutscene's state names no state"},
      {"transition-needs-to", Severity::kError, true, "a transition without `to`"},
      {"override-forbids-to", Severity::kError, true, "an override or terminal carrying `to`"},
      {"terminal-needs-ending", Severity::kError, true, "a terminal without an ending"},
      {"duplicate-name", Severity::kError, true, "two events (or two cutscenes) share a name"},
      {"ending-dead-end", Severity::kError, true,
       "a state with an ending is in the `from` of a transition or override"},
      {"reserved-hotkey", Severity::kError, true, "a hotkey is W, A, S, D (any case) or a digit"},
      {"hotkey-clash", Severity::kError, true,
       "two events that can fire from the same state share a hotkey (case-insensitive)"},
      {"kernel-cycle", Severity::kError, true,
       "self-firing transitions (timing.after > 0, no hotkey, no requires) form a cycle"},
      {"slot-undefined", Severity::kError, true, "prose uses {name} that scene.slots does not define"},
      {"slot-cycle", Severity::kError, true, "slot definitions fill each other in a cycle"},
      {"limit", Severity::kError, true,
       "a size limit is passed (states, events, prose characters before or after filling slots)"},
      {"negation", Severity::kWarning, false,
       "prose negates (no, not, without, never, none, nothing, n't)"},
      {"whiteout", Severity::kWarning, false, "prose invites blown-out white frames"},
      {"intent", Severity::kWarning, false, "prose states intent or story instead of pixels"},
      {"lethal-override", Severity::kWarning, false, "an override's prose is lethal"},
      {"budget", Severity::kWarning, false,
       "a state's composed static or dynamic prompt passes the token budget"},
      {"unreachable", Severity::kWarning, false,
       "a state cannot be reached from the entrance (requires and grants taken into account)"},
      {"stuck", Severity::kWarning, false,
       "a reachable non-ending state has no transition or terminal that could ever fire"},
      {"unsatisfiable-requires", Severity::kWarning, false,
       "an event requires a flag that no event grants"},
      {"no-ending", Severity::kInfo, false, "no ending is reachable from the entrance"},
      {"slot-unused", Severity::kInfo, false, "a slot is defined and never used"},
      {"character-persona", Severity::kError, true,
       "a character's brain has no persona, an empty one, or one over 2,000 characters"},
      {"character-lore", Severity::kError, true,
       "a lore fact is empty or over 500 characters, the lore text is over 20,000, or it has over 200 facts"},
      {"character-voice", Severity::kError, true,
       "the voice engine or voice name is unknown, or the rate or pitch is out of range"},
      {"character-placement", Severity::kError, true,
       "a world places a character that is not one of its app's, twice, or in a state it lacks"},
      {"character-stance-unreached", Severity::kWarning, false,
       "no stance event leads from the entrance to a stance"},
      {"character-pitch-ignored", Severity::kInfo, false, "a pitch is set for a Piper voice, which has none"},
      {"plugin-error", Severity::kWarning, false,
       "a plugin lint raised or returned something unusable; its findings are missing"},
  };
  return catalogue;
}

}  // namespace conjure
