"""Where documents' bytes live, behind a small interface (local disk now; object storage later)."""

import os
import re
from pathlib import Path
from typing import Protocol

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/_.-]{0,254}$")
SIGNATURES = {"application/pdf": b"%PDF-", "image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
"""The file types the platform keeps, by their first bytes (never by the name or the sender's word)."""


def sniff(content: bytes) -> str | None:
    """The media type of a file the platform keeps, from its first bytes; None for anything else."""
    return next((name for name, magic in SIGNATURES.items() if content.startswith(magic)), None)


class Storage(Protocol):
    def put(self, key: str, content: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...


class LocalDiskStorage:
    """Files under one folder (the instance folder in the embedded setup). Keys are ours, never a
    user's file name, and may not climb out of the folder."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        if not _KEY.match(key) or ".." in key:
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key

    def put(self, key: str, content: bytes) -> None:
        path = self._path(key)
        temporary = path.with_suffix(path.suffix + ".part")
        try:
            temporary.write_bytes(content)
        except FileNotFoundError:  # a new folder: made once, not asked for on every put
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(content)
        os.replace(temporary, path)  # whole or nothing

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)
