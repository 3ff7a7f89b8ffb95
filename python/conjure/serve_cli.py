"""``conjure serve`` and the operator bootstrap commands.

    conjure serve [--host H] [--port P] [--data-dir DIR] [--workers N] [--redis-url URL]
    conjure users create EMAIL [--password-stdin]
    conjure apps create --user EMAIL NAME
    conjure keys create APP_ID --type secret|publishable --mode test|live [--name NAME]

Every command reads the same settings as the server (``CONJURE_*``,
``CONJURE_CONFIG``); ``--data-dir`` overrides ``CONJURE_DATA_DIR``.
"""

from __future__ import annotations

import argparse
import functools
import getpass
import json
import sys
from collections.abc import Callable
from typing import Any, TextIO

__all__ = ["add_parser", "SERVER_EXTRA_HINT"]

EXIT_UNUSABLE = 2
# What the ``[server]`` extra brings; a command needing one of them says how to install it.
_SERVER_MODULES = frozenset({"fastapi", "starlette", "uvicorn", "pydantic", "pydantic_settings", "prometheus_client"})
SERVER_EXTRA_HINT = "pip install 'conjure-worlds[server]'"

Handler = Callable[[argparse.Namespace, TextIO, Any], int]


def _needs_server(handler: Handler) -> Handler:
    """Runs a handler that imports the server; without the ``[server]`` extra it says what to
    install (on stderr) and returns 2 instead of a ``ModuleNotFoundError`` traceback."""

    @functools.wraps(handler)
    def run(args: argparse.Namespace, out: TextIO, stdin: Any) -> int:
        try:
            return handler(args, out, stdin)
        except ModuleNotFoundError as exc:
            missing = (exc.name or "").split(".")[0]
            if missing not in _SERVER_MODULES:
                raise
            sys.stderr.write(
                f"error: `conjure {args.command}` needs the server, which is not installed "
                f"(no module {missing!r}).\nInstall it with: {SERVER_EXTRA_HINT}\n"
            )
            return EXIT_UNUSABLE

    return run


def _settings(args: argparse.Namespace) -> Any:
    import os

    from conjure.server.settings import Settings

    # Exported, so that every worker process (which reads its settings from the environment) sees them.
    for flag, env in (("redis_url", "CONJURE_REDIS_URL"),):
        if getattr(args, flag, None):
            os.environ[env] = getattr(args, flag)
    overrides: dict[str, Any] = {}
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = args.data_dir
    return Settings(**overrides)


def _serve(args: argparse.Namespace, out: TextIO, stdin: Any) -> int:
    from conjure.server import runner

    settings = _settings(args)
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    workers = args.workers or settings.workers
    out.write(f"conjure serving {settings.database_path} on http://{host}:{port} ({workers} worker(s))\n")
    out.flush()
    return runner.serve(settings, host, port, workers=workers)


def _store(args: argparse.Namespace) -> Any:
    from conjure.server.app import open_store

    return open_store(_settings(args))


def _users_create(args: argparse.Namespace, out: TextIO, stdin: Any) -> int:
    from conjure.errors import ConjureError

    stream = stdin or sys.stdin
    if args.password_stdin:
        password = stream.readline().rstrip("\n")
    elif not (hasattr(stream, "isatty") and stream.isatty()):
        sys.stderr.write("error: no terminal to prompt for the password on; pipe it with --password-stdin\n")
        return EXIT_UNUSABLE
    else:
        try:
            password = getpass.getpass("password (at least 10 characters): ")
        except (EOFError, KeyboardInterrupt):
            sys.stderr.write("\nerror: no password given\n")
            return EXIT_UNUSABLE
    try:
        with _store(args) as store:
            user = store.create_user(args.email, password)
    except ConjureError as exc:
        out.write(f"error: {exc}\n")
        return 1
    out.write(json.dumps(user, indent=2) + "\n")
    return 0


def _apps_create(args: argparse.Namespace, out: TextIO, stdin: Any) -> int:
    from conjure.errors import ConjureError

    settings = _settings(args)
    try:
        with _store(args) as store:
            owner = _owner_id(store, args.user)
            app = store.create_app(args.name, owner)
            for meter, limit in settings.meter_limits.items():
                store.set_meter_limit(app["id"], meter, limit)
    except ConjureError as exc:
        out.write(f"error: {exc}\n")
        return 1
    out.write(json.dumps(app, indent=2) + "\n")
    return 0


def _owner_id(store: Any, email_or_id: str) -> str:
    """The user id for ``--user``: an email (case-insensitive) or a user id."""
    from conjure.errors import NotFoundError

    found = store.find_user(email_or_id)
    if found is not None:
        return str(found["id"])
    try:
        return str(store.get_user(email_or_id)["id"])
    except NotFoundError:
        raise NotFoundError(f"no user {email_or_id!r} (give the user's id)", code="not_found") from None


def _keys_create(args: argparse.Namespace, out: TextIO, stdin: Any) -> int:
    from conjure.errors import ConjureError

    try:
        with _store(args) as store:
            store.get_app(args.app_id)
            minted = store.create_key(args.app_id, args.type, args.mode, args.name or "")
    except ConjureError as exc:
        out.write(f"error: {exc}\n")
        return 1
    # stdout is one JSON document (the plaintext in "key"); the advice goes to stderr.
    out.write(json.dumps(minted, indent=2) + "\n")
    sys.stderr.write("the key is shown once: store it now\n")
    return 0


def add_parser(subparsers: Any) -> None:
    """Adds ``serve``, ``users create``, ``apps create`` and ``keys create`` to the ``conjure`` command."""
    data_help = "data directory (default: $CONJURE_DATA_DIR or ./.conjure-data)"

    s = subparsers.add_parser("serve", help="serve the HTTP API", description="Serves the HTTP API with uvicorn.")
    s.add_argument("--host", default=None, help="address to bind (default: $CONJURE_HOST or 127.0.0.1)")
    s.add_argument("--port", type=int, default=None, help="port (default: $CONJURE_PORT or 8000)")
    s.add_argument("--data-dir", default=None, help=data_help)
    s.add_argument("--workers", type=int, default=None, help="worker processes (default: $CONJURE_WORKERS or 1)")
    s.add_argument("--redis-url", default=None, metavar="URL",
                   help="Redis shared by every process of a deployment (default: $CONJURE_REDIS_URL; docs/deploy.md)")
    s.set_defaults(handler=_needs_server(_serve))

    u = subparsers.add_parser("users", help="manage users", description="Manage users of a self-hosted server.")
    usub = u.add_subparsers(dest="users_command", metavar="COMMAND", required=True)
    uc = usub.add_parser("create", help="create a user", description="Creates a user; the password is prompted for.")
    uc.add_argument("email", metavar="EMAIL")
    uc.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    uc.add_argument("--data-dir", default=None, help=data_help)
    uc.set_defaults(handler=_needs_server(_users_create))

    a = subparsers.add_parser("apps", help="manage apps", description="Manage apps (tenants).")
    asub = a.add_subparsers(dest="apps_command", metavar="COMMAND", required=True)
    ac = asub.add_parser("create", help="create an app for a user", description="Creates an app owned by a user.")
    ac.add_argument("name", metavar="NAME")
    ac.add_argument("--user", required=True, help="the owner: an email or a user id")
    ac.add_argument("--data-dir", default=None, help=data_help)
    ac.set_defaults(handler=_needs_server(_apps_create))

    k = subparsers.add_parser("keys", help="manage API keys", description="Manage API keys.")
    ksub = k.add_subparsers(dest="keys_command", metavar="COMMAND", required=True)
    kc = ksub.add_parser("create", help="mint a key (prints the plaintext once)", description="Mints an API key.")
    kc.add_argument("app_id", metavar="APP_ID")
    kc.add_argument("--type", choices=("secret", "publishable"), default="secret")
    kc.add_argument("--mode", choices=("test", "live"), default="test")
    kc.add_argument("--name", default=None)
    kc.add_argument("--data-dir", default=None, help=data_help)
    kc.set_defaults(handler=_needs_server(_keys_create))
