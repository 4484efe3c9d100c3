"""Resizing a raw YUV 4:2:0 file with ffmpeg's swscale: each Y'CbCr plane filtered on its own (no
colour conversion, no change of range or bit depth), with a stated filter. The resolution ladder
uses it to code a sequence at a lower resolution and to bring the decoded frames back to the
source's size."""
from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..tools import ffmpeg_exe, run_tool
from .frames import VideoFormat

# swscale's filters a user may name; the rest of the flags are those of every other resize in bench
FILTERS = ("lanczos", "bicubic", "spline", "bilinear", "area", "neighbor")
EXACT_FLAGS = "accurate_rnd+full_chroma_int+full_chroma_inp+bitexact"


def sws_flags(filter_name: str) -> str:
    if filter_name not in FILTERS:
        raise InputError(f"resize filter {filter_name!r}: expected one of {', '.join(FILTERS)}")
    return f"{filter_name}+{EXACT_FLAGS}"


def resize_raw(src: str | Path, fmt: VideoFormat, dst: str | Path, size: tuple[int, int], filter_name: str,
               frames: int | None = None, deadline: float | None = None) -> list[str]:
    """Write ``src`` (raw ``fmt``) resized to ``size`` into ``dst`` (raw, same sample format);
    returns the command line."""
    w, h = size
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
           "-f", "rawvideo", "-pix_fmt", fmt.pix_fmt, "-s", f"{fmt.width}x{fmt.height}", "-i", str(src),
           *(["-frames:v", str(frames)] if frames else []),
           "-vf", f"scale={w}:{h}:flags={sws_flags(filter_name)}", "-f", "rawvideo", "-pix_fmt", fmt.pix_fmt,
           str(dst)]
    run_tool(cmd, deadline=deadline, what=f"resizing {Path(src).name} to {w}x{h}")
    return cmd
