"""Load a world, lint it, edit it with graph ops, and diff the result.

Run from the repository root:  .venv/bin/python examples/quickstart.py
"""

from pathlib import Path

import conjure

HERE = Path(__file__).resolve().parent

world = conjure.World.from_file(HERE / "drowned-abbey.json")
print(world)

result = conjure.validate(world)
print("gate ok:", result.ok, "| findings:", len(result.diagnostics))
assert result.resolved is not None  # a world that passes the gate comes back resolved
print("resolved courtyard:", result.resolved.states["courtyard"]["base"])

flawed = conjure.World.from_file(HERE / "flawed-lighthouse.json")
for d in conjure.lint(flawed):
    print(f"  {d.severity:7} {d.lint:14} {d.path}: {d.message}")

edited = conjure.apply_ops(
    world,
    [
        {"op": "add_state", "id": "chapter_house", "base": "a round chapter house, stone benches circling a dry fountain"},
        {"op": "add_event", "kind": "transition", "name": "Slip into the chapter house",
         "from": ["nave"], "to": "chapter_house", "hotkey": "H"},
        {"op": "add_event", "kind": "transition", "name": "Leave the chapter house",
         "from": ["chapter_house"], "to": "nave", "hotkey": "R"},
        {"op": "delete_state", "id": "scriptorium"},
    ],
)
print("ops ok:", edited.ok)
for err in edited.apply_errors:
    print("  skipped:", err["message"])

changes = conjure.diff(world, edited.world)
print("states added:", changes["states"]["added"])
print("events added:", changes["events"]["added"])
