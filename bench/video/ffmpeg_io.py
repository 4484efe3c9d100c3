"""Anything ffmpeg reads or writes (mp4, mkv, gif, png folders, elementary streams), streamed
through pipes one frame at a time. Command lines are built with ffmpeg-python and run without a
shell. RGB sources are converted to 4:2:0 with the BT.709 matrix, limited range."""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Iterator

import ffmpeg  # ffmpeg-python: command-line construction only

from ..errors import InputError
from ..tools import ffmpeg_exe, run_tool, tail
from .frames import Frame, VideoFormat

# scale options used every time ffmpeg changes colour or size, so that every path agrees
SWS_FLAGS = "lanczos+accurate_rnd+full_chroma_int+full_chroma_inp+bitexact"
TO_709 = {"out_color_matrix": "bt709", "out_range": "tv"}


@dataclass
class ProbeInfo:
    width: int
    height: int
    fps: Fraction
    pix_fmt: str
    codec: str
    num_frames: int | None = None

    @property
    def bit_depth(self) -> int:
        m = re.search(r"p(10|12|16)(le|be)?$", self.pix_fmt)
        return int(m.group(1)) if m else 8


def is_yuv(pix_fmt: str) -> bool:
    return pix_fmt.startswith(("yuv", "yuvj", "gray", "nv12", "nv21", "p010", "p016"))


_STREAM_RE = re.compile(r"Stream #\d+:\d+.*?: Video: (?P<codec>\w+)(?P<rest>.*)")


def probe(path: str | Path, count_frames: bool = False) -> ProbeInfo:
    """Size, frame rate, pixel format (and optionally the exact frame count, by decoding) of the
    first video stream, read from ffmpeg's own report (the imageio-ffmpeg wheel has no ffprobe)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)]
    args += ["-map", "0:v:0", "-f", "null", "-"] if count_frames else []
    res = subprocess.run(args, capture_output=True, text=True, errors="replace", check=False)
    err = res.stderr
    m = _STREAM_RE.search(err)
    if not m:
        last = err.strip().splitlines()[-1] if err.strip() else "no video stream"
        raise InputError(f"{path}: not a readable video ({last})")
    rest = m.group("rest")
    size = re.search(r"(?<![0-9])(\d{1,5})x(\d{1,5})(?![0-9])", rest)
    pix = re.search(r",\s*([a-z0-9_]+)(?:\([^)]*\))?,\s*\d{1,5}x\d{1,5}", rest)
    fps_m = re.search(r"([\d.]+)(k?) fps", rest) or re.search(r"([\d.]+)(k?) tbr", rest)
    if not size:
        raise InputError(f"{path}: cannot read the frame size from ffmpeg's report")
    fps = Fraction(fps_m.group(1)).limit_denominator(1001) * (1000 if fps_m.group(2) else 1) if fps_m else Fraction(25)
    for ntsc in (Fraction(24000, 1001), Fraction(30000, 1001), Fraction(60000, 1001)):
        if abs(fps - ntsc) < Fraction(1, 100):
            fps = ntsc
    nframes = None
    if count_frames:
        if res.returncode != 0:
            raise InputError(f"{path}: ffmpeg cannot decode it: {tail(err, 300).strip().splitlines()[-1]}")
        counts = re.findall(r"frame=\s*(\d+)", err)
        nframes = int(counts[-1]) if counts else None
    return ProbeInfo(int(size.group(1)), int(size.group(2)), fps, pix.group(1) if pix else "unknown",
                     m.group("codec"), nframes)


def decode_args(path: str | Path, fmt: VideoFormat, *, input_args: dict | None = None,
                fps_step: int = 1, frames: int | None = None, size: tuple[int, int] | None = None,
                resize: str = "crop", output: str | Path = "pipe:", src_pix_fmt: str = "yuv420p") -> list[str]:
    """ffmpeg arguments that decode ``path`` to raw ``fmt`` frames, keeping every ``fps_step``-th
    frame, at most ``frames`` of them, optionally resized (``resize='crop'``: scale to cover the
    target and crop the centre, keeping the aspect ratio; ``'scale'``: stretch). YUV sources keep
    their samples (resizing filters each plane; no colour conversion); RGB sources are converted
    with the BT.709 matrix to limited range."""
    colour = ({"out_range": "tv"} if src_pix_fmt.startswith("yuvj") else {}) if is_yuv(src_pix_fmt) else TO_709
    stream = ffmpeg.input(str(path), **(input_args or {}))
    if fps_step > 1:
        stream = stream.filter("select", f"not(mod(n,{fps_step}))").filter("setpts", "N/FRAME_RATE/TB")
    if size:
        w, h = size
        if resize == "crop":
            stream = stream.filter("scale", w=f"max({w},ceil(iw*{h}/ih/2)*2)",
                                   h=f"max({h},ceil(ih*{w}/iw/2)*2)", flags=SWS_FLAGS, **colour)
            stream = stream.filter("crop", w, h)
        else:
            stream = stream.filter("scale", w, h, flags=SWS_FLAGS, **colour)
    elif colour:
        stream = stream.filter("scale", flags=SWS_FLAGS, **colour)
    out_kw = {"f": "rawvideo", "pix_fmt": fmt.pix_fmt, "fps_mode": "passthrough", "an": None, "sn": None}
    if frames:
        out_kw["frames:v"] = frames
    return _compile(ffmpeg.output(stream, str(output), **out_kw))


def _compile(node) -> list[str]:
    """ffmpeg-python's argument list with our global options first (ffmpeg ignores trailing ones)."""
    args = node.compile(cmd=ffmpeg_exe())
    return [args[0], "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args[1:]]


class FfmpegReader:
    """Streams frames decoded by ffmpeg from any container or codec it reads."""

    def __init__(self, path: str | Path, bit_depth: int | None = None, info: ProbeInfo | None = None):
        self.path = Path(path)
        self.info = info or probe(self.path)
        self.format = VideoFormat(self.info.width + (self.info.width & 1), self.info.height + (self.info.height & 1),
                                  bit_depth or self.info.bit_depth)
        self.fps = self.info.fps
        self.num_frames = self.info.num_frames

    def __len__(self) -> int:
        if self.num_frames is None:
            self.num_frames = probe(self.path, count_frames=True).num_frames or 0
        return self.num_frames

    def __iter__(self) -> Iterator[Frame]:
        return self.frames()

    def frames(self, start: int = 0, count: int | None = None, step: int = 1) -> Iterator[Frame]:
        args = decode_args(self.path, self.format, size=(self.format.width, self.format.height)
                           if (self.format.width, self.format.height) != (self.info.width, self.info.height) else None,
                           resize="scale", src_pix_fmt=self.info.pix_fmt)
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        fb = self.format.frame_bytes
        i = produced = 0
        try:
            while count is None or produced < count:
                buf = proc.stdout.read(fb)
                if not buf:
                    break
                if len(buf) != fb:
                    raise InputError(f"{self.path}: ffmpeg returned a truncated frame {i}")
                if i >= start and (i - start) % step == 0:
                    produced += 1
                    yield Frame.from_bytes(buf, self.format)
                i += 1
        finally:
            proc.stdout.close()
            if proc.poll() is None:
                proc.kill()
            err = proc.stderr.read()
            proc.stderr.close()
            rc = proc.wait()
        if rc not in (0, -9) and i == 0:
            raise InputError(f"{self.path}: ffmpeg cannot decode it: {tail(err, 300).strip()}")


def transcode_to_raw(src: str | Path, dst: str | Path, fmt: VideoFormat, *, deadline: float | None = None,
                     **kw) -> list[str]:
    """Decode ``src`` into the raw YUV file ``dst`` (see :func:`decode_args`); returns the command."""
    args = decode_args(src, fmt, output=dst, **kw)
    run_tool(args, deadline=deadline, what=f"ffmpeg decoding {Path(src).name}")
    return args


def write_with_ffmpeg(path: str | Path, frames: Iterable[Frame], fps: Fraction | float,
                      extra: list[str] | None = None) -> int:
    """Encode frames into any container ffmpeg writes (chosen by the file name: .mp4, .mkv, .gif,
    ``%05d.png`` patterns). MP4/MKV default to lossless x264 (``-qp 0``) for I/O fidelity."""
    path = Path(path)
    it = iter(frames)
    first = next(it, None)
    if first is None:
        raise InputError(f"{path}: no frames to write")
    fmt = first.format
    fps = Fraction(fps).limit_denominator(1001)
    inp = ffmpeg.input("pipe:", f="rawvideo", pix_fmt=fmt.pix_fmt, s=f"{fmt.width}x{fmt.height}",
                       r=f"{fps.numerator}/{fps.denominator}")
    suffix = path.suffix.lower()
    out_kw: dict = {}
    if suffix in (".mp4", ".mkv", ".mov") and not extra:
        out_kw = {"vcodec": "libx264", "qp": 0, "pix_fmt": fmt.pix_fmt}
    elif suffix == ".png":
        inp = inp.filter("scale", flags=SWS_FLAGS, in_color_matrix="bt709", in_range="tv")
        out_kw = {"pix_fmt": "rgb24" if fmt.bit_depth == 8 else "rgb48be"}
    elif suffix == ".gif":
        inp = inp.filter("scale", flags=SWS_FLAGS, in_color_matrix="bt709", in_range="tv")
    args = _compile(ffmpeg.output(inp, str(path), **out_kw))
    if extra:
        args = args[:-1] + list(extra) + args[-1:]
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    n = 0
    try:
        proc.stdin.write(first.to_bytes())
        n = 1
        for fr in it:
            proc.stdin.write(fr.to_bytes())
            n += 1
        proc.stdin.close()
    except BrokenPipeError:
        pass
    err = proc.stderr.read()
    if proc.wait() != 0:
        raise InputError(f"{path}: ffmpeg could not write it: {tail(err, 300).strip()}")
    return n
