"""Checksummed downloads with the standard library only.

:func:`fetch` writes to a temporary file beside the destination, checks its SHA-256 and only then
renames it into place, so a destination that exists is always complete and verified. A file
already there with the right checksum is returned without touching the network.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from ..errors import GenkitError

CHUNK = 1 << 16
TIMEOUT_S = 60


def sha256_of(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _blocks(url: str):
    """The body of ``url`` in chunks; any network failure becomes a GenkitError."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            yield from iter(lambda: response.read(CHUNK), b"")
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", None) or e
        raise GenkitError(
            f"cannot download {url} ({reason}); if you are offline, fetch the file elsewhere "
            "and pass the folder holding it as a local path"
        ) from None


def fetch(url: str, sha256: str, dest: str | os.PathLike) -> Path:
    """Download ``url`` to ``dest`` (creating its folder) unless it is already there and intact.

    Raises :class:`GenkitError` when the download fails (e.g. offline: then get the file some
    other way and pass its folder as a local path) or its SHA-256 is not ``sha256``; nothing is
    left at ``dest`` in either case.
    """
    dest = Path(dest)
    sha256 = sha256.lower()
    if dest.is_file() and sha256_of(dest) == sha256:
        return dest
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    except OSError as e:
        raise GenkitError(f"cannot write there ({e.strerror or e})", source=str(dest.parent)) from None
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for block in _blocks(url):
                digest.update(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != sha256:
            raise GenkitError(f"checksum mismatch for {url}: expected sha256 {sha256}, got {actual}")
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return dest


__all__ = ["fetch", "sha256_of"]
