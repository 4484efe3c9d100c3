"""Measuring decoded frames against the prepared source, streaming a few frame pairs at a time.

Frames are read once, requantised to the source's bit depth once, and handed to every metric in
batches (:class:`bench.metrics.base.FrameBatch`), so metrics share RGB conversion, device uploads
and backbone features; what depends on the ground truth alone is computed once per prepared
sequence and kept beside it (:mod:`bench.metrics.reference`). ``BENCH_METRIC_BATCH`` sets the
batch size (default 4 frames; at 1080p each frame's VGG activations take about 1 GB on the device)."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..codecs.base import Decoded
from ..errors import CodecTimeout, InputError
from ..metrics import canonical_names, create_metric
from ..metrics.base import FrameBatch, torch_device
from ..metrics.reference import Reference
from ..suites.sequences import PreparedSequence
from ..tools import remaining
from ..video import open_video


@dataclass
class Measurement:
    summary: dict[str, float]
    per_frame: dict[str, list[float]]
    info: dict
    seconds: float


_torch_threads: int | None = None


def limit_torch_threads(n: int | None) -> None:
    """Let torch use ``n`` threads in this process (a job's share of the cores), applied now if torch
    is imported, else when a metric that uses torch imports it (importing torch takes seconds that a
    run of PSNR and MS-SSIM alone does not need)."""
    global _torch_threads
    _torch_threads = n
    _apply_torch_threads()


def _apply_torch_threads() -> None:
    torch = sys.modules.get("torch")
    if torch is not None and _torch_threads and torch.get_num_threads() != _torch_threads:
        torch.set_num_threads(_torch_threads)


def batch_size() -> int:
    try:
        return max(1, int(os.environ.get("BENCH_METRIC_BATCH", "4")))
    except ValueError:
        raise InputError(f"BENCH_METRIC_BATCH={os.environ['BENCH_METRIC_BATCH']!r} is not a whole number") from None


def ground_truth(seq: PreparedSequence) -> Reference:
    """The measurement's ground truth: the prepared YUV, and the reference cache beside it
    (``reference/`` in the folder of prepared sequences, see :mod:`bench.metrics.reference`)."""
    return Reference(seq.key, seq.yuv, Path(seq.yuv).parent / "reference", seq.num_frames)


def measure(seq: PreparedSequence, decoded: Decoded, metric_names: list[str], deadline: float | None = None,
            device: str | None = None) -> Measurement:
    """Every metric in ``metric_names`` over all frames of ``decoded`` against ``seq``. Decoded
    frames are requantised to the source's bit depth first. The frame counts must match."""
    t0 = time.perf_counter()
    names = canonical_names(metric_names)  # imports the metrics' modules (and torch, where they use it)
    _apply_torch_threads()
    device = torch_device(device)
    metrics = [create_metric(n, device=device) for n in names]
    reference = ground_truth(seq)
    ref = seq.reader()
    dist = open_video(decoded.path, width=decoded.format.width, height=decoded.format.height,
                      bit_depth=decoded.format.bit_depth, fps=seq.fps)
    if (dist.format.width, dist.format.height) != (seq.width, seq.height):
        raise InputError(f"{decoded.path}: decoded size {dist.format.width}x{dist.format.height} "
                         f"differs from the source's {seq.width}x{seq.height}")
    if dist.num_frames != seq.num_frames:
        raise InputError(f"{decoded.path}: decoded {dist.num_frames} frames, the source has {seq.num_frames}")
    workdir = Path(tempfile.mkdtemp(prefix="measure-", dir=Path(decoded.path).parent))
    try:
        for m in metrics:
            m.reference = reference
            m.begin(workdir)
        size = batch_size()
        refs, dists, start = [], [], 0
        for i, (a, b) in enumerate(zip(ref.frames(), dist.frames())):
            if remaining(deadline) == 0:
                raise CodecTimeout(f"measuring timed out at frame {i}")
            refs.append(a)
            dists.append(b.to_bit_depth(a.bit_depth))
            if len(refs) == size or i == seq.num_frames - 1:
                batch = FrameBatch(refs, dists, start, device)
                for m in metrics:
                    m.update_batch(batch)
                start += len(refs)
                refs, dists = [], []
        summary, per_frame, info = {}, {}, {}
        for m in metrics:
            r = m.result()
            summary.update(r.summary)
            per_frame.update({k: v for k, v in r.per_frame.items() if v})
            weights = m.weights()
            info[m.name] = {"outputs": m.declaration(), **r.info, **({"weights": weights} if weights else {})}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return Measurement(summary, per_frame, info, time.perf_counter() - t0)
