"""Fixtures of the end-to-end tests (the helpers live in e2e_servers.py)."""

from e2e_servers import server, servers  # noqa: F401  (pytest fixtures)
