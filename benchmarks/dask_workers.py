"""Benchmark: the same sweep on a Dask cluster of one worker, then of two (each single-threaded).

Starts a local Dask cluster of worker processes (``distributed.LocalCluster``, one thread each),
runs the sweep through its scheduler's address exactly as ``bench run --backend dask --scheduler
ADDRESS`` does, into an empty store each time, and writes the wall times and their ratio to
``reports/benchmarks/dask_workers.json``, beside the same sweep run in one process without Dask
(``--backend sequential``: what the cluster path costs over it). The sequences are prepared once beforehand, and the
workers' imports warmed, so that both runs time the jobs alone. On a machine with fewer than two
free cores the ratio says more about the machine than about bench.

    python benchmarks/dask_workers.py [--codecs x264,x265] [--bpp 0.01,0.02,0.04,0.08] [--frames 15]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from bench.paths import reports_dir, write_benchmark_figures
from bench.run.sweep import SweepConfig, sweep
from bench.suites import get_suite
from bench.suites.sequences import SequenceOptions, prepare


def _warm() -> None:
    """What a process does once, before its first job: imports, ffmpeg's version and encoders."""
    from bench.codecs import create_codec
    from bench.run import environment, measure  # noqa: F401

    environment.describe()
    create_codec("x264").check_available()


def timed_sweep(workers: int, a, store: Path) -> dict:
    """The sweep on ``workers`` Dask workers (0: in this process, without Dask)."""
    from distributed import Client, LocalCluster

    def run(**backend) -> tuple[float, object]:
        cfg = SweepConfig(suite="demo", codecs=a.codecs.split(","), metrics=a.metrics.split(","),
                          targets=[float(x) for x in a.bpp.split(",")], frames=a.frames, progress=False, store=store,
                          **backend)
        t0 = time.perf_counter()
        summary = sweep(cfg, log=lambda m: None)
        return time.perf_counter() - t0, summary

    if workers == 0:
        _warm()
        wall, summary = run(backend="sequential")
    else:
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                Client(cluster) as client:
            client.run(_warm)
            wall, summary = run(backend="dask", scheduler=cluster.scheduler_address)
    return {"workers": workers, "wall_s": round(wall, 2), "codec_s": round(summary.codec_s, 2),
            "results": summary.statuses}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--codecs", default="x264,x265")
    ap.add_argument("--metrics", default="psnr")
    ap.add_argument("--bpp", default="0.01,0.02,0.04,0.08")
    ap.add_argument("--frames", type=int, default=15)
    ap.add_argument("--output", type=Path, default=reports_dir() / "benchmarks" / "dask_workers.json")
    a = ap.parse_args()
    suite = get_suite("demo")
    opts = SequenceOptions(frames=a.frames, fps_step=suite.defaults.get("fps_step", 1))
    for seq in suite.sequences:
        prepare(seq, opts)
    with tempfile.TemporaryDirectory() as tmp:
        local = timed_sweep(0, a, Path(tmp) / "local.sqlite")
        one = timed_sweep(1, a, Path(tmp) / "one.sqlite")
        two = timed_sweep(2, a, Path(tmp) / "two.sqlite")
    load = os.getloadavg()
    write_benchmark_figures({
        "sweep": {"suite": "demo", "sequences": len(suite.sequences), "codecs": a.codecs, "bpp": a.bpp,
                  "frames": a.frames, "metrics": a.metrics},
        "in_process_without_dask": local, "one_worker": one, "two_workers": two,
        "speedup_two_vs_one": round(one["wall_s"] / two["wall_s"], 2),
        "one_worker_vs_in_process": round(one["wall_s"] / local["wall_s"], 2),
        "machine": {"cpus": os.cpu_count(), "load_average_1_5_15_min_at_end": [round(x, 2) for x in load]},
    }, "dask_workers", a.output)


if __name__ == "__main__":
    main()
