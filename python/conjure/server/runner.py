"""How the HTTP app is served: the one uvicorn configuration of every host.

``conjure serve`` (a Python process) and ``conjured`` (the native host, through
:mod:`conjure.server.host`) both end here, so both serve with the same logging,
access-log, proxy and shutdown behaviour.
"""

from __future__ import annotations

import copy
import logging
import os
import re
import signal
import socket
from typing import Any

from conjure.server.settings import Settings

__all__ = ["serve", "prepare", "log_config", "RedactCredentials", "STARTUP_FAILURE"]

APP = "conjure.server:create_app"
STARTUP_FAILURE = 3  # the exit status of a server whose app never started (as uvicorn's)
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def log_config(settings: Settings) -> dict[str, Any]:
    """uvicorn's logging configuration plus the ``conjure`` loggers.

    ``conjure.access`` writes one JSON line per request to stdout (the app formats
    it); every other ``conjure`` logger goes to uvicorn's default handler at the
    configured level.
    """
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    # uvicorn logs a WebSocket's path with its query ("?token=ct_…"): every handler redacts credentials.
    config.setdefault("filters", {})["redact_credentials"] = {"()": "conjure.server.runner.RedactCredentials"}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact_credentials")
    config["formatters"]["json_lines"] = {"format": "%(message)s"}
    config["handlers"]["conjure_access"] = {
        "formatter": "json_lines", "class": "logging.StreamHandler", "stream": "ext://sys.stdout",
        "filters": ["redact_credentials"]}
    config["loggers"]["conjure.access"] = {"handlers": ["conjure_access"], "level": "INFO", "propagate": False}
    config["loggers"]["conjure"] = {"handlers": ["default"], "level": settings.log_level.upper(), "propagate": False}
    return config


_CREDENTIAL = re.compile(
    r"(?i)((?:token|key|secret|password)=)[^&\s\"']+"
    r"|\b(?:ct|st|us|whsec|sk_test|sk_live|pk_test|pk_live)_[A-Za-z0-9_.\-]{8,}"
)


class RedactCredentials(logging.Filter):
    """Replaces credentials in a log line (``token=…`` query values, ``ct_…``/``st_…``/``us_…``/keys) by ``***``."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is left to the handler
            return True
        redacted = _CREDENTIAL.sub(lambda m: (m.group(1) or "") + "***", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def _uvicorn_options(settings: Settings) -> dict[str, Any]:
    return {
        "log_level": settings.log_level,
        "access_log": False,  # the app writes its own structured access log
        "timeout_graceful_shutdown": settings.shutdown_timeout_seconds,
        "proxy_headers": False,
        "log_config": log_config(settings),
    }


def prepare(settings: Settings) -> None:
    """Creates the data directory once, before any worker starts (the store keeps its own secret)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)


def serve(settings: Settings, host: str, port: int, *, workers: int = 1, fd: int | None = None) -> int:
    """Serves the app until SIGTERM or SIGINT; returns the process exit status.

    Args:
        settings: the configuration. With one worker the app is built from it
            directly; with several, every worker process builds its own settings
            from the environment (``CONJURE_*``, ``CONJURE_CONFIG``), so the data
            directory is exported as ``CONJURE_DATA_DIR`` first.
        host, port: the address to bind, or, with ``fd``, the address the socket
            is bound to (used in log lines only).
        workers: uvicorn worker processes (``conjure serve --workers``).
        fd: an already listening socket to serve on (``conjured`` opens it),
            closed when the server stops; only with one worker, since the native
            host forks its own workers.

    Returns:
        0 after a graceful stop (in-flight requests drained up to
        ``shutdown_timeout_seconds``), 3 when the app failed to start.
    """
    import uvicorn

    if workers < 1:
        raise ValueError("workers must be at least 1")
    if fd is not None and workers != 1:
        raise ValueError("a socket passed by fd is served by one worker (the host forks the others)")
    prepare(settings)
    options = _uvicorn_options(settings)
    if workers > 1:
        os.environ["CONJURE_DATA_DIR"] = str(settings.data_dir)
        uvicorn.run(APP, factory=True, host=host, port=port, workers=workers, **options)
        return 0

    from conjure.server.app import create_app

    config = uvicorn.Config(lambda: create_app(settings), factory=True, host=host, port=port, **options)
    server = uvicorn.Server(config)
    # The server owns a socket passed by fd: it stops listening on it as the drain
    # begins, so no new connection waits in the backlog of a stopping server.
    sockets = None if fd is None else [socket.socket(fileno=fd)]
    # uvicorn captures SIGINT/SIGTERM while it serves, drains, then re-raises the
    # signal to the handler it found. Handing it a handler that does nothing turns
    # a graceful stop into a normal return (exit status 0) instead of a death by signal.
    previous = {sig: signal.signal(sig, _drained) for sig in _STOP_SIGNALS}
    try:
        server.run(sockets=sockets)
    except KeyboardInterrupt:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sock in sockets or ():
            sock.close()
    return 0 if server.started else STARTUP_FAILURE


def _drained(signum: int, frame: Any) -> None:
    """The handler a stop signal is re-raised to once the server has drained: nothing left to do."""
