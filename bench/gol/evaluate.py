"""Measuring GoL in process, for its benchmarks (``benchmarks/gol_*.py``): a clip's first frames,
bench's metrics on RGB frames, and how good the tokenizer alone is: PSNR of its reconstruction (no
coding) against the trivial latents a thumbnail gives, an area-downscaled frame upscaled again with
bicubic. A tokenizer whose latents hold no more than an 8x thumbnail's pixels has learned nothing a
codec could build on."""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..metrics.psnr import mse, psnr_from_mse
from ..tools import ffmpeg_exe

HELDOUT_SIZE = (640, 352)  # issue 20's tokenizer milestone: the held-out clips centre-cropped to this
METRIC_CHUNK = 4  # frames per metric call: 16 frames of 720p at once took 18 GB for LPIPS and DISTS


def add_clip_options(p, sequence: str = "bikes") -> None:
    """The options of a benchmark that measures one checkpoint on one clip (:func:`clip_and_model`)."""
    from . import SHIPPED_WEIGHTS

    p.add_argument("--sequence", default=sequence, help=f"a sequence of the demo suite (default {sequence})")
    p.add_argument("--clip", type=Path, help="any video instead of a demo sequence")
    p.add_argument("--weights", type=Path, default=SHIPPED_WEIGHTS, help="a GoL checkpoint (default the shipped one)")
    p.add_argument("--frames", type=int, default=16, help="the clip's first frames, at the source rate")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--output", type=Path, help="where the figures go (default reports/benchmarks/NAME.json)")


def clip_and_model(a):
    """For :func:`add_clip_options`' options: the clip's path, its first frames (T, H, W, 3) and the model."""
    from ..suites import get_suite
    from ..suites.sequences import sequence_from_file
    from .model import GoLModel

    if a.threads:
        torch.set_num_threads(a.threads)
    demo = {s.name: s for s in get_suite("demo").sequences}
    if not a.clip and a.sequence not in demo:
        raise SystemExit(f"--sequence {a.sequence}: not a demo sequence ({', '.join(sorted(demo))})")
    seq = sequence_from_file(a.clip) if a.clip else demo[a.sequence]
    return seq.path, first_frames(seq.path, a.frames), GoLModel.load(a.weights)


def first_frames(path: Path, n: int, size: tuple[int, int] | None = None) -> np.ndarray:
    """A clip's first ``n`` frames as RGB (n, H, W, 3) in [0, 1], read by ffmpeg: at the clip's own
    size (ffmpeg's default YUV->RGB conversion), or with ``size`` = (w, h) scaled (area, BT.709) to
    cover it and centre-cropped to it."""
    vf = []
    if size is not None:
        w, h = size
        vf = ["-vf", (f"scale='max({w},ceil(iw*{h}/ih/2)*2)':'max({h},ceil(ih*{w}/iw/2)*2)':flags=area:"
                      f"in_color_matrix=bt709,crop={w}:{h}")]
    r = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), *vf, "-frames:v", str(n),
                        "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True)
    rgb = np.frombuffer(r.stdout, np.uint8)
    if size is None:
        from ..video.open import probe_video

        info = probe_video(path, count_frames=False)
        size = (info.width, info.height)
    return rgb.reshape(-1, size[1], size[0], 3).astype(np.float32) / 255


def _nchw(frames: np.ndarray) -> torch.Tensor:
    """RGB frames (T, H, W, 3) as a float32 tensor (T, 3, H, W)."""
    return torch.from_numpy(np.ascontiguousarray(frames, dtype=np.float32)).permute(0, 3, 1, 2)


def thumbnail(frames: np.ndarray, factor: int) -> np.ndarray:
    """RGB frames (T, H, W, 3) in [0, 1], area-downscaled by ``factor`` and bicubic-upscaled back."""
    x = _nchw(frames)
    h, w = x.shape[-2:]
    small = F.interpolate(x, size=(max(1, h // factor), max(1, w // factor)), mode="area")
    up = F.interpolate(small, size=(h, w), mode="bicubic", align_corners=False).clamp(0, 1)
    return up.permute(0, 2, 3, 1).numpy()


def resize_area(frames: np.ndarray, width: int, height: int) -> np.ndarray:
    """RGB frames (T, H, W, 3) in [0, 1] resized to ``width`` x ``height`` by area averaging."""
    x = _nchw(frames)
    return F.interpolate(x, size=(height, width), mode="area").permute(0, 2, 3, 1).numpy()


@torch.no_grad()
def tokenizer_only(model, frames: np.ndarray) -> np.ndarray:
    """The tokenizer's reconstruction of RGB frames (T, H, W, 3) in [0, 1], with no coding."""
    t, h, w, _ = frames.shape
    return model.frames_of(model.latents_of(frames), t, h, w)


def _measured(a: np.ndarray, b: np.ndarray, name: str, device: str = "cpu"):
    """Metric ``name``'s result (:class:`bench.metrics.base.MetricResult`) between RGB frames ``a`` (the
    reference) and ``b``, (T, H, W, 3) in [0, 1], fed ``METRIC_CHUNK`` frames at a time (temporal
    metrics keep their last frame across calls)."""
    from ..metrics import create_metric
    from ..metrics.base import FrameBatch

    m = create_metric(name, device=device)
    for i in range(0, len(a), METRIC_CHUNK):
        j = i + METRIC_CHUNK
        m.update_batch(FrameBatch.from_rgb(_nchw(a[i:j]), _nchw(b[i:j]), start=i))
    return m.result()


def frame_metrics(a: np.ndarray, b: np.ndarray, names=("lpips",), device: str = "cpu") -> dict[str, float]:
    """Each named metric's summary value between RGB frames ``a`` (the reference) and ``b``, computed
    by bench's own metrics (:mod:`bench.metrics`), keyed by output name."""
    out = {}
    for name in names:
        out.update({k: round(float(v), 4) for k, v in _measured(a, b, name, device).summary.items()})
    return out


def frame_values(a: np.ndarray, b: np.ndarray, name: str, device: str = "cpu") -> dict[str, list[float]]:
    """Metric ``name``'s per-frame values between RGB frames ``a`` and ``b``, keyed by output name
    (a temporal metric's frame 0 is NaN)."""
    return _measured(a, b, name, device).per_frame


def mean_rgb_shift(a: np.ndarray, b: np.ndarray) -> list[float]:
    """The mean of ``b`` - ``a`` per RGB channel, in 8-bit levels (summed in float64: a float32 sum
    over millions of pixels drifts by a tenth of a level or more)."""
    d = b.astype(np.float64) - a.astype(np.float64)
    return [round(float(v), 2) for v in d.reshape(-1, 3).mean(0) * 255]


def psnr_rgb(a: np.ndarray, b: np.ndarray) -> float:
    return round(float(psnr_from_mse(mse(a, b), 1.0)), 3)


def tokenizer_vs_thumbnails(model, frames: np.ndarray) -> dict:
    """PSNR-RGB (dB) of the tokenizer alone and of 8x and 16x thumbnails, on the same frames."""
    return {"tokenizer": psnr_rgb(frames, tokenizer_only(model, frames)),
            "thumb8": psnr_rgb(frames, thumbnail(frames, 8)), "thumb16": psnr_rgb(frames, thumbnail(frames, 16))}
