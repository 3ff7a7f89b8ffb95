"""The kernel gate, graph ops and diff, with Pythonic results."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

from conjure import _core
from conjure.diagnostic import Diagnostic, Severity
from conjure.errors import BadInputError, GateError
from conjure.world import World, WorldLike, world_arg

__all__ = [
    "Diagnostic",
    "Severity",
    "ValidationResult",
    "OpsResult",
    "validate",
    "lint",
    "apply_ops",
    "diff",
    "lint_catalogue",
]

PluginsArg = Union[bool, None, Sequence[Any]]


@dataclass(frozen=True)
class ValidationResult:
    """What the gate decided.

    Attributes:
        ok: True when no diagnostic has ``error`` severity (the world may persist).
        diagnostics: every finding, in the stable order (by path, then lint id).
        resolved: the resolved world (slots filled, ``from`` normalised) when ok, else None.
    """

    ok: bool
    diagnostics: list[Diagnostic] = field(default_factory=list)
    resolved: World | None = None

    @property
    def errors(self) -> list[Diagnostic]:
        """The error-severity diagnostics."""
        return [d for d in self.diagnostics if d.severity == "error"]


@dataclass(frozen=True)
class OpsResult:
    """The outcome of :func:`apply_ops`.

    Attributes:
        world: the edited world (the working graph that would persist; not resolved).
        apply_errors: ops that could not apply and were skipped: ``{index, code, message}``.
        diagnostics: the gate's findings on the edited world.
        ok: True when the edited world passes the gate (no error diagnostic).
    """

    world: World
    apply_errors: list[dict[str, Any]]
    diagnostics: list[Diagnostic]
    ok: bool


def _plugins(plugins: PluginsArg) -> list[Any]:
    if plugins is True:
        from conjure.plugins import active_plugins

        return active_plugins()
    if plugins is None or plugins is False:
        return []
    return list(plugins)


def _gate(
    world: WorldLike, limits: _core.Limits | None, plugins: PluginsArg, characters: list[str] | None = None
) -> _core.GateResult:
    return _core.gate(world_arg(world), limits, _plugins(plugins), characters)


def _raise_gate(diagnostics: list[Diagnostic]) -> None:
    errors = [d for d in diagnostics if d.severity == "error"]
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    raise GateError(
        f"the gate refused the world: {first.path}: {first.message}{more}",
        code="gate_failed",
        diagnostics=diagnostics,
    )


def validate(
    world: WorldLike,
    *,
    limits: _core.Limits | None = None,
    plugins: PluginsArg = True,
    raise_on_error: bool = False,
    characters: list[str] | None = None,
) -> ValidationResult:
    """Runs the kernel gate on a world.

    Args:
        world: a World, a dict, or JSON text (str/bytes).
        limits: size limits (defaults when None).
        plugins: True runs the active plugin lints (see :mod:`conjure.plugins`),
            False/None runs none, a list runs exactly those.
        raise_on_error: raise :class:`GateError` (with ``.diagnostics``) when not ok.
        characters: the character ids the world may place (`character-placement`);
            None leaves the ids unchecked.

    Raises:
        ParseError / LimitError: JSON text that cannot be read.
        BadInputError: a dict holding values that are not JSON.
    """
    result = _gate(world, limits, plugins, characters)
    diagnostics = [Diagnostic.from_dict(d) for d in result.diagnostics]
    if not result.ok and raise_on_error:
        _raise_gate(diagnostics)
    resolved = result.resolved
    return ValidationResult(
        ok=result.ok,
        diagnostics=diagnostics,
        resolved=World._adopt(resolved) if resolved is not None else None,
    )


def lint(world: WorldLike, *, limits: _core.Limits | None = None, plugins: PluginsArg = True) -> list[Diagnostic]:
    """Every finding of the gate on a world (errors, warnings and infos), in the stable order."""
    return validate(world, limits=limits, plugins=plugins).diagnostics


def apply_ops(
    world: WorldLike,
    ops: Iterable[dict[str, Any]] | str | bytes,
    *,
    limits: _core.Limits | None = None,
    plugins: PluginsArg = True,
) -> OpsResult:
    """Applies graph ops in order to a copy of the world, then runs the gate once.

    Ops that cannot apply (unknown id, duplicate id, deleting the entrance, ...) are
    skipped and reported in ``apply_errors``; the rest go on.

    Raises:
        BadInputError: a malformed batch (empty, not a list, an unknown op, a missing field).
    """
    if not isinstance(ops, (str, bytes, bytearray, list, tuple)):
        try:
            ops = list(ops)
        except TypeError:
            raise BadInputError(
                f"ops: a list of op objects (or its JSON text), not {type(ops).__name__}", code="bad_input"
            ) from None
    edited, apply_errors = _core.apply_ops(world_arg(world), ops if isinstance(ops, (str, bytes)) else list(ops), limits)
    result = _core.gate(edited, limits, _plugins(plugins))
    return OpsResult(
        world=World._adopt(edited),
        apply_errors=apply_errors,
        diagnostics=[Diagnostic.from_dict(d) for d in result.diagnostics],
        ok=result.ok,
    )


def diff(a: WorldLike, b: WorldLike) -> dict[str, Any]:
    """Structural diff of two worlds.

    Returns ``{states: {added, removed, changed: [{id, fields}]}, events: {added,
    removed, changed: [{name, fields}]}, entrance: {from, to} | None, slots: {added,
    removed, changed}}`` with sorted lists and dotted field paths.
    """
    return _core.diff(world_arg(a), world_arg(b))


def lint_catalogue() -> list[dict[str, Any]]:
    """Every built-in lint: ``{id, severity, structural, description}``, in the contract's order."""
    return _core.lint_catalogue()
