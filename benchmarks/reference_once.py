"""Benchmark: metric time per rate point when the ground truth's side is computed once per prepared
sequence (:mod:`bench.metrics.reference`) against computing both sides at every rate point (before).

Source: the demo suite's ``bigbuckbunny`` (1280x720, the demo's 15 frames at 5 fps), encoded by
x265 and decoded. ``bench.run.measure.measure`` runs with the given metrics three times in one
process: with the reference cache off (both sides, as before), with an empty cache (the first rate
point of a sequence: computes and stores the reference side) and with the cache filled (every later
rate point). For a sweep of R rate points on the sequence (3 codecs x 3 targets: R = 9) the time per
rate point is (first + (R - 1) x later) / R; the ratio to "before" is the figure (times of one process
on a shared CPU: the ratios, measured in one run, are the robust figures). The values of the three
runs are compared. Figures go to ``reports/benchmarks/reference_once.json``.

    python benchmarks/reference_once.py [--metrics lpips,dists,fid,fvd,tlp] [--frames 15] [--rate-points 9]
"""
from __future__ import annotations

import argparse
import math
import os
import tempfile
from pathlib import Path

import torch
from x265_decoded import x265_decoded  # the module beside this script

from bench.paths import write_benchmark_figures
from bench.run.measure import measure


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--metrics", default="lpips,dists,fid,fvd,tlp")
    ap.add_argument("--frames", type=int, default=15)
    ap.add_argument("--fps-step", type=int, default=5)
    ap.add_argument("--rate-points", type=int, default=9)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--output", type=Path)
    a = ap.parse_args()
    names = a.metrics.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["BENCH_DATA_DIR"] = str(Path(tmp) / "datasets")  # an empty reference cache
        p, dec = x265_decoded(Path(tmp), a.frames, a.fps_step, qp=40)
        os.environ["BENCH_REFERENCE_CACHE_MB"] = "0"
        measure(p, dec, names, device=a.device)  # warm-up: weights loaded, nothing cached
        before = measure(p, dec, names, device=a.device)
        del os.environ["BENCH_REFERENCE_CACHE_MB"]
        first = measure(p, dec, names, device=a.device)
        later = measure(p, dec, names, device=a.device)
        cached_bytes = sum(f.stat().st_size for f in (Path(p.yuv).parent / "reference").rglob("*.npz"))
    r = a.rate_points
    per_point = (first.seconds + (r - 1) * later.seconds) / r
    diff = {k: max(abs(m.summary[k] - v) for m in (first, later)) for k, v in before.summary.items()
            if not math.isnan(v)}
    result = {
        "sequence": f"demo/bigbuckbunny {p.width}x{p.height}, {p.num_frames} frames", "metrics": names,
        "device": a.device, "threads": torch.get_num_threads(),
        "before_s": round(before.seconds, 2), "first_rate_point_s": round(first.seconds, 2),
        "later_rate_point_s": round(later.seconds, 2), "rate_points": r,
        "per_rate_point_s": round(per_point, 2), "per_rate_point_ratio": round(per_point / before.seconds, 3),
        "later_ratio": round(later.seconds / before.seconds, 3),
        "max_abs_difference": diff, "reference_cache_bytes": cached_bytes,
        "note": "one process on a shared CPU: the ratios are the robust figures",
        "command": f"python benchmarks/reference_once.py --metrics {a.metrics} --frames {a.frames} "
                   f"--fps-step {a.fps_step} --rate-points {r} --device {a.device}",
    }
    write_benchmark_figures(result, f"reference_once_{a.device.split(':')[0]}", a.output)


if __name__ == "__main__":
    main()
