"""``conjure plugin new NAME``: a lint plugin distribution to start from.

    conjure plugin new house-names [--dir DIR]

writes ``conjure-lint-house-names/``: a ``pyproject.toml`` declaring the ``conjure.lints``
entry point, a package with one working lint, a README and a pytest test. ``pip install
-e conjure-lint-house-names`` then makes ``conjure lint`` (or ``python -m conjure lint``)
run it as ``plugin.house-names.short-event-names``.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any, TextIO

from conjure._version import __version__

__all__ = ["add_parser", "render"]

EXIT_OK, EXIT_UNUSABLE = 0, 2
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")

_PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.1.0"
description = "conjure lints: {name}"
readme = "README.md"
requires-python = ">=3.10"
dependencies = ["conjure-worlds>={version}"]

[project.optional-dependencies]
test = ["pytest"]

# conjure finds the lints through this entry-point group: the module's `lints` list.
[project.entry-points."conjure.lints"]
{name} = "{module}"

[tool.setuptools]
packages = ["{module}"]
"""

_MODULE = '''\
"""conjure lints: {name}. Each lint gets the resolved world (slots filled) as a dict."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import conjure.plugins

__all__ = ["lints", "short_event_names"]

MIN_EVENT_NAME = 3


@conjure.plugins.lint("{name}.short-event-names", description="event names too short to tell the player anything")
def short_event_names(world: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for event in world["scene"].get("events", []):
        name = event.get("name", "")
        if len(name) < MIN_EVENT_NAME:
            yield {{
                "path": f"event[{{name}}].name",
                "message": f"event name {{name!r}} is under {{MIN_EVENT_NAME}} characters: name it after what the player does",
            }}


lints = [short_event_names]
'''

_TEST = '''\
import conjure

import {module}

WORLD = {{
    "schemaVersion": "1.0",
    "name": "Two rooms",
    "entrance": {{"state": "hall"}},
    "scene": {{
        "slots": {{}},
        "states": {{
            "hall": {{"base": "a long hall lit by lanterns, portraits on panelled walls"}},
            "yard": {{"base": "a yard of wet cobbles under rain, a cart by the gate",
                     "ending": {{"kind": "win", "title": "Outside"}}}},
        }},
        "events": [{{"kind": "transition", "name": "Go", "from": "hall", "to": "yard", "hotkey": "G"}}],
    }},
}}


def test_short_event_name_is_reported_by_the_gate():
    found = [d for d in conjure.lint(WORLD, plugins=[{module}.short_event_names]) if d.lint.startswith("plugin.")]
    assert [(d.lint, d.path) for d in found] == [("plugin.{name}.short-event-names", "event[Go].name")]


def test_installed_entry_point_runs_in_the_default_gate():
    assert any(d.lint == "plugin.{name}.short-event-names" for d in conjure.lint(WORLD))
'''

_README = """\
# {dist}

conjure lints: `plugin.{name}.*`.

```sh
pip install -e .            # in the environment conjure runs in
python -m conjure lint world.json
pip install -e '.[test]' && pytest
```

Add lints to `{module}/__init__.py` with `@conjure.plugins.lint("{name}.NAME")` and list
them in `lints`.
"""


def render(name: str) -> dict[str, str]:
    """The files of the plugin distribution for lint group ``name``, by relative path."""
    if not _NAME.match(name):
        raise ValueError(f"plugin name {name!r}: 1-40 characters of a-z, 0-9 and '-', starting with a letter")
    dist = f"conjure-lint-{name}"
    module = dist.replace("-", "_")
    fields = {"name": name, "dist": dist, "module": module, "version": __version__}
    return {
        "pyproject.toml": _PYPROJECT.format(**fields),
        "README.md": _README.format(**fields),
        f"{module}/__init__.py": _MODULE.format(**fields),
        "tests/test_lint.py": _TEST.format(**fields),
    }


def _new(args: argparse.Namespace, out: TextIO, stdin: Any) -> int:
    try:
        files = render(args.name)
    except ValueError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_UNUSABLE
    target = Path(args.dir) / f"conjure-lint-{args.name}"
    if target.exists():
        sys.stderr.write(f"error: {target} exists\n")
        return EXIT_UNUSABLE
    for rel, text in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    out.write(f"wrote {target}\nnext: pip install -e {target} && python -m conjure lint WORLD.json\n")
    return EXIT_OK


def add_parser(subparsers: Any) -> None:
    """Adds ``plugin new NAME`` to the ``conjure`` command."""
    p = subparsers.add_parser("plugin", help="start a lint plugin", description="Lint plugin scaffolding.")
    sub = p.add_subparsers(dest="plugin_command", metavar="COMMAND", required=True)
    n = sub.add_parser("new", help="write a lint plugin distribution to start from",
                       description="Writes conjure-lint-NAME/: pyproject.toml, one lint, a README and a test.")
    n.add_argument("name", metavar="NAME", help="the lint group: lints are plugin.NAME.*")
    n.add_argument("--dir", default=".", help="where to write it (default: the current directory)")
    n.set_defaults(handler=_new)
