"""``bench fetch``: download, verify, safely extract and place a suite's sequences.

* Downloads resume (HTTP Range, checked against the server's ``Content-Range``) into
  ``datasets/downloads/``, with a progress bar; two fetches of one archive at once download it once
  (the second waits for the first and reuses its file).
* Verification: a manifest SHA-256 where one is published; otherwise the archive's SHA-256 is
  recorded on first download in ``<suite folder>/SHA256SUMS`` and checked on every later fetch
  (trust on first use); the extracted sequence must have the manifest's exact byte size (frames x
  frame size) or at least a whole number of frames.
* Extraction refuses absolute paths, ``..`` components and links (no path traversal), and only
  takes the members the manifest names.
* Offline, a refused connection, an HTTP error or a download cut off: one line naming the URL (a cut
  download resumes on the next fetch).
"""
from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from ..errors import InputError, OfflineError
from ..files import atomic_copy, atomic_path, file_lock, lock_file_of
from ..hashing import file_sha256
from ..paths import data_dir
from ..video.yuv import RawYuvReader
from . import Suite
from .sequences import Sequence

CHUNK = 1 << 20


def download(url: str, dest: Path, expected_bytes: int | None = None, progress: bool = True,
             timeout: float = 30) -> Path:
    """Download ``url`` to ``dest``, resuming a partial ``dest.part``; atomic rename at the end. One
    process at a time downloads a given ``dest`` (the others wait, then find it there)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists() and (expected_bytes is None or dest.stat().st_size == expected_bytes):
        return dest
    with file_lock(lock_file_of(dest)):
        if dest.exists() and (expected_bytes is None or dest.stat().st_size == expected_bytes):
            return dest
        return _download(url, dest, expected_bytes, progress, timeout)


def _resumed_at(resp) -> int | None:
    """Where a 206 answer's body starts (its ``Content-Range``), None if it does not say."""
    m = re.match(r"bytes (\d+)-", resp.headers.get("Content-Range") or "")
    return int(m.group(1)) if m else None


def _download(url: str, dest: Path, expected_bytes: int | None, progress: bool, timeout: float) -> Path:
    from tqdm import tqdm

    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    req = urllib.request.Request(url, headers={"User-Agent": "bench-fetch"})
    if have:
        req.add_header("Range", f"bytes={have}-")
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # already complete
            part.replace(dest)
            return dest
        raise InputError(f"{url}: download failed (HTTP {exc.code} {exc.reason})") from None
    except (urllib.error.URLError, socket.timeout, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise OfflineError(f"cannot reach {url} ({reason}): offline? download it by hand into {dest}, "
                           f"then run the same `bench fetch` again") from None
    with resp:
        if have and (resp.status != 206 or _resumed_at(resp) != have):
            have = 0  # the server ignored the Range, or answered another one: start again
        total = resp.headers.get("Content-Length")
        total = int(total) + have if total else expected_bytes
        with open(part, "ab" if have else "wb") as f, tqdm(total=total, initial=have, unit="B", unit_scale=True,
                                                          desc=dest.name, disable=not progress) as bar:
            try:
                for block in iter(lambda: resp.read(CHUNK), b""):
                    f.write(block)
                    bar.update(len(block))
            except (OSError, socket.timeout, http.client.HTTPException) as exc:
                why = "the connection closed early" if isinstance(exc, http.client.IncompleteRead) else exc
                raise OfflineError(f"{url}: download interrupted ({why}); run `bench fetch` again to resume") from None
            f.flush()
            os.fsync(f.fileno())
    if total is not None and part.stat().st_size < total:  # the server closed the connection early
        raise OfflineError(f"{url}: download interrupted after {part.stat().st_size} of {total} bytes; "
                           f"run `bench fetch` again to resume")
    if expected_bytes is not None and part.stat().st_size != expected_bytes:
        raise InputError(f"{part}: downloaded {part.stat().st_size} bytes, expected {expected_bytes}")
    part.replace(dest)
    return dest


def safe_member(name: str, archive: Path) -> PurePosixPath:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or (p.parts and ":" in p.parts[0]):
        raise InputError(f"{archive}: refusing unsafe member path {name!r}")
    return p


def extract_member(archive: Path, member: str, dest: Path) -> Path:
    """Extract the one member named ``member`` (matched by file name) from a .zip or .7z archive
    into the file ``dest``, checking every member's path first."""
    with atomic_path(dest) as tmp:
        suffix = archive.suffix.lower()
        if suffix == ".zip":
            with zipfile.ZipFile(archive) as z:
                infos = z.infolist()
                for i in infos:
                    safe_member(i.filename, archive)
                match = [i for i in infos if PurePosixPath(i.filename).name == member and not i.is_dir()]
                if not match:
                    raise InputError(f"{archive}: has no member {member!r}")
                if (match[0].external_attr >> 16) & 0o170000 == 0o120000:
                    raise InputError(f"{archive}: member {member!r} is a link; refusing it")
                with z.open(match[0]) as src, open(tmp, "wb") as out:
                    shutil.copyfileobj(src, out, CHUNK)
        elif suffix == ".7z":
            import py7zr

            with py7zr.SevenZipFile(archive) as z:
                names = z.getnames()
                for n in names:
                    safe_member(n, archive)
                match = [n for n in names if PurePosixPath(n.replace("\\", "/")).name == member]
                if not match:
                    raise InputError(f"{archive}: has no member {member!r}")
                staging = tmp.with_name(tmp.name + ".d")
                shutil.rmtree(staging, ignore_errors=True)
                z.extract(path=staging, targets=match)
                extracted = staging / match[0]
                if extracted.is_symlink() or not extracted.is_file():
                    raise InputError(f"{archive}: member {member!r} is not a regular file")
                extracted.replace(tmp)
                shutil.rmtree(staging, ignore_errors=True)
        else:
            raise InputError(f"{archive}: unsupported archive type (expected .zip or .7z)")
    return dest


def verify_sequence(seq: Sequence, path: Path) -> None:
    expected = seq.source.get("bytes")
    size = path.stat().st_size
    if expected and size != expected:
        raise InputError(f"{path}: {size} bytes, expected {expected} ({seq.num_frames} frames of "
                         f"{seq.width}x{seq.height}): corrupt or wrong file")
    RawYuvReader(path, seq.format, seq.fps)  # raises unless a whole number of frames


def _check_archive(archive: Path, seq: Sequence, sums_file: Path) -> None:
    want = (seq.source.get("download") or {}).get("sha256")
    got = file_sha256(archive)
    known = {}
    if sums_file.exists():
        for line in sums_file.read_text().splitlines():
            if line.strip():
                h, _, name = line.partition("  ")
                known[name.strip()] = h.strip()
    if want and want != got:
        raise InputError(f"{archive}: SHA-256 {got[:12]}... does not match the manifest's {want[:12]}...; "
                         f"delete it and fetch again")
    recorded = known.get(archive.name)
    if recorded and recorded != got:
        raise InputError(f"{archive}: SHA-256 {got[:12]}... differs from {recorded[:12]}..., recorded in {sums_file} "
                         f"when it was first downloaded (changed upstream, or corrupt); nothing extracted from it. "
                         f"Delete it and fetch again, or delete its line in {sums_file.name} to accept the new one")
    if archive.name not in known:
        with open(sums_file, "a") as f:
            f.write(f"{got}  {archive.name}\n")


def fetch_suite(suite: Suite, source: Path | None = None, progress: bool = True, log=print) -> list[Path]:
    """Make every sequence of ``suite`` present in its folder; returns their paths."""
    if suite.manifest.get("package"):
        log(f"suite {suite.name} is shipped inside an installed package: nothing to fetch")
        return [s.path for s in suite.sequences]
    folder = suite.folder or data_dir() / suite.name
    folder.mkdir(parents=True, exist_ok=True)
    downloads = data_dir() / "downloads"
    done = []
    for seq in suite.sequences:
        if seq.path.exists():
            verify_sequence(seq, seq.path)
            log(f"{seq.name}: present and verified ({seq.path})")
            done.append(seq.path)
            continue
        dl = seq.source.get("download") or {}
        member = dl.get("member", seq.path.name)
        if source is not None:
            src = _from_local(source, member, seq)
            if src.suffix.lower() in (".zip", ".7z"):
                extract_member(src, member, seq.path)
            else:
                atomic_copy(src, seq.path)
        elif dl.get("url"):
            archive = download(dl["url"], downloads / dl["url"].rsplit("/", 1)[-1], dl.get("bytes"), progress)
            _check_archive(archive, seq, folder / "SHA256SUMS")
            if dl.get("archive"):
                extract_member(archive, member, seq.path)
            else:
                atomic_copy(archive, seq.path)
        else:
            how = suite.manifest.get("notes") or "no public download"
            raise InputError(f"{seq.path}: missing and suite {suite.name!r} has no download URL: {how}")
        try:
            verify_sequence(seq, seq.path)
        except InputError:
            seq.path.unlink(missing_ok=True)
            raise
        log(f"{seq.name}: fetched and verified ({seq.path})")
        done.append(seq.path)
    return done


def _from_local(source: Path, member: str, seq: Sequence) -> Path:
    if source.is_dir():
        cand = [p for p in source.rglob(member)]
        if not cand:
            raise InputError(f"{source}: no file named {member} for sequence {seq.name}")
        return cand[0]
    if source.is_file():
        return source
    raise InputError(f"{source}: no such file or folder")
