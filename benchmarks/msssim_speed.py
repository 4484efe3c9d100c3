"""Benchmark: bench's MS-SSIM (separable filtering) against piq's ``multi_scale_ssim`` (the
implementation bench used before), frames per second at 1280x720, RGB and Y, same frames, one process.

Source: the demo suite's ``bigbuckbunny`` (real 1280x720 footage) encoded by x265 and decoded. Both
implementations get the same BT.709 RGB and luma planes; the times are per frame pair (RGB and Y
together); the ratio of the two, measured in one run, is the robust figure on a shared machine.
Figures go to ``reports/benchmarks/msssim_speed.json``.

    python benchmarks/msssim_speed.py [--frames 8]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from x265_decoded import x265_decoded  # the module beside this script

from bench.metrics import create_metric
from bench.paths import write_benchmark_figures
from bench.video import open_video


def piq_ms_ssim(ref, dist) -> tuple[float, float]:
    """What bench's MS-SSIM computed before: piq on RGB and on Y, float32."""
    import piq

    peak = float((1 << ref.bit_depth) - 1)
    with torch.no_grad():
        a, b = (torch.from_numpy(f.rgb()).permute(2, 0, 1)[None] for f in (ref, dist))
        rgb = piq.multi_scale_ssim(a, b, data_range=1.0, kernel_size=11)
        ya, yb = (torch.from_numpy(f.y.astype(np.float32) / peak)[None, None] for f in (ref, dist))
        y = piq.multi_scale_ssim(ya, yb, data_range=1.0, kernel_size=11)
    return float(rgb), float(y)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--output", type=Path)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("BENCH_DATA_DIR", str(Path(tmp) / "datasets"))
        p, dec = x265_decoded(Path(tmp), a.frames)
        pairs = list(zip(p.reader().frames(), open_video(dec.path, width=p.width, height=p.height).frames()))
    for f in pairs[0]:  # warm-up: imports, RGB conversion
        f.rgb()
    piq_ms_ssim(*pairs[0])
    t0 = time.perf_counter()
    theirs = [piq_ms_ssim(r, d) for r, d in pairs]
    t_piq = time.perf_counter() - t0
    m = create_metric("ms-ssim", device="cpu")
    m.update(*pairs[0])
    m.reset()
    t0 = time.perf_counter()
    for r, d in pairs:
        m.update(r, d)
    t_bench = time.perf_counter() - t0
    ours = m.result().per_frame
    n = len(pairs)
    diff = max(max(abs(x - t[0]) for x, t in zip(ours["ms_ssim_rgb"], theirs)),
               max(abs(x - t[1]) for x, t in zip(ours["ms_ssim_y"], theirs)))
    result = {
        "size": f"{p.width}x{p.height}", "frames": n, "threads": torch.get_num_threads(),
        "piq_fps": n / t_piq, "bench_fps": n / t_bench, "speedup": t_piq / t_bench,
        "max_abs_difference": diff,
        "note": "RGB and Y MS-SSIM per frame pair; times of one process on a shared CPU: the speedup is the robust figure",
        "command": f"python benchmarks/msssim_speed.py --frames {a.frames}",
    }
    write_benchmark_figures(result, "msssim_speed", a.output)


if __name__ == "__main__":
    main()
