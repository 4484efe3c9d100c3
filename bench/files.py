"""Writing a file whole or not at all: write it under a temporary name beside its destination, then
rename it onto the destination (a rename within a folder is atomic), so a reader or a crash never
sees half a file."""
from __future__ import annotations

import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def atomic_path(dest: str | Path, suffix: str = "") -> Iterator[Path]:
    """A temporary path beside ``dest`` for the block to write; renamed onto ``dest`` when the block
    ends without error, removed when it fails. The name is unique, so concurrent writers of the same
    file never share one; ``suffix`` ends it (for tools that choose a format by the file name)."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f"{dest.name}.{uuid.uuid4().hex[:8]}.part{suffix}")
    try:
        yield tmp
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write(dest: str | Path, data: bytes | str) -> None:
    """Write ``data`` (text as UTF-8) to ``dest`` atomically."""
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def atomic_copy(src: str | Path, dest: str | Path) -> None:
    """Copy the file ``src`` to ``dest`` atomically."""
    with atomic_path(dest) as tmp:
        shutil.copyfile(src, tmp)
