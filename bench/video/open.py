"""One entry point to read and write any video the harness meets."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Iterable

from ..errors import InputError
from .ffmpeg_io import FfmpegReader, ProbeInfo, probe, write_with_ffmpeg
from .frames import Frame, VideoFormat
from .y4m import Y4MReader, write_y4m
from .yuv import RawYuvReader, guess_from_name, write_yuv

RAW_SUFFIXES = {".yuv", ".i420", ".raw"}


def open_video(path: str | Path, *, width: int | None = None, height: int | None = None,
               bit_depth: int | None = None, fps: Fraction | float | None = None):
    """A lazy frame reader for ``path``: raw YUV 4:2:0 (size from the arguments or the file name),
    Y4M, or anything ffmpeg decodes. Every reader has ``format``, ``fps``, ``num_frames`` and
    ``frames(start, count, step)``."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in RAW_SUFFIXES:
        guess = guess_from_name(path)
        width, height = width or guess.get("width"), height or guess.get("height")
        if not width or not height:
            raise InputError(f"{path}: raw YUV needs a frame size (give --size or name the file like name_WxH.yuv)")
        return RawYuvReader(path, VideoFormat(width, height, bit_depth or guess.get("bit_depth", 8)),
                            fps or guess.get("fps", Fraction(30)))
    if suffix == ".y4m":
        return Y4MReader(path)
    return FfmpegReader(path, bit_depth=bit_depth)


def probe_video(path: str | Path, count_frames: bool = True) -> ProbeInfo:
    """Size, rate, pixel format and frame count of any video file the harness reads."""
    path = Path(path)
    if path.suffix.lower() in RAW_SUFFIXES or path.suffix.lower() == ".y4m":
        r = open_video(path)
        return ProbeInfo(r.format.width, r.format.height, r.fps, r.format.pix_fmt, "rawvideo", r.num_frames)
    return probe(path, count_frames=count_frames)


def write_video(path: str | Path, frames: Iterable[Frame], fps: Fraction | float = Fraction(30),
                bit_depth: int | None = None) -> int:
    """Write frames by file type: raw ``.yuv``, ``.y4m``, or through ffmpeg (.mp4, .gif, ...)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in RAW_SUFFIXES:
        return write_yuv(path, frames, bit_depth)
    if bit_depth is not None:
        frames = (f.to_bit_depth(bit_depth) for f in frames)
    if suffix == ".y4m":
        return write_y4m(path, frames, fps)
    return write_with_ffmpeg(path, frames, fps)
