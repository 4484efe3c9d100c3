"""Benchmark: encodes per target for the bpp solver, and the harness's overhead, on ``demo``.

Runs a fresh sweep (empty store, no cached probes) in one process, then replays every
(codec, sequence) rate curve with plain bisection using the same encodes where possible, and writes
the figures to ``reports/benchmarks/solver_and_overhead.json``.

    python benchmarks/solver_and_overhead.py [--codecs x264,x265,vvenc,svt-av1] [--metrics psnr,ms-ssim]
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench.codecs import create_codec
from bench.paths import reports_dir
from bench.results.tables import load_frame
from bench.run.solver import bisect
from bench.run.sweep import SweepConfig, sweep
from bench.suites import get_suite
from bench.suites.sequences import SequenceOptions, prepare


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--codecs", default="x264,x265,vvenc,svt-av1")
    ap.add_argument("--metrics", default="psnr,ms-ssim")
    ap.add_argument("--bpp", default="0.001,0.002,0.004,0.008")
    ap.add_argument("--output", type=Path, default=reports_dir() / "benchmarks" / "solver_and_overhead.json")
    a = ap.parse_args()
    targets = [float(x) for x in a.bpp.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "bench.sqlite"
        cfg = SweepConfig(suite="demo", codecs=a.codecs.split(","), metrics=a.metrics.split(","), targets=targets,
                          jobs=1, backend="sequential", progress=False, store=store)
        t0 = time.perf_counter()
        summary = sweep(cfg, log=lambda m: None)
        wall = time.perf_counter() - t0
        df = load_frame(store)
        probes = {}
        import sqlite3

        con = sqlite3.connect(store)
        for ck, sk, knob, bpp, enc_s in con.execute("SELECT codec_key, sequence_key, knob, bpp, encode_s FROM probes"):
            probes.setdefault((ck, sk), {})[knob] = (bpp, enc_s)
        encode_total = sum(e for d in probes.values() for _, e in d.values())
        # a file the solver chose from an earlier probe (a ladder's floor) is encoded once more
        again = con.execute("SELECT SUM(json_extract(config, '$.solver.encoded_again_s')) FROM results").fetchone()[0]
        encode_total += again or 0.0
        # targets that land on the same knob share one decode and one measurement: count them once
        measured = df.dropna(subset=["knob"]).drop_duplicates(["codec", "sequence", "knob"])
        decode_total = float(measured["decode_s"].fillna(0).sum())
        metrics_total = float(measured["metrics_s"].fillna(0).sum())
        # plain bisection on the same curves (encoding what the solver never probed)
        suite = get_suite("demo")
        bis = {}
        for codec_name in cfg.codecs:
            codec = create_codec(codec_name)
            for seq in suite.sequences:
                ps = prepare(seq, SequenceOptions(frames=15, fps_step=5))
                known = {k: v[0] for k, v in probes.get((codec.config_key(), ps.key), {}).items()}
                cache: dict[float, float] = {}

                def rate(k, ps=ps, codec=codec, known=known):
                    if k in known:
                        return known[k]
                    return codec.encode(ps, k, Path(tmp) / "bisect").bits / ps.pixels

                counts = []
                for t in targets:
                    counts.append(bisect(t, rate, codec.knob, cache).encodes)
                bis.setdefault(codec_name, []).extend(counts)
    per_codec = df.groupby("codec")["encodes"].mean().to_dict()
    n_targets = len(df)
    result = {
        "suite": "demo (3 clips, 15 frames at 5 fps)", "targets_bpp": targets, "codecs": cfg.codecs,
        "metrics": cfg.metrics, "results": n_targets, "statuses": summary.statuses,
        "solver_encodes_per_target": round(float(df["encodes"].mean()), 3),
        "solver_encodes_per_target_by_codec": {k: round(v, 3) for k, v in per_codec.items()},
        "bisection_encodes_per_target": round(sum(sum(v) for v in bis.values()) / n_targets, 3),
        "bisection_encodes_per_target_by_codec": {k: round(sum(v) / len(v), 3) for k, v in bis.items()},
        "wall_s": round(wall, 2), "encode_s": round(encode_total, 2), "decode_s": round(decode_total, 2),
        "metrics_s": round(metrics_total, 2),
        "harness_overhead_s": round(wall - encode_total - decode_total - metrics_total, 2),
        "harness_overhead_fraction_of_codec_time": round(
            (wall - encode_total - decode_total - metrics_total) / (encode_total + decode_total), 3),
        "harness_overhead_fraction_of_codec_and_metric_time": round(
            (wall - encode_total - decode_total - metrics_total) / (encode_total + decode_total + metrics_total), 3),
        "metrics_fraction_of_codec_time": round(metrics_total / (encode_total + decode_total), 3),
        "note": "times of one process on a shared machine; the fractions (measured in one run) are the robust figures",
        "machine": {"cpus": __import__("os").cpu_count()},
    }
    a.output.parent.mkdir(parents=True, exist_ok=True)
    a.output.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
