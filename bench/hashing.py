"""Hashes that name things: short identity hashes of values (result keys, codec configurations,
prepared sequences, report files) and the SHA-256 of files (checkpoints, binaries, archives)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .files import atomic_write
from .paths import cache_dir

CHUNK = 1 << 22


def identity_hash(value, length: int = 16) -> str:
    """The first ``length`` hex digits of the SHA-256 of ``value``: a string as it is, anything else
    as canonical JSON (sorted keys; what JSON cannot hold, such as paths, by ``str``). Equal values
    get equal names on every machine."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_of(path: str | Path) -> str:
    """:func:`file_sha256`, remembered in ``$BENCH_CACHE_DIR/weights/hashes.json`` by path, size
    and modification time (hashing the 550 MB VGG pickle takes about a second)."""
    path = Path(path).resolve()
    st = path.stat()
    key = f"{path}|{st.st_size}|{st.st_mtime_ns}"
    index_path = cache_dir() / "weights" / "hashes.json"
    try:
        index = json.loads(index_path.read_text())
    except (OSError, ValueError):
        index = {}
    if key in index:
        return index[key]
    index[key] = file_sha256(path)
    try:
        atomic_write(index_path, json.dumps(index, indent=0))
    except OSError:
        pass  # a read-only cache only costs re-hashing
    return index[key]
