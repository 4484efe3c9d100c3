"""Benchmark: GoL's encode and decode time for 16 frames of 1280x720, its parameter count, and the
bitstream size at each mask's lowest and highest quality, on the CPU or a GPU.

Source: the first 16 frames of the demo suite's ``bigbuckbunny`` (real 1280x720 footage). Times are
the model's own (tokenizer, I-latent coding with the rANS coder, P-latent generation, tokenizer
decoding), measured in-process after one warm-up, so they exclude process start-up and YUV I/O.
Decoding is checked to give the same frames twice. Figures go to
``reports/benchmarks/gol_speed_<device>.json``.

    python benchmarks/gol_speed.py [--device cpu|cuda] [--frames 16] [--threads N] [--weights gol.pt]
"""
from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from bench.codecs.gol import SHIPPED_WEIGHTS
from bench.gol.model import GoLModel
from bench.paths import write_benchmark_figures
from bench.suites import get_suite
from bench.suites.sequences import SequenceOptions, prepare
from bench.video.yuv import RawYuvReader


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--frames", type=int, default=16)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--weights", type=Path, default=SHIPPED_WEIGHTS)
    p.add_argument("--output", type=Path)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    seq = next(s for s in get_suite("demo").sequences if s.name == "bigbuckbunny")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("BENCH_DATA_DIR", str(Path(tmp) / "datasets"))
        prepared = prepare(seq, SequenceOptions(frames=a.frames, fps_step=1))
        frames = np.stack([f.rgb() for f in RawYuvReader(prepared.yuv, prepared.format).frames(0, a.frames)])
    model = GoLModel.load(a.weights, a.device)
    sync = torch.cuda.synchronize if a.device.startswith("cuda") else (lambda: None)
    rows = []
    model.decode(model.encode(frames[:4], "1111", 0.0))  # warm-up
    for mask, q in [(m, q) for m in ("1000", "1001", "1010", "1111") for q in (0.0, model.codec.levels - 1.0)]:
        sync(); t0 = time.perf_counter()
        data = model.encode(frames, mask, q)
        sync(); t1 = time.perf_counter()
        rec = model.decode(data)
        sync(); t2 = time.perf_counter()
        same = bool(np.array_equal(rec, model.decode(data)))
        rows.append({"mask": mask, "q": q, "bytes": len(data), "bpp": len(data) * 8 / frames[..., 0].size,
                     "encode_s": round(t1 - t0, 3), "decode_s": round(t2 - t1, 3), "decode_repeatable": same})
    result = {"device": a.device, "gpu": torch.cuda.get_device_name() if a.device.startswith("cuda") else None,
              "cpu": platform.processor() or platform.machine(), "torch_threads": torch.get_num_threads(),
              "frames": a.frames, "size": f"{frames.shape[2]}x{frames.shape[1]}", "weights": str(a.weights),
              "model_id": model.model_id().hex(),
              "parameters": {k: sum(p.numel() for p in getattr(model, k).parameters())
                             for k in ("tokenizer", "codec", "generator")},
              "rows": rows}
    write_benchmark_figures(result, f"gol_speed_{a.device.split(':')[0]}", a.output)


if __name__ == "__main__":
    main()
