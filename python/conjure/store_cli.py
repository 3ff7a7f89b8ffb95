"""``conjure store check``, ``conjure store backup PATH`` and ``conjure store migrate``."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any, TextIO

__all__ = ["add_parser"]

DEFAULT_PATH_ENV = "CONJURE_STORE_PATH"


def default_path() -> str:
    """The store the server uses: ``$CONJURE_STORE_PATH``, else the server settings' database
    (``CONJURE_DATABASE``, ``CONJURE_DATA_DIR``, ``CONJURE_CONFIG``; ``.conjure-data/conjure.db``
    by default). Without the server extra the same variables are read directly."""
    explicit = os.environ.get(DEFAULT_PATH_ENV)
    if explicit:
        return explicit
    try:
        from conjure.server.settings import Settings
    except ModuleNotFoundError:
        database = os.environ.get("CONJURE_DATABASE")
        if database:
            return database
        return os.path.join(os.environ.get("CONJURE_DATA_DIR") or ".conjure-data", "conjure.db")
    return str(Settings().database_path)


def _resolve(args: argparse.Namespace, out: TextIO) -> bool:
    """Fills in ``--store``; False (with the reason written) when there is no store there."""
    if args.store is None:
        try:
            args.store = default_path()
        except ValueError as exc:  # invalid CONJURE_* settings
            out.write(f"error: invalid settings: {exc}\n")
            return False
    if not os.path.exists(args.store):
        out.write(f"error: no store at {args.store}\n")
        return False
    return True


def _open(path: str, read_only: bool) -> Any:
    from conjure.store import Store

    # A deployment may give the server secret in the environment instead of keeping it in the
    # store (docs/deploy.md); a read-only open of such a store needs it from there.
    secret = os.environ.get("CONJURE_SECRET") or None
    return Store(path, read_only=read_only, server_secret=secret)


def _check(args: argparse.Namespace, out: TextIO, stdin: Any) -> int:
    from conjure.errors import ConjureError

    if not _resolve(args, out):
        return 1
    try:
        with _open(args.store, read_only=True) as store:
            report = store.check()
    except ConjureError as exc:
        out.write(f"error: {exc}\n")
        return 1
    if args.json:
        out.write(json.dumps(report, indent=2) + "\n")
    else:
        integrity = "ok" if report["integrity"] == ["ok"] else "; ".join(report["integrity"])
        out.write(f"store          {args.store}\n")
        out.write(f"integrity      {integrity}\n")
        out.write(f"foreign keys   {'ok' if not report['foreignKeys'] else '; '.join(report['foreignKeys'])}\n")
        out.write(f"worlds         {report['worlds']}\n")
        out.write(f"versions       {report['versions']}\n")
        out.write(f"blobs          {report['blobs']} ({report['orphanBlobs']} unreferenced)\n")
        out.write(f"missing blobs  {report['missingBlobs']}\n")
        out.write("OK\n" if report["ok"] else "FAILED\n")
    return 0 if report["ok"] else 1


def _backup(args: argparse.Namespace, out: TextIO, stdin: Any) -> int:
    from conjure.errors import ConjureError

    if not _resolve(args, out):
        return 1
    if os.path.exists(args.path) and not args.force:
        out.write(f"error: {args.path} exists (use --force to overwrite)\n")
        return 1
    try:
        with _open(args.store, read_only=False) as store:
            store.backup(args.path)
    except ConjureError as exc:
        out.write(f"error: {exc}\n")
        return 1
    out.write(f"backed up {args.store} to {args.path}\n")
    return 0


def _migrate(args: argparse.Namespace, out: TextIO, stdin: Any) -> int:
    from conjure import _core
    from conjure.errors import ConjureError

    url = args.database_url or os.environ.get("CONJURE_DATABASE_URL")
    if not url:
        out.write("error: no database: give --database-url or set CONJURE_DATABASE_URL "
                  "(a SQLite store migrates itself when it is opened)\n")
        return 2
    if not url.startswith(("postgresql://", "postgres://")):
        out.write("error: --database-url: a postgresql:// URL\n")
        return 2
    shown = _core.redact_database_url(url)
    try:
        result = _core.postgres_migrate(url)
    except ConjureError as exc:
        out.write(f"error: {shown}: {exc}\n")
        return 1
    before, after = result["before"], result["after"]
    if before == after:
        out.write(f"{shown}: schema version {after}, up to date\n")
    else:
        out.write(f"{shown}: migrated from schema version {before} to {after}\n")
    return 0


def add_parser(subparsers: Any) -> None:
    """Adds ``store check`` and ``store backup PATH`` to the ``conjure`` command."""
    p = subparsers.add_parser("store", help="check or back up a store", description="check or back up a store")
    sub = p.add_subparsers(dest="store_command", metavar="COMMAND", required=True)
    store_help = f"the store file (default: ${DEFAULT_PATH_ENV}, else the server's <data_dir>/conjure.db)"

    c = sub.add_parser(
        "check",
        help="integrity, foreign-key and blob-reference check (exit 1 on a problem)",
        description="Runs PRAGMA integrity_check and foreign_key_check and checks that every "
        "version's content blobs exist; counts unreferenced blobs. Exit 0 when clean, 1 otherwise.",
    )
    c.add_argument("--store", default=None, help=store_help)
    c.add_argument("--json", action="store_true", help="print the report as JSON")
    c.set_defaults(handler=_check)

    b = sub.add_parser(
        "backup",
        help="copy the store with SQLite's online backup",
        description="Copies the store to PATH with SQLite's online backup API; the server may keep running.",
    )
    b.add_argument("path", metavar="PATH", help="the backup file to write")
    b.add_argument("--store", default=None, help=store_help)
    b.add_argument("--force", action="store_true", help="overwrite PATH when it exists")
    b.set_defaults(handler=_backup)

    m = sub.add_parser(
        "migrate",
        help="bring a PostgreSQL database to this version's schema",
        description="Applies the numbered migrations a PostgreSQL database lacks, each in its own transaction, "
        "under an advisory lock (several starters take turns). Run it before starting a new version "
        "(docs/deploy.md). Exit 0 when the schema is current, 1 on failure.",
    )
    m.add_argument("--database-url", default=None, metavar="URL",
                   help="postgresql://user@host:port/database (default: $CONJURE_DATABASE_URL)")
    m.set_defaults(handler=_migrate)
