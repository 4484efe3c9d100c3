"""Benchmark: GoL's encode and decode time for 16 frames of 1280x720, its parameter count, and the
bitstream size at each mask's lowest and highest quality, and the encode time of the encoder's mode
decision (:mod:`bench.gol.mode_decision`) at three rungs, on the CPU or a GPU.

Source: the first 16 frames of the demo suite's ``bigbuckbunny`` (real 1280x720 footage). Times are
the model's own (tokenizer, I-latent coding with the rANS coder, P-latent generation, tokenizer
decoding), measured in-process after one warm-up, so they exclude process start-up and YUV I/O.
Decoding is checked to give the same frames twice. Figures go to
``reports/benchmarks/gol_speed_<device>.json``.

    python benchmarks/gol_speed.py [--device cpu|cuda] [--frames 16] [--threads N] [--weights gol.pt]
                                   [--clip PACKED.mp4]

``--clip`` takes a clip of a GoL training pack instead (decoded by OpenCV, scaled to 1280x720): a
GPU machine has no ffmpeg to prepare the demo suite, and the times do not depend on the content
much.
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

from bench.gol import SHIPPED_WEIGHTS
from bench.gol.evaluate import resize_area
from bench.gol.mode_decision import encode as encode_rd
from bench.gol.model import GoLModel
from bench.gol.pack import read_frames
from bench.paths import write_benchmark_figures


def demo_frames(n: int) -> np.ndarray:
    """The first ``n`` frames of the demo suite's bigbuckbunny, RGB in [0, 1]."""
    from bench.suites.sequences import SequenceOptions, prepare
    from bench.suites import get_suite
    from bench.video.yuv import RawYuvReader

    seq = next(s for s in get_suite("demo").sequences if s.name == "bigbuckbunny")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("BENCH_DATA_DIR", str(Path(tmp) / "datasets"))
        prepared = prepare(seq, SequenceOptions(frames=n, fps_step=1))
        return np.stack([f.rgb() for f in RawYuvReader(prepared.yuv, prepared.format).frames(0, n)])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--frames", type=int, default=16)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--weights", type=Path, default=SHIPPED_WEIGHTS)
    p.add_argument("--clip", type=Path, help="a packed clip instead of the demo's bigbuckbunny")
    p.add_argument("--output", type=Path)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.clip:
        frames = resize_area(read_frames(a.clip)[:a.frames].astype(np.float32) / 255, 1280, 720)
    else:
        frames = demo_frames(a.frames)
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
    rd = []  # the encoder's mode decision (choose = "rd", the gol codec's default) at three rungs
    for k in sorted({0, len(model.ladder) // 2, len(model.ladder) - 1}):
        mask, q, codec = model.ladder[k]
        sync(); t0 = time.perf_counter()
        best, tried = encode_rd(model, frames, k)
        sync(); t1 = time.perf_counter()
        rd.append({"rung": k, "rung_pair": [mask, q, codec], "chosen": [best.mask, best.q, best.codec], "bytes": len(best.data),
                   "pairs_decoded": len(tried), "encode_s": round(t1 - t0, 3)})
    result = {"device": a.device, "gpu": torch.cuda.get_device_name() if a.device.startswith("cuda") else None,
              "cpu": platform.processor() or platform.machine(), "torch_threads": torch.get_num_threads(),
              "frames": a.frames, "size": f"{frames.shape[2]}x{frames.shape[1]}", "weights": str(a.weights), "source": str(a.clip or "demo/bigbuckbunny"),
              "model_id": model.model_id().hex(),
              "parameters": {k: sum(p.numel() for p in getattr(model, k).parameters())
                             for k in ("tokenizer", "codec", "extra_codecs", "generator")},
              "rows": rows, "mode_decision": rd}
    write_benchmark_figures(result, f"gol_speed_{a.device.split(':')[0]}", a.output)


if __name__ == "__main__":
    main()
