"""YUV4MPEG2 (``.y4m``) files, 4:2:0 at 8 to 16 bit."""
from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import InputError
from ..files import atomic_path
from .frames import Frame, VideoFormat

_C420 = {"420": 8, "420jpeg": 8, "420paldv": 8, "420mpeg2": 8, "420p10": 10, "420p12": 12, "420p16": 16}


def _parse_header(path: Path, line: bytes):
    if not line.startswith(b"YUV4MPEG2 "):
        raise InputError(f"{path}: not a Y4M file (no YUV4MPEG2 signature)")
    fields = line.decode("ascii", "replace").split()[1:]
    width = height = None
    fps = Fraction(25)
    bit_depth = 8
    for fld in fields:
        key, val = fld[0], fld[1:]
        if key == "W":
            width = int(val)
        elif key == "H":
            height = int(val)
        elif key == "F":
            num, _, den = val.partition(":")
            fps = Fraction(int(num), int(den or 1))
        elif key == "C":
            if val not in _C420:
                raise InputError(f"{path}: Y4M colour space C{val} is not supported (4:2:0 only)")
            bit_depth = _C420[val]
        elif key == "I" and val not in ("p", "?"):
            raise InputError(f"{path}: interlaced Y4M (I{val}) is not supported")
    if not width or not height:
        raise InputError(f"{path}: Y4M header has no W or H")
    return VideoFormat(width, height, bit_depth), fps


class Y4MReader:
    """Lazily reads a Y4M file. The frame count is found by walking the FRAME markers once."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(f"{self.path}: no such file")
        with open(self.path, "rb") as f:
            header = f.readline(4096)
            if not header.endswith(b"\n"):
                raise InputError(f"{self.path}: not a Y4M file (no header line)")
            self.format, self.fps = _parse_header(self.path, header.rstrip(b"\n"))
            self._data_start = f.tell()
        self._offsets = self._index()
        self.num_frames = len(self._offsets)

    def _index(self) -> list[int]:
        offsets = []
        fb = self.format.frame_bytes
        size = self.path.stat().st_size
        with open(self.path, "rb") as f:
            pos = self._data_start
            while pos < size:
                f.seek(pos)
                marker = f.readline(1024)
                if not marker.startswith(b"FRAME"):
                    raise InputError(f"{self.path}: bad frame marker at byte {pos} (frame {len(offsets)})")
                start = pos + len(marker)
                if start + fb > size:
                    raise InputError(f"{self.path}: frame {len(offsets)} is truncated "
                                     f"({size - start} of {fb} bytes)")
                offsets.append(start)
                pos = start + fb
        if not offsets:
            raise InputError(f"{self.path}: Y4M file has no frames")
        return offsets

    def __len__(self) -> int:
        return self.num_frames

    def __iter__(self) -> Iterator[Frame]:
        return self.frames()

    def frames(self, start: int = 0, count: int | None = None, step: int = 1) -> Iterator[Frame]:
        stop = self.num_frames if count is None else min(self.num_frames, start + count * step)
        with open(self.path, "rb") as f:
            for i in range(start, stop, step):
                f.seek(self._offsets[i])
                yield Frame.from_bytes(f.read(self.format.frame_bytes), self.format)


def write_y4m(path: str | Path, frames: Iterable[Frame], fps: Fraction | float = Fraction(30)) -> int:
    """Write frames as Y4M atomically; returns the number of frames written."""
    fps = Fraction(fps).limit_denominator(1001)
    n = 0
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            for fr in frames:
                if n == 0:
                    cs = "420jpeg" if fr.bit_depth == 8 else f"420p{fr.bit_depth}"
                    f.write(f"YUV4MPEG2 W{fr.y.shape[1]} H{fr.y.shape[0]} F{fps.numerator}:{fps.denominator} "
                            f"Ip A1:1 C{cs}\n".encode())
                f.write(b"FRAME\n")
                f.write(fr.to_bytes())
                n += 1
            f.flush()
            os.fsync(f.fileno())
        if n == 0:
            raise InputError(f"{path}: no frames to write")
    return n
