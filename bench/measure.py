"""Measuring decoded frames against the prepared source, streaming one frame pair at a time."""
from __future__ import annotations

import time
from dataclasses import dataclass

from .codecs.base import Decoded
from .errors import CodecTimeout, InputError
from .metrics import create_metric
from .sequences import PreparedSequence
from .tools import remaining
from .video import open_video


@dataclass
class Measurement:
    summary: dict[str, float]
    per_frame: dict[str, list[float]]
    info: dict
    seconds: float


def measure(seq: PreparedSequence, decoded: Decoded, metric_names: list[str], deadline: float | None = None,
            device: str | None = None) -> Measurement:
    """Every metric in ``metric_names`` over all frames of ``decoded`` against ``seq``. Decoded
    frames are requantised to the source's bit depth first. The frame counts must match."""
    t0 = time.perf_counter()
    metrics = [create_metric(n, **({"device": device} if device and n != "psnr" else {})) for n in metric_names]
    ref = seq.reader()
    dist = open_video(decoded.path, width=decoded.format.width, height=decoded.format.height,
                      bit_depth=decoded.format.bit_depth, fps=seq.fps)
    if (dist.format.width, dist.format.height) != (seq.width, seq.height):
        raise InputError(f"{decoded.path}: decoded size {dist.format.width}x{dist.format.height} "
                         f"differs from the source's {seq.width}x{seq.height}")
    if dist.num_frames != seq.num_frames:
        raise InputError(f"{decoded.path}: decoded {dist.num_frames} frames, the source has {seq.num_frames}")
    for i, (a, b) in enumerate(zip(ref.frames(), dist.frames())):
        if remaining(deadline) == 0:
            raise CodecTimeout(f"measuring timed out at frame {i}")
        b = b.to_bit_depth(a.bit_depth)
        for m in metrics:
            m.update(a, b)
    summary, per_frame, info = {}, {}, {}
    for m in metrics:
        r = m.result()
        summary.update(r.summary)
        per_frame.update(r.per_frame)
        if r.info or m.weights():
            info[m.name] = {**r.info, **({"weights": m.weights()} if m.weights() else {})}
    return Measurement(summary, per_frame, info, time.perf_counter() - t0)
