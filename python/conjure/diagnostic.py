"""One finding of the kernel gate (its own module, so that errors and the gate both use it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Diagnostic", "Severity"]

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Diagnostic:
    """One finding of the gate.

    Attributes:
        lint: the lint id (``"dangling-ref"``, ``"negation"``, ``"plugin.prose.opening"``, ...).
        severity: ``"error"`` (blocks the write), ``"warning"`` or ``"info"``.
        path: where, human readable: ``state[cellar].base``, ``event[Open door].to``.
        message: what is wrong and how to fix it.
        loc: structured location, or None: ``{field, start, end, match}`` for prose
            lints, ``{field, template, slot, fill}`` for slot lints.
    """

    lint: str
    severity: Severity
    path: str
    message: str
    loc: dict[str, Any] | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Diagnostic:
        """A Diagnostic from the gate's dict form."""
        return cls(
            lint=data["lint"],
            severity=data["severity"],
            path=data["path"],
            message=data["message"],
            loc=data.get("loc"),
        )

    def to_dict(self) -> dict[str, Any]:
        """The gate's dict form (``loc`` omitted when None)."""
        out: dict[str, Any] = {"lint": self.lint, "severity": self.severity, "path": self.path, "message": self.message}
        if self.loc is not None:
            out["loc"] = self.loc
        return out
