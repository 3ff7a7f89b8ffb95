"""Exceptions raised by conjure, one class per core error code.

Every exception derives from :class:`ConjureError`, whose ``code`` is the core's
stable snake_case name for the error (``"parse_error"``, ``"limit"``, ...). The
native module maps the core's error enum to these classes in one place.
"""

from __future__ import annotations

import re
from typing import Any

from conjure.diagnostic import Diagnostic

__all__ = [
    "ConjureError",
    "BadInputError",
    "ParseError",
    "LimitError",
    "NotFoundError",
    "ConflictError",
    "GateError",
    "QuotaExceededError",
    "UnauthorizedError",
    "ForbiddenError",
    "StorageError",
    "InternalError",
    "CapacityError",
]


class ConjureError(Exception):
    """Base class of every conjure error.

    Attributes:
        code: the core's snake_case error code (``"bad_input"``, ``"parse_error"``, ...).
        message: the readable message.
        offset: byte offset into the input for parse errors, else ``None``.
    """

    default_code = "internal"

    def __init__(self, message: str = "", *, code: str | None = None, offset: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.offset = offset


class BadInputError(ConjureError, ValueError):
    """A malformed request: a wrong type, an empty or malformed ops batch, a value that is not JSON."""

    default_code = "bad_input"


_LINE_COL = re.compile(r"line (\d+), column (\d+)")


class ParseError(ConjureError, ValueError):
    """A document that is not valid JSON or UTF-8.

    Attributes:
        offset: byte offset of the problem in the input.
        line, column: 1-based position of the problem (``None`` when unknown).
    """

    default_code = "parse_error"

    def __init__(self, message: str = "", *, code: str | None = None, offset: int | None = None) -> None:
        super().__init__(message, code=code, offset=offset)
        found = _LINE_COL.search(message)
        self.line: int | None = int(found.group(1)) if found else None
        self.column: int | None = int(found.group(2)) if found else None


class LimitError(ConjureError, ValueError):
    """A size or nesting limit was passed; the message names the limit."""

    default_code = "limit"


class NotFoundError(ConjureError):
    """An unknown id or name."""

    default_code = "not_found"


class ConflictError(ConjureError):
    """A revision mismatch, or something that already exists."""

    default_code = "conflict"


class GateError(ConjureError):
    """The kernel gate refused a world.

    Attributes:
        diagnostics: every finding of the gate, as ``conjure.Diagnostic`` objects.
    """

    default_code = "gate_failed"

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        offset: int | None = None,
        diagnostics: list[Any] | None = None,
    ) -> None:
        super().__init__(message, code=code, offset=offset)
        self.diagnostics: list[Any] = list(diagnostics or [])


class QuotaExceededError(ConjureError):
    """A meter's limit was reached."""

    default_code = "quota_exceeded"


class UnauthorizedError(ConjureError):
    """No credential, or a bad one."""

    default_code = "unauthorized"


class ForbiddenError(ConjureError):
    """The credential lacks the right."""

    default_code = "forbidden"


class StorageError(ConjureError):
    """A storage fault: a corrupt or foreign file, a full disk, a read-only store."""

    default_code = "storage"


class InternalError(ConjureError):
    """A real fault in the core."""

    default_code = "internal"


class CapacityError(ConjureError):
    """A concurrency cap is full (the app's or the server's): nothing was admitted; retry later."""

    default_code = "concurrency_cap"


CLASS_BY_CODE: dict[str, type[ConjureError]] = {
    cls.default_code: cls
    for cls in (
        BadInputError,
        ParseError,
        LimitError,
        NotFoundError,
        ConflictError,
        GateError,
        QuotaExceededError,
        UnauthorizedError,
        ForbiddenError,
        StorageError,
        InternalError,
        CapacityError,
    )
}


def _from_core(code: str, message: str, offset: int | None, diagnostics: list[Any] | None) -> ConjureError:
    """Builds the exception for a core error (called by the native module)."""
    cls = CLASS_BY_CODE.get(code, InternalError)
    if cls is GateError:
        diags = [Diagnostic.from_dict(d) if isinstance(d, dict) else d for d in diagnostics or []]
        return GateError(message, code=code, offset=offset, diagnostics=diags)
    return cls(message, code=code, offset=offset)
