"""Raw planar YUV 4:2:0 files (``.yuv``, ``.i420``): 8 bit, or 10/12/16 bit little-endian."""
from __future__ import annotations

import os
import re
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import InputError
from ..files import atomic_path
from .frames import Frame, VideoFormat

_SIZE_RE = re.compile(r"(?<![0-9])(\d{2,5})x(\d{2,5})(?![0-9])")
_FPS_RE = re.compile(r"[_-](\d{1,3}(?:\.\d+)?)(?:fps|hz|p)(?![a-z])", re.IGNORECASE)
# a bare rate right after the size, ending the name: MCL-JCV's and JVET's videoSRC05_1920x1080_25.yuv
_SIZE_THEN_RATE_RE = re.compile(r"\d+x\d+_(\d{2,3}(?:\.\d+)?)$")
_BITS_RE = re.compile(r"(?<![0-9])(8|10|12|16)[-_]?bit", re.IGNORECASE)


def guess_from_name(path: Path) -> dict:
    """Width, height, fps and bit depth from names like ``Beauty_1920x1080_120fps_420_8bit.yuv``
    or ``RaceHorses_832x480_30Hz_8bit_P420.yuv`` or ``videoSRC05_1920x1080_25.yuv`` (a rate right after
    the size, at the end); keys present only where found."""
    name = Path(path).name
    out: dict = {}
    if m := _SIZE_RE.search(name):
        out["width"], out["height"] = int(m.group(1)), int(m.group(2))
    if m := _FPS_RE.search(name) or _SIZE_THEN_RATE_RE.search(Path(name).stem):
        out["fps"] = Fraction(m.group(1)).limit_denominator(1001)
    if m := _BITS_RE.search(name):
        out["bit_depth"] = int(m.group(1))
    elif re.search(r"10le|p010|yuv420p10", name, re.IGNORECASE):
        out["bit_depth"] = 10
    return out


class RawYuvReader:
    """Lazily reads frames from a raw YUV 4:2:0 file; never holds more than one frame."""

    def __init__(self, path: str | Path, fmt: VideoFormat, fps: Fraction | float = Fraction(30)):
        self.path = Path(path)
        self.format = fmt
        self.fps = Fraction(fps).limit_denominator(1001)
        if not self.path.is_file():
            raise InputError(f"{self.path}: no such file")
        size = self.path.stat().st_size
        if size == 0:
            raise InputError(f"{self.path}: empty file")
        if size % fmt.frame_bytes:
            whole = size // fmt.frame_bytes
            raise InputError(
                f"{self.path}: {size} bytes is not a whole number of {fmt.width}x{fmt.height} "
                f"{fmt.bit_depth}-bit 4:2:0 frames ({fmt.frame_bytes} bytes each; {whole} whole frames "
                f"and {size - whole * fmt.frame_bytes} bytes left): truncated, or wrong size/bit depth")
        self.num_frames = size // fmt.frame_bytes

    def __len__(self) -> int:
        return self.num_frames

    def __iter__(self) -> Iterator[Frame]:
        return self.frames()

    def frames(self, start: int = 0, count: int | None = None, step: int = 1) -> Iterator[Frame]:
        stop = self.num_frames if count is None else min(self.num_frames, start + count * step)
        fb = self.format.frame_bytes
        with open(self.path, "rb") as f:
            for i in range(start, stop, step):
                f.seek(i * fb)
                buf = f.read(fb)
                if len(buf) != fb:
                    raise InputError(f"{self.path}: frame {i} is truncated")
                yield Frame.from_bytes(buf, self.format)

    def frame(self, index: int) -> Frame:
        return next(self.frames(index, 1))


def write_yuv(path: str | Path, frames: Iterable[Frame], bit_depth: int | None = None) -> int:
    """Write frames to a raw YUV file atomically (temporary name, then rename); returns the count."""
    n = 0
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        for fr in frames:
            if bit_depth is not None:
                fr = fr.to_bit_depth(bit_depth)
            f.write(fr.to_bytes())
            n += 1
        f.flush()
        os.fsync(f.fileno())
    return n
