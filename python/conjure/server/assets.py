"""Uploaded frames: content-addressed files under the data directory, scoped to an app and mode.

A frame (the seed image of a generated world) is accepted only when its magic bytes
say JPEG, PNG or WebP and it is at most ``asset_max_bytes``. It is kept once per
(app, mode), as ``<asset_dir>/<app>/<mode>/<sha256>.<ext>``, written atomically; its
id is that file name and the world's entrance image points at ``/v1/assets/<id>``.
Only keys of the app and mode that uploaded a frame read it: a content hash known
to another tenant finds nothing (404), like any other tenant's object.
"""

from __future__ import annotations

import email.message
import email.parser
import email.policy
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from conjure.errors import BadInputError, NotFoundError
from conjure.server.errors import ApiError

__all__ = ["Asset", "AssetStore", "FormPart", "sniff", "parse_multipart", "ASSET_ID"]

ASSET_ID = re.compile(r"^[0-9a-f]{64}\.(jpg|png|webp)$")
_SCOPE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MEDIA_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def sniff(data: bytes) -> str | None:
    """The file extension the magic bytes name (``jpg``, ``png``, ``webp``), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


@dataclass(frozen=True)
class Asset:
    """A stored frame: ``id`` (``<sha256>.<ext>``), its media type, size and file."""

    id: str
    media_type: str
    size: int
    path: Path

    @property
    def url(self) -> str:
        return f"/v1/assets/{self.id}"


class AssetStore:
    """Frames on disk, content-addressed and size- and type-checked."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = Path(root)
        self.max_bytes = int(max_bytes)

    def _dir(self, app_id: str, mode: str) -> Path:
        if not _SCOPE.match(app_id) or mode not in ("test", "live"):
            raise NotFoundError("asset not found", code="not_found")
        return self.root / app_id / mode

    def put(self, data: bytes, app_id: str, mode: str) -> Asset:
        """Stores a frame for an app and mode (once per content) and returns it.

        Raises:
            ApiError: 413 ``frame_too_large`` past the size limit.
            BadInputError: ``unsupported_frame`` when it is not JPEG, PNG or WebP.
        """
        if len(data) > self.max_bytes:
            raise ApiError(413, "frame_too_large", f"frame: at most {self.max_bytes} bytes")
        ext = sniff(data)
        if ext is None:
            raise BadInputError("frame: a JPEG, PNG or WebP image is required", code="unsupported_frame")
        asset_id = f"{hashlib.sha256(data).hexdigest()}.{ext}"
        folder = self._dir(app_id, mode)
        path = folder / asset_id
        if not path.exists():
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return Asset(asset_id, MEDIA_TYPES[ext], len(data), path)

    def get(self, asset_id: str, app_id: str, mode: str) -> Asset:
        """The frame with this id that the app uploaded in this mode; NotFoundError otherwise."""
        if not ASSET_ID.match(asset_id):
            raise NotFoundError("asset not found", code="not_found")
        path = self._dir(app_id, mode) / asset_id
        if not path.is_file():
            raise NotFoundError("asset not found", code="not_found")
        ext = asset_id.rsplit(".", 1)[1]
        return Asset(asset_id, MEDIA_TYPES[ext], path.stat().st_size, path)


@dataclass(frozen=True)
class FormPart:
    """One field of a multipart/form-data body."""

    name: str
    data: bytes
    filename: str | None = None
    content_type: str | None = None

    def text(self) -> str:
        try:
            return self.data.decode("utf-8")
        except UnicodeDecodeError:
            raise BadInputError(f"{self.name}: not UTF-8 text", code="bad_input") from None


MAX_PARTS = 16  # a form has five known fields; anything past this many parts is refused unread


def _boundary(content_type: str) -> bytes:
    head = email.message.Message()
    head["content-type"] = content_type
    boundary = head.get_param("boundary")
    if not isinstance(boundary, str) or not 1 <= len(boundary) <= 70:
        raise BadInputError("multipart/form-data without a boundary of 1-70 characters", code="bad_input")
    try:
        return boundary.encode("ascii")
    except UnicodeEncodeError:
        raise BadInputError("the multipart boundary is not ASCII", code="bad_input") from None


def parse_multipart(content_type: str, body: bytes, max_parts: int = MAX_PARTS) -> dict[str, FormPart]:
    """The fields of a ``multipart/form-data`` body (the body is already size-limited).

    The parts are counted first (one scan for the boundary, linear in the body) and a
    body with more than ``max_parts`` is refused before any part is parsed. Call it
    from a worker thread: parsing grows with the body.

    Raises:
        BadInputError: a body that is not well-formed multipart, a field given twice,
            or more than ``max_parts`` parts (``too_many_parts``).
    """
    delimiter = b"--" + _boundary(content_type)
    if body.count(delimiter) > max_parts + 1:  # one delimiter per part, and the closing one
        raise BadInputError(f"a form of at most {max_parts} parts is accepted", code="too_many_parts")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise BadInputError("the multipart body could not be read", code="bad_input")
    out: dict[str, FormPart] = {}
    for part in message.iter_parts():
        if part.get_content_disposition() != "form-data":
            continue
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:
            raise BadInputError("a multipart field has no name", code="bad_input")
        if name in out:
            raise BadInputError(f"{name}: given more than once", code="bad_input")
        payload = part.get_payload(decode=True)
        out[name] = FormPart(
            name=name,
            data=payload if isinstance(payload, bytes) else b"",
            filename=part.get_filename(),
            content_type=part.get_content_type() if part.get("content-type") else None,
        )
    return out
