"""``conjure edit`` and ``conjure generate``: the agent through a running server.

    conjure edit WORLD_ID "add a flooded crypt below the chapel" [--if-match REV] [--json]
    conjure generate "a haunted lighthouse" [--seed N] [--frame FILE | --image-url URL] [--name NAME]
                     [--async] [--json]

Both talk to the server at ``--server`` (default ``$CONJURE_SERVER`` or
http://127.0.0.1:8000) with the secret key in ``--key`` (default ``$CONJURE_API_KEY``).
``generate --async`` submits a job and shows its progress until it ends.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
from typing import Any, TextIO

__all__ = ["add_parser"]

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2
_FRAME_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}


def _client(args: argparse.Namespace) -> Any:
    from conjure.client import Client

    key = args.key or os.environ.get("CONJURE_API_KEY")
    if not key:
        raise ValueError("an API key is required: --key or CONJURE_API_KEY")
    return Client(args.server or os.environ.get("CONJURE_SERVER") or "http://127.0.0.1:8000", key,
                  timeout=args.timeout)


def _fail(out: TextIO, exc: Exception) -> int:
    out.write(f"error: {exc}\n")
    return EXIT_FAILED


def _edit(args: argparse.Namespace, out: TextIO, stdin: Any) -> int:
    from conjure.errors import ConjureError

    try:
        with _client(args) as client:
            result = client.edit(args.world, args.instruction, if_match=args.if_match)
    except ValueError as exc:
        out.write(f"error: {exc}\n")
        return EXIT_UNUSABLE
    except ConjureError as exc:
        return _fail(out, exc)
    if args.json:
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
    else:
        out.write(f"{result['reply']}\nrev {result['rev']}\n")
    return EXIT_OK


def _progress(client: Any, job_id: str, out: TextIO, timeout: float) -> dict[str, Any]:
    """Polls a job, showing a live status line (plain lines when the output is not a terminal)."""
    from rich.console import Console

    console = Console(file=out, highlight=False)
    if not console.is_terminal:
        seen: list[str] = []

        def line(job: dict[str, Any]) -> None:
            if not seen or seen[-1] != job["status"]:
                seen.append(job["status"])
                out.write(f"job {job_id}: {job['status']}\n")
                out.flush()

        return client.wait_for_job(job_id, timeout=timeout, on_update=line)
    with console.status(f"job {job_id}: queued", spinner="dots") as status:
        return client.wait_for_job(job_id, timeout=timeout,
                                   on_update=lambda job: status.update(f"job {job_id}: {job['status']}"))


def _generate(args: argparse.Namespace, out: TextIO, stdin: Any) -> int:
    from conjure.errors import ConjureError

    frame = None
    frame_type = "image/png"
    if args.frame is not None:
        path = pathlib.Path(args.frame)
        frame_type = _FRAME_TYPES.get(path.suffix.lower(), "application/octet-stream")
        try:
            frame = path.read_bytes()
        except OSError as exc:
            out.write(f"error: cannot read {path}: {exc.strerror}\n")
            return EXIT_UNUSABLE
    if args.premise is None and frame is None and args.image_url is None:
        out.write("error: give a premise, --frame or --image-url\n")
        return EXIT_UNUSABLE
    try:
        with _client(args) as client:
            answer = client.generate(args.premise, seed=args.seed, image_url=args.image_url, frame=frame,
                                     frame_type=frame_type, name=args.name, wait=not args.async_)
            if args.async_:
                job = _progress(client, answer["jobId"], out, args.wait_timeout)
                if job["status"] != "succeeded":
                    out.write(f"error: generation failed: {job.get('error')}\n")
                    return EXIT_FAILED
                graph = client.get_graph(job["worldId"])
                answer = {"world": graph["world"], "rev": graph["rev"]}
    except ValueError as exc:
        out.write(f"error: {exc}\n")
        return EXIT_UNUSABLE
    except (ConjureError, TimeoutError) as exc:
        return _fail(out, exc)
    world = answer["world"]
    if args.json:
        out.write(json.dumps(answer, ensure_ascii=False) + "\n")
    else:
        states = world.get("scene", {}).get("states", {})
        out.write(f"{world['id']}  {world.get('name') or '(untitled)'}  {len(states)} places  rev {answer['rev']}\n")
    return EXIT_OK


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--server", help="the server's base URL (default: $CONJURE_SERVER or http://127.0.0.1:8000)")
    p.add_argument("--key", help="a secret key sk_… (default: $CONJURE_API_KEY)")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per request (default 120)")
    p.add_argument("--json", action="store_true", help="print the whole answer as JSON")


def add_parser(sub: Any) -> None:
    """Adds ``edit`` and ``generate`` to the ``conjure`` command."""
    p = sub.add_parser("edit", help="edit a world on a server from a natural-language instruction",
                       description="Edit a world on a server from a natural-language instruction.")
    p.add_argument("world", help="the world's id")
    p.add_argument("instruction", help="what to change, in prose")
    p.add_argument("--if-match", dest="if_match", help="the rev you last read (409 when it moved)")
    _common(p)
    p.set_defaults(handler=_edit)

    g = sub.add_parser("generate", help="generate a world on a server from a premise and/or a seed frame",
                       description="Generate a world on a server from a premise and/or a seed frame.")
    g.add_argument("premise", nargs="?", help="what the world is about")
    g.add_argument("--seed", type=int, help="the same premise and seed give the same world")
    frame = g.add_mutually_exclusive_group()
    frame.add_argument("--frame", help="a JPEG, PNG or WebP file uploaded as the entrance image")
    frame.add_argument("--image-url", dest="image_url", help="an image URL used as the entrance image")
    g.add_argument("--name", help="the world's name")
    g.add_argument("--async", dest="async_", action="store_true", help="run as a job and show its progress")
    g.add_argument("--wait-timeout", dest="wait_timeout", type=float, default=600.0,
                   help="seconds to follow an --async job (default 600)")
    _common(g)
    g.set_defaults(handler=_generate)
