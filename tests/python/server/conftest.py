"""Fixtures for the HTTP API tests (helpers live in server_helpers.py)."""

from server_helpers import client, settings, tenant  # noqa: F401  (pytest fixtures)
