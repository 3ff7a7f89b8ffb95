"""The ``conjure`` command.

    conjure validate FILE...   gate each world; errors are shown, advisory findings counted
    conjure lint FILE...       every finding, with the field's text and a caret under the match
    conjure version

``-`` reads a world from stdin. Exit codes: 0 clean (warnings allowed unless
``--strict``), 1 error-severity findings (or warnings with ``--strict``), 2 unusable
input (a missing or unreadable file, invalid JSON, a document over a limit).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from rich.console import Console
from rich.text import Text

import conjure
from conjure.errors import ConjureError, LimitError, ParseError

__all__ = ["main", "build_parser"]

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_UNUSABLE = 2

_SEVERITY_STYLE = {"error": "bold white on red", "warning": "bold black on yellow", "info": "bold white on blue"}
_CONTEXT = 60  # characters of a field shown either side of a match


@dataclass
class FileReport:
    """What checking one input produced."""

    name: str
    diagnostics: list[conjure.Diagnostic] = field(default_factory=list)
    world: dict[str, Any] | None = None
    problem: dict[str, Any] | None = None  # unusable input: {code, message, line?, column?}

    def exit_code(self, strict: bool) -> int:
        if self.problem is not None:
            return EXIT_UNUSABLE
        severities = {d.severity for d in self.diagnostics}
        if "error" in severities or (strict and "warning" in severities):
            return EXIT_FINDINGS
        return EXIT_OK


# ---------------------------------------------------------------------------
# locating a diagnostic's text
# ---------------------------------------------------------------------------

_SEGMENT = re.compile(r"(state|event|cutscene)\[(.*?)\](?=\.|$|\[)|\[(\d+)\]|\.?([^.\[]+)")


def field_text(world: dict[str, Any] | None, path: str) -> str | None:
    """The text a diagnostic path points at (``state[cellar].base``,
    ``event[Open].movement.static``, ``scene.slots.abbey``, ``state[x].ambient[0]``), or None."""
    if not isinstance(world, dict):
        return None
    raw_scene = world.get("scene")
    scene: dict[str, Any] = raw_scene if isinstance(raw_scene, dict) else {}
    node: Any = world
    pos = 0
    while pos < len(path):
        m = _SEGMENT.match(path, pos)
        if m is None or m.end() == pos:
            return None
        pos = m.end()
        kind, key, index, name = m.group(1), m.group(2), m.group(3), m.group(4)
        if kind == "state":
            states = scene.get("states")
            node = states.get(key) if isinstance(states, dict) else None
        elif kind in ("event", "cutscene"):
            items = scene.get("events" if kind == "event" else "cutscenes")
            node = next((e for e in items if isinstance(e, dict) and e.get("name") == key), None) if isinstance(items, list) else None
        elif index is not None:
            node = node[int(index)] if isinstance(node, list) and int(index) < len(node) else None
        elif name is not None:
            node = node.get(name) if isinstance(node, dict) else None
        if node is None:
            return None
    return node if isinstance(node, str) else None


def _span(text: str, loc: dict[str, Any]) -> tuple[int, int] | None:
    """Character span of a prose loc in ``text`` (offsets read as characters, else as UTF-8 bytes)."""
    start, end, match = loc.get("start"), loc.get("end"), loc.get("match")
    if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start <= end:
        return None
    if end <= len(text) and (not isinstance(match, str) or text[start:end].lower() == match.lower()):
        return start, end
    raw = text.encode("utf-8")
    if end <= len(raw):
        piece = raw[start:end].decode("utf-8", errors="replace")
        if not isinstance(match, str) or piece.lower() == match.lower():
            cstart = len(raw[:start].decode("utf-8", errors="replace"))
            return cstart, cstart + len(piece)
    if isinstance(match, str) and match:
        found = text.lower().find(match.lower())
        if found >= 0:
            return found, found + len(match)
    return None


def _window(text: str, start: int, end: int) -> tuple[str, int, int]:
    """A one-line excerpt around [start, end) and the span's position in it."""
    lo = max(0, start - _CONTEXT)
    hi = min(len(text), end + _CONTEXT)
    prefix = "\u2026" if lo > 0 else ""
    suffix = "\u2026" if hi < len(text) else ""
    excerpt = prefix + text[lo:hi] + suffix
    excerpt = excerpt.replace("\n", " ").replace("\t", " ")
    return excerpt, start - lo + len(prefix), end - lo + len(prefix)


def excerpt_lines(diag: conjure.Diagnostic, world: dict[str, Any] | None) -> list[tuple[str, int, int]]:
    """(line, start, end) to print under a diagnostic: the field's text with the span to underline."""
    loc = diag.loc
    if not isinstance(loc, dict):
        return []
    template, slot = loc.get("template"), loc.get("slot")
    if isinstance(template, str) and isinstance(slot, str):
        token = "{" + slot + "}"
        at = template.find(token)
        if at >= 0:
            return [_window(template, at, at + len(token))]
        return []
    if "start" in loc:
        text = field_text(world, diag.path)
        if text is None and isinstance(loc.get("field"), str):
            text = field_text(world, loc["field"])
        if text is None:
            return []
        span = _span(text, loc)
        if span is not None and span[1] > span[0]:
            return [_window(text, *span)]
    return []


# ---------------------------------------------------------------------------
# checking
# ---------------------------------------------------------------------------


def _read(name: str, stdin: Any) -> bytes:
    if name == "-":
        return bytes(stdin.buffer.read()) if hasattr(stdin, "buffer") else str(stdin.read()).encode("utf-8")
    with open(name, "rb") as fh:
        return fh.read()


def check(name: str, *, plugins: bool, stdin: Any) -> FileReport:
    """Gates one input; unusable input is reported in ``problem``, never raised."""
    display = "<stdin>" if name == "-" else name
    report = FileReport(display)
    try:
        data = _read(name, stdin)
    except OSError as exc:
        report.problem = {"code": "unreadable", "message": exc.strerror or str(exc)}
        return report
    try:
        world = conjure.World.from_json(data)
    except ParseError as exc:
        report.problem = {"code": exc.code, "message": str(exc), "line": exc.line, "column": exc.column}
        return report
    except (LimitError, ConjureError) as exc:
        report.problem = {"code": exc.code, "message": str(exc)}
        return report
    report.world = world._data
    try:
        report.diagnostics = conjure.lint(world, plugins=plugins)
    except ConjureError as exc:
        report.problem = {"code": exc.code, "message": str(exc)}
    return report


def _counts(diags: Sequence[conjure.Diagnostic]) -> dict[str, int]:
    counts = {"error": 0, "warning": 0, "info": 0}
    for d in diags:
        counts[d.severity] = counts.get(d.severity, 0) + 1
    return counts


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


# ---------------------------------------------------------------------------
# output
# ---------------------------------------------------------------------------


def _console(out: TextIO) -> Console:
    # NO_COLOR (https://no-color.org) turns every escape code off, bold and underline too.
    if os.environ.get("NO_COLOR"):
        return Console(file=out, color_system=None, highlight=False, soft_wrap=True, emoji=False)
    return Console(file=out, highlight=False, soft_wrap=True, emoji=False)


def _print_diag(console: Console, diag: conjure.Diagnostic, world: dict[str, Any] | None) -> None:
    line = Text("  ")
    line.append(f" {diag.severity.upper()} ", style=_SEVERITY_STYLE.get(diag.severity, "bold"))
    line.append(" ")
    line.append(diag.lint, style="bold")
    line.append("  ")
    line.append(diag.path, style="cyan")
    console.print(line)
    console.print(Text("      " + diag.message))
    for excerpt, start, end in excerpt_lines(diag, world):
        shown = Text("      \u2502 ", style="dim")
        shown.append(excerpt[:start])
        shown.append(excerpt[start:end], style="bold red" if diag.severity == "error" else "bold yellow")
        shown.append(excerpt[end:])
        console.print(shown)
        console.print(Text("      \u2502 " + " " * start + "^" * max(1, end - start), style="bold magenta"))


def _print_report(console: Console, report: FileReport, *, all_findings: bool) -> None:
    header = Text()
    header.append(report.name, style="bold underline")
    if report.problem is not None:
        header.append("  unusable", style="bold red")
        console.print(header)
        problem = report.problem
        where = ""
        if problem.get("line") is not None:
            where = f" (line {problem['line']}, column {problem['column']})"
        console.print(Text(f"  {problem['code']}: {problem['message']}{where}", style="red"))
        return
    counts = _counts(report.diagnostics)
    if counts["error"]:
        header.append(f"  refused: {_plural(counts['error'], 'error')}", style="bold red")
    else:
        header.append("  ok", style="bold green")
    console.print(header)
    shown = report.diagnostics if all_findings else [d for d in report.diagnostics if d.severity == "error"]
    for diag in shown:
        _print_diag(console, diag, report.world)
    hidden = len(report.diagnostics) - len(shown)
    if hidden:
        console.print(Text(f"  {_plural(hidden, 'advisory finding')} (see `conjure lint`)", style="dim"))


def _summary(reports: Sequence[FileReport]) -> dict[str, int]:
    total = {"files": len(reports), "unusable": 0, "error": 0, "warning": 0, "info": 0}
    for r in reports:
        if r.problem is not None:
            total["unusable"] += 1
        for k, v in _counts(r.diagnostics).items():
            total[k] = total.get(k, 0) + v
    return total


def _print_summary(console: Console, total: dict[str, int], code: int) -> None:
    parts = [_plural(total["files"], "file")]
    if total["unusable"]:
        parts.append(f"{total['unusable']} unusable")
    parts += [_plural(total["error"], "error"), _plural(total["warning"], "warning"), _plural(total["info"], "info")]
    style = "bold green" if code == EXIT_OK else "bold red"
    verdict = "clean" if code == EXIT_OK else ("unusable input" if code == EXIT_UNUSABLE else "failed")
    line = Text()
    line.append(verdict, style=style)
    line.append(": " + ", ".join(parts))
    console.print(line)


def _run_check(args: argparse.Namespace, out: TextIO, stdin: Any) -> int:
    reports = [check(name, plugins=not args.no_plugins, stdin=stdin) for name in args.files]
    code = max((r.exit_code(args.strict) for r in reports), default=EXIT_OK)
    total = _summary(reports)
    if args.json:
        doc = {
            "command": args.command,
            "files": [
                {
                    "file": r.name,
                    "ok": r.problem is None and not any(d.severity == "error" for d in r.diagnostics),
                    "diagnostics": [d.to_dict() for d in r.diagnostics],
                    **({"problem": r.problem} if r.problem is not None else {}),
                }
                for r in reports
            ],
            "summary": total,
            "exitCode": code,
        }
        out.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        return code
    console = _console(out)
    for report in reports:
        _print_report(console, report, all_findings=args.command == "lint")
    _print_summary(console, total, code)
    return code


# ---------------------------------------------------------------------------
# parser
# ---------------------------------------------------------------------------


def _add_check_parser(sub: Any, name: str, help_text: str) -> None:
    p = sub.add_parser(name, help=help_text, description=help_text)
    p.add_argument("files", nargs="+", metavar="FILE", help="world JSON files ('-' reads stdin)")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    p.add_argument("--strict", action="store_true", help="warnings fail too (exit 1)")
    p.add_argument("--no-plugins", action="store_true", help="run only the built-in lints")
    p.set_defaults(handler=_run_check)


def _version(args: argparse.Namespace, out: TextIO, stdin: Any) -> int:
    out.write(f"conjure {conjure.__version__}\n")
    if getattr(args, "verbose", False):
        from conjure import infer

        st = infer.status()
        if st["available"]:
            out.write(f"inference: available (torch {st['torch']}, {st['threads']} threads)\n")
        else:
            out.write(f"inference: unavailable ({st['reason']})\n")
            if st["torch"]:
                out.write(f"torch: {st['torch']}\n")
        if st["devices"]:
            out.write(f"devices: {', '.join(st['devices'])}\n")
        out.write(f"encoder model: {st['model'] or 'not installed'}\n")
    return EXIT_OK


def _extensions() -> list[Any]:
    """CLI extension modules present in this installation (each has add_parser(subparsers))."""
    found = []
    for module_name in ("conjure.store_cli", "conjure.serve_cli", "conjure.agent_cli", "conjure.plugin_cli"):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        if hasattr(module, "add_parser"):
            found.append(module)
    return found


def build_parser() -> argparse.ArgumentParser:
    """The ``conjure`` argument parser, with every installed subcommand."""
    parser = argparse.ArgumentParser(prog="conjure", description="Programmable, playable worlds.")
    parser.add_argument("--version", action="version", version=f"conjure {conjure.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_check_parser(sub, "validate", "run the kernel gate on worlds; show errors, count advisory findings")
    _add_check_parser(sub, "lint", "show every finding of the gate, with the text each one points at")
    version = sub.add_parser("version", help="print the version")
    version.add_argument("--verbose", action="store_true", help="also say whether inference (torch) is available")
    version.set_defaults(handler=_version)
    for module in _extensions():
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the ``conjure`` command; returns its exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help/--version/usage errors
        return int(exc.code) if isinstance(exc.code, int) else EXIT_UNUSABLE
    handler = getattr(args, "handler", None)
    if handler is not None:
        return int(handler(args, sys.stdout, sys.stdin))
    func = getattr(args, "func", None)
    if func is not None:  # subcommands added by extension modules
        return int(func(args) or 0)
    parser.print_help(sys.stderr)
    return EXIT_UNUSABLE


if __name__ == "__main__":
    sys.exit(main())
