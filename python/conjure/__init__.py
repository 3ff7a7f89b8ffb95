"""conjure: programmable, playable worlds.

The public Python API: load and save worlds, run the kernel gate, apply graph ops,
diff worlds, and list the lints.

>>> import conjure
>>> world = conjure.World.from_file("examples/drowned-abbey.json")   # doctest: +SKIP
>>> conjure.validate(world).ok                                      # doctest: +SKIP
True
"""

from conjure._version import __version__
from conjure._core import Limits
from conjure.errors import (
    BadInputError,
    ConflictError,
    ConjureError,
    ForbiddenError,
    GateError,
    InternalError,
    LimitError,
    NotFoundError,
    ParseError,
    QuotaExceededError,
    StorageError,
    UnauthorizedError,
)
from conjure.gate import (
    Diagnostic,
    OpsResult,
    ValidationResult,
    apply_ops,
    diff,
    lint,
    lint_catalogue,
    validate,
)
from conjure.world import World

__all__ = [
    "__version__",
    "Limits",
    "World",
    "Diagnostic",
    "ValidationResult",
    "OpsResult",
    "validate",
    "lint",
    "apply_ops",
    "diff",
    "lint_catalogue",
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
]

# ---------------------------------------------------------------------------
# Storage (conjure.store): imported below this line.
# ---------------------------------------------------------------------------
from conjure.store import Store  # noqa: E402

__all__ += ["Store"]

# ---------------------------------------------------------------------------
# HTTP client (conjure.client): the same endpoints as the server, typed errors.
# ---------------------------------------------------------------------------
from conjure.client import Client  # noqa: E402

__all__ += ["Client"]

# ---------------------------------------------------------------------------
# Inference (conjure.infer): the sentence encoder; conjure._infer loads on first use.
# ---------------------------------------------------------------------------
from conjure.infer import InferenceUnavailableError, embed  # noqa: E402

__all__ += ["embed", "InferenceUnavailableError"]
