"""Sequences, the options a run applies to them, and their conversion to cached raw YUV.

A :class:`Sequence` is a source video as a suite manifest describes it. :func:`prepare` applies a
run's :class:`SequenceOptions` (frame count, temporal subsampling, size) once and caches the result
as a raw YUV 4:2:0 file under ``datasets/cache``; every codec then reads that same file, so all
codecs see identical input, and the metrics compare against it.

Resizing (``--size WxH``) is done by ffmpeg's swscale with a Lanczos filter on each Y'CbCr plane
separately (no colour conversion, no change of range). ``resize='crop'`` (default) scales the
frame to cover WxH keeping its aspect ratio and crops the centre (1920x1080 -> 1280x720 -> 1280x704);
``'scale'`` stretches to WxH.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

from ..errors import InputError
from ..files import make_once
from ..hashing import identity_hash
from ..paths import data_dir
from ..video import VideoFormat, open_video
from ..video.ffmpeg_io import probe, transcode_to_raw
from ..video.open import RAW_SUFFIXES


@dataclass(frozen=True)
class Sequence:
    """A source video: where it is and what it is."""

    name: str
    path: Path
    width: int
    height: int
    fps: Fraction
    num_frames: int | None
    bit_depth: int = 8
    suite: str = ""
    source: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def format(self) -> VideoFormat:
        return VideoFormat(self.width, self.height, self.bit_depth)

    def describe(self) -> dict:
        return {"name": self.name, "suite": self.suite, "file": self.path.name, "width": self.width,
                "height": self.height, "fps": str(self.fps), "frames": self.num_frames, "bit_depth": self.bit_depth}

    @classmethod
    def from_description(cls, d: dict) -> "Sequence":
        """The inverse of :meth:`describe` (the path is the file's name alone, as described)."""
        return cls(d["name"], Path(d["file"]), int(d["width"]), int(d["height"]), Fraction(d["fps"]), d["frames"],
                   int(d["bit_depth"]), d["suite"])


def parse_size(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    try:
        w, h = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise InputError(f"--size {text!r}: expected WIDTHxHEIGHT, e.g. 1280x704") from None
    if w <= 0 or h <= 0 or w % 2 or h % 2:
        raise InputError(f"--size {text!r}: width and height must be positive and even (4:2:0)")
    return w, h


FPS_TOLERANCE = 0.02  # a source rate within 2% of a whole multiple of the target rate (29.97 for 5 fps)


@dataclass(frozen=True)
class SequenceOptions:
    """What a run does to every sequence: keep every ``fps_step``-th frame, then at most ``frames``;
    optionally resize to ``size``. ``fps`` instead of ``fps_step`` asks for a frame rate: each
    sequence then keeps every (its own rate / ``fps``)-th frame (every 5th of 25 fps, every 6th of
    30 fps for 5 fps), see :meth:`for_sequence`."""

    frames: int | None = None
    fps_step: int = 1
    size: tuple[int, int] | None = None
    resize: str = "crop"
    fps: Fraction | None = None

    def __post_init__(self):
        if self.frames is not None and self.frames < 1:
            raise InputError(f"--frames {self.frames}: must be at least 1")
        if self.fps_step < 1:
            raise InputError(f"--fps-step {self.fps_step}: must be at least 1")
        if self.resize not in ("crop", "scale"):
            raise InputError(f"--resize {self.resize!r}: expected crop or scale")
        if self.fps is not None:
            if not self.fps > 0:
                raise InputError(f"--fps {self.fps}: must be a positive frame rate")
            if self.fps_step != 1:
                raise InputError("--fps and --fps-step: give one of them (--fps sets each sequence's step)")

    def for_sequence(self, seq: "Sequence") -> "SequenceOptions":
        """These options with ``fps`` turned into ``seq``'s own ``fps_step``: its rate over ``fps``,
        which must be a whole number (to within 2%)."""
        if self.fps is None:
            return self
        ratio = Fraction(seq.fps) / Fraction(self.fps)
        step = max(1, round(ratio))
        if abs(float(ratio) / step - 1) > FPS_TOLERANCE:
            raise InputError(f"--fps {float(self.fps):g}: {seq.name} runs at {float(seq.fps):g} fps, not a whole "
                             f"multiple of it (give --fps-step instead)")
        return SequenceOptions(frames=self.frames, fps_step=step, size=self.size, resize=self.resize)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["size"] = f"{self.size[0]}x{self.size[1]}" if self.size else None
        d.pop("fps")  # a target rate only where one is asked for: other options keep the keys they had
        if self.fps is not None:
            d["fps"] = str(self.fps)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "SequenceOptions":
        """The inverse of :meth:`to_dict`."""
        return cls(frames=d.get("frames"), fps_step=int(d.get("fps_step") or 1), size=parse_size(d.get("size")),
                   resize=d.get("resize") or "crop", fps=Fraction(d["fps"]) if d.get("fps") else None)


@dataclass(frozen=True)
class PreparedSequence:
    """A sequence converted for a run: a raw YUV 4:2:0 file every codec reads."""

    name: str
    suite: str
    yuv: Path
    format: VideoFormat
    fps: Fraction
    num_frames: int
    options: SequenceOptions
    source: Sequence
    key: str

    @property
    def width(self) -> int:
        return self.format.width

    @property
    def height(self) -> int:
        return self.format.height

    @property
    def pixels(self) -> int:
        return self.format.width * self.format.height * self.num_frames

    def reader(self):
        return open_video(self.yuv, width=self.width, height=self.height, bit_depth=self.format.bit_depth,
                          fps=self.fps)

    def describe(self) -> dict:
        return {"name": self.name, "suite": self.suite, "key": self.key, "width": self.width, "height": self.height,
                "frames": self.num_frames, "fps": str(self.fps), "bit_depth": self.format.bit_depth,
                "options": self.options.to_dict(), "source": self.source.describe()}

    @classmethod
    def from_description(cls, d: dict, cache_dir: Path) -> "PreparedSequence":
        """The inverse of :meth:`describe`: the prepared sequence a result was measured against, its
        frames where :func:`prepare` writes them in ``cache_dir`` (the file may be gone since)."""
        fmt = VideoFormat(int(d["width"]), int(d["height"]), int(d["bit_depth"]))
        fps = Fraction(d["fps"])
        return cls(d["name"], d["suite"], cached_yuv(cache_dir, d["name"], fmt, fps, d["key"]), fmt, fps,
                   int(d["frames"]), SequenceOptions.from_dict(d["options"]), Sequence.from_description(d["source"]),
                   d["key"])


def cached_yuv(cache_dir: Path, name: str, fmt: VideoFormat, fps: Fraction, key: str) -> Path:
    """Where :func:`prepare` keeps a prepared sequence's raw YUV file."""
    return Path(cache_dir) / f"{name}_{fmt.width}x{fmt.height}_{float(fps):g}fps_{fmt.bit_depth}bit_{key}.yuv"


def sequence_key(seq: Sequence, opts: SequenceOptions) -> str:
    """Identity of (source content, options): the manifest checksum where known, else name and size
    of the file. Stable across machines for the same files."""
    ident = {"name": seq.name, "sha256": seq.source.get("sha256"), "bytes": seq.path.stat().st_size
             if seq.path.exists() else None, "opts": opts.to_dict(), "bit_depth": seq.bit_depth}
    return identity_hash(ident)


def prepare(seq: Sequence, opts: SequenceOptions, cache_dir: Path | None = None) -> PreparedSequence:
    """Convert ``seq`` under ``opts`` to a cached raw YUV file (atomic; reused when present; made once
    when several processes prepare it at the same time). A target ``fps`` becomes the sequence's
    own ``fps_step`` first (the prepared sequence's options say which)."""
    opts = opts.for_sequence(seq)
    if not seq.path.exists():
        raise InputError(f"{seq.path}: sequence {seq.name!r} of suite {seq.suite!r} is missing "
                         f"(run `bench fetch --suite {seq.suite}`)")
    cache_dir = Path(cache_dir or data_dir() / "cache")
    cache_dir.mkdir(parents=True, exist_ok=True)
    key = sequence_key(seq, opts)
    w, h = opts.size or (seq.width, seq.height)
    if (w % 2 or h % 2) and not opts.size:
        w, h = w + (w & 1), h + (h & 1)
    fmt = VideoFormat(w, h, seq.bit_depth)
    fps = seq.fps / opts.fps_step
    out = cached_yuv(cache_dir, seq.name, fmt, fps, key)
    if not out.exists():
        input_args = None
        src_pix_fmt = fmt.pix_fmt
        if seq.path.suffix.lower() in RAW_SUFFIXES:
            open_video(seq.path, width=seq.width, height=seq.height, bit_depth=seq.bit_depth)  # validates size
            input_args = {"f": "rawvideo", "pix_fmt": seq.format.pix_fmt, "s": f"{seq.width}x{seq.height}",
                          "r": f"{seq.fps.numerator}/{seq.fps.denominator}"}
        elif seq.path.suffix.lower() != ".y4m":
            src_pix_fmt = probe(seq.path).pix_fmt
        size = opts.size if opts.size else ((w, h) if (w, h) != (seq.width, seq.height) else None)
        # several runs may prepare the same sequence at once: one converts, the others wait and reuse
        make_once(out, lambda tmp: transcode_to_raw(
            seq.path, tmp, fmt, input_args=input_args, fps_step=opts.fps_step, frames=opts.frames, size=size,
            resize=opts.resize if opts.size else "scale", src_pix_fmt=src_pix_fmt))
    n = out.stat().st_size // fmt.frame_bytes
    if n == 0:
        raise InputError(f"{seq.path}: no frames decoded for {seq.name}")
    return PreparedSequence(seq.name, seq.suite, out, fmt, fps, n, opts, seq, key)


def sequence_from_file(path: str | Path, name: str | None = None, suite: str = "files", **overrides) -> Sequence:
    """A :class:`Sequence` for any single video file the harness reads."""
    path = Path(path)
    r = open_video(path, width=overrides.get("width"), height=overrides.get("height"),
                   bit_depth=overrides.get("bit_depth"), fps=overrides.get("fps"))
    nf = r.num_frames
    return Sequence(name or path.stem, path, r.format.width, r.format.height, Fraction(r.fps), nf,
                    r.format.bit_depth, suite)

