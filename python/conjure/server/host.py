"""The Python side of ``conjured``, the native host.

``conjured`` embeds CPython and calls, in this order:

1. :func:`resolve` once, in the first process, before any socket is open: it reads
   the settings exactly as ``conjure serve`` does (``CONJURE_*`` environment,
   ``CONJURE_CONFIG``), applies the command-line flags, creates the data directory,
   and says which address to listen on with how many workers;
2. :func:`serve_socket` in every worker, on the socket the host opened.
"""

from __future__ import annotations

import os

from conjure.server import runner
from conjure.server.settings import Settings

__all__ = ["resolve", "serve_socket"]


def resolve(host: str | None, port: int | None, workers: int | None, data_dir: str | None) -> tuple[str, int, int]:
    """The address and worker count to serve with: the flags given, else the settings.

    ``data_dir`` (``--data-dir``) is exported as ``CONJURE_DATA_DIR`` so that every
    worker reads the same settings. Raises ``pydantic.ValidationError`` (or
    ``ValueError`` for a missing ``CONJURE_CONFIG`` file) on bad settings.
    """
    if data_dir:
        os.environ["CONJURE_DATA_DIR"] = data_dir
    settings = Settings()
    runner.prepare(settings)
    return (
        host if host else settings.host,
        port if port is not None else settings.port,
        workers if workers else settings.workers,
    )


def serve_socket(fd: int, host: str, port: int) -> int:
    """Serves the app on the listening socket ``fd`` until SIGTERM or SIGINT; returns the exit status.

    The settings are built from the environment exactly as for ``conjure serve``;
    ``host`` and ``port`` name the address the socket is bound to.
    """
    return runner.serve(Settings(), host, port, fd=fd)
