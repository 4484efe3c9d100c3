"""Animated GIFs of sequences and reconstructions for the report, made by ffmpeg in one call per
reconstruction: the reconstruction alone (the GIF table's cell), ground truth beside it, and a
zoomed crop of both.

Colour: the raw Y'CbCr frames are converted to RGB with the BT.709 matrix, limited range (the
harness's one convention, ``bench/video/color.py``), then scaled with Lanczos. Each GIF gets its own
256-colour palette (``palettegen``) and ordered Bayer dithering (``paletteuse=dither=bayer``):
error-diffusion dithering changes from frame to frame and would add flicker that is not the
codec's, which matters when the point is to judge temporal consistency.

Every frame is kept and played at ``fps`` (default: the sequence's own rate, at most 25), so a
sequence subsampled in time is not subsampled again. The zoomed crop is the centre of the frame at
native resolution, ``width`` source pixels wide or half the frame if smaller, enlarged with
nearest-neighbour to ``width`` when it is smaller (pixels stay pixels).
"""
from __future__ import annotations

from contextlib import ExitStack
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

from ..files import atomic_path
from ..hashing import identity_hash
from ..tools import ffmpeg_exe, run_tool
from ..video import VideoFormat

MAX_DEFAULT_FPS = 25.0


@dataclass(frozen=True)
class GifSettings:
    width: int = 320
    fps: float | None = None  # None: the sequence's rate, at most MAX_DEFAULT_FPS
    max_frames: int | None = None  # None: every frame

    def tag(self) -> str:
        return identity_hash(asdict(self), 8)

    def rate(self, seq_fps: Fraction | float) -> float:
        return float(self.fps) if self.fps else min(float(seq_fps), MAX_DEFAULT_FPS)


def _raw_input(path: Path, fmt: VideoFormat, fps: float) -> list[str]:
    return ["-f", "rawvideo", "-pix_fmt", fmt.pix_fmt, "-s", f"{fmt.width}x{fmt.height}", "-r", f"{fps:.6g}",
            "-i", str(path)]


def _to_rgb(label: str, out: str) -> str:
    return (f"[{label}]scale=iw:ih:in_color_matrix=bt709:in_range=tv:out_range=pc:"
            f"flags=lanczos+accurate_rnd+full_chroma_int,format=rgb24[{out}]")


def _gif_chain(src: str, name: str) -> str:
    return (f"[{src}]split[{name}a][{name}b];[{name}a]palettegen=stats_mode=full[{name}p];"
            f"[{name}b][{name}p]paletteuse=dither=bayer:bayer_scale=4[{name}]")


def zoom_box(fmt: VideoFormat, width: int) -> tuple[int, int, int, int]:
    """(w, h, x, y) of the centre crop shown zoomed: ``width`` source pixels or half the frame."""
    cw = min(width, fmt.width // 2) // 2 * 2
    ch = max(2, round(cw * fmt.height / fmt.width) // 2 * 2)
    return cw, ch, (fmt.width - cw) // 2 // 2 * 2, (fmt.height - ch) // 2 // 2 * 2


def make_gifs(ground_truth: tuple[Path, VideoFormat], fps_in: Fraction | float, settings: GifSettings,
              outputs: dict[str, Path], reconstruction: tuple[Path, VideoFormat] | None = None,
              deadline: float | None = None) -> None:
    """Write the GIFs named in ``outputs``: ``gt`` (ground truth alone), and with a
    ``reconstruction``: ``rec`` (it alone), ``sbs`` (ground truth | reconstruction), ``zoom``
    (the zoomed centre crop of both, side by side). Files are written whole or not at all."""
    fps = settings.rate(fps_in)
    w = settings.width
    gt_path, gt_fmt = ground_truth
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *_raw_input(gt_path, gt_fmt, fps)]
    graph = [_to_rgb("0:v", "g")]
    gt_uses = [n for n in ("gt", "sbs", "zoom") if n in outputs]
    rec_uses = [n for n in ("rec", "sbs", "zoom") if n in outputs]
    if rec_uses and reconstruction is None:
        raise ValueError("rec, sbs and zoom need a reconstruction")
    if reconstruction is not None:
        args += _raw_input(*reconstruction, fps)
        graph.append(_to_rgb("1:v", "r"))
    cw, ch, cx, cy = zoom_box(gt_fmt, w)
    small = f"scale={w}:-2:flags=lanczos"
    zoom = f"crop={cw}:{ch}:{cx}:{cy},scale={max(w, cw)}:-2:flags=neighbor"
    for side, uses in (("g", gt_uses), ("r", rec_uses)):
        if not uses:
            continue
        graph.append(f"[{side}]split={len(uses)}" + "".join(f"[{side}{u}]" for u in uses))
    views = {"gt": [("g", small)], "rec": [("r", small)], "sbs": [("g", small), ("r", small)],
             "zoom": [("g", zoom), ("r", zoom)]}
    for name in outputs:
        parts = [f"[{side}{name}]{filt}[{side}{name}v]" for side, filt in views[name]]
        stack = "".join(f"[{side}{name}v]" for side, _ in views[name])
        graph.append(";".join(parts) + (f";{stack}hstack=2[{name}v]" if len(parts) == 2 else f";{stack}null[{name}v]"))
        graph.append(_gif_chain(f"{name}v", f"{name}out"))
    args += ["-filter_complex", ";".join(graph)]
    with ExitStack() as written:  # every GIF is renamed into place only once ffmpeg has made them all
        for name, path in outputs.items():
            tmp = written.enter_context(atomic_path(path, ".gif"))
            args += ["-map", f"[{name}out]"]
            if settings.max_frames:
                args += ["-frames:v", str(settings.max_frames)]
            args += ["-loop", "0", "-f", "gif", str(tmp)]
        run_tool(args, deadline=deadline, what="GIF making (ffmpeg)")
