"""Writing a file whole or not at all: write it under a temporary name beside its destination, then
rename it onto the destination (a rename within a folder is atomic), so a reader or a crash never
sees half a file. Making a file once when several processes want it at the same time
(:func:`make_once`: the others wait for the first and reuse its file), with an advisory lock on a
lock file of its own (:func:`file_lock`), never on the file itself."""
from __future__ import annotations

import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

try:
    import fcntl
except ImportError:  # not POSIX: no advisory locks; writes stay atomic, work may be done twice
    fcntl = None


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


def lock_file_of(path: str | Path) -> Path:
    """The lock file that stands for ``path``: hidden, beside it."""
    path = Path(path)
    return path.with_name(f".{path.name}.lock")


@contextmanager
def file_lock(lock: str | Path, wait: bool = True) -> Iterator[bool]:
    """Hold an exclusive advisory lock (``flock``) on the file ``lock`` (created if needed) for the
    block; yields True, or False at once when ``wait`` is False and another process holds it. The
    lock goes with its process, so a killed holder never leaves it held. Lock files are kept (an
    empty file each): removing one while another process waits on it would let two hold the lock."""
    lock = Path(lock)
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        if fcntl is None:
            yield True
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def make_once(dest: str | Path, make: Callable[[Path], None], suffix: str = "") -> Path:
    """``dest``, made by ``make(tmp)`` (which writes the temporary path it is given) unless it is
    there. Safe with any number of processes at once: one makes it, atomically; the others wait for
    it and reuse its file."""
    dest = Path(dest)
    if dest.exists():
        return dest
    with file_lock(lock_file_of(dest)):
        if not dest.exists():
            with atomic_path(dest, suffix) as tmp:
                make(tmp)
    return dest
