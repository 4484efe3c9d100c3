"""The process the ``gol`` codec adapter runs for each encode and decode::

    python -m bench.gol.driver encode --weights W --input in.yuv --width W --height H --frames N \\
        --rung K [--choose rd] --bitstream out.gol
    python -m bench.gol.driver decode --weights W --bitstream out.gol --output dec.yuv

Decoding reads nothing but the bitstream file and the weights. Frames go through the harness's
BT.709 RGB conversion both ways; failures are one line on stderr and exit status 2.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from ..codecs.drivers.common import main as driver_main, rgb_frame, rgb_frames
from ..video.yuv import write_yuv
from .masks import rung_fields


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bench.gol.driver")
    p.add_argument("action", choices=["encode", "decode"])
    p.add_argument("--weights", type=Path, required=True)
    p.add_argument("--bitstream", type=Path, required=True)
    p.add_argument("--input", type=Path)
    p.add_argument("--output", type=Path)
    p.add_argument("--width", type=int, default=0)
    p.add_argument("--height", type=int, default=0)
    p.add_argument("--frames", type=int, default=0)
    p.add_argument("--bit-depth", type=int, default=8)
    p.add_argument("--rung", type=float, default=0, help="index into the checkpoint's rate ladder (with --choose "
                   "rd it may lie between two rungs)")
    p.add_argument("--choose", choices=["rung", "rd"], default="rung",
                   help="rung: code the rung's own mask, quality and codec; rd: spend the rung's bpp on the mask, "
                        "quality and codec whose latents come closest to the sequence's (bench.gol.mode_decision)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1)
    return p


def _model(a):
    import torch

    from .model import GoLModel

    torch.set_num_threads(a.threads)
    try:
        return GoLModel.load(a.weights, a.device)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None


def encode(a) -> dict:
    model = _model(a)
    if not 0 <= a.rung <= len(model.ladder) - 1:
        raise SystemExit(f"rung {a.rung:g} is outside the rate ladder of {a.weights} (0..{len(model.ladder) - 1})")
    if a.choose == "rung" and a.rung != int(a.rung):
        raise SystemExit(f"rung {a.rung:g}: between two rungs only with --choose rd")
    frames = np.stack(list(rgb_frames(a))).transpose(0, 2, 3, 1)
    t0 = time.perf_counter()
    report = {"rung": a.rung}
    if a.choose == "rd":
        from .mode_decision import encode as encode_rd

        best, tried = encode_rd(model, frames, a.rung)
        data, mask, q, codec = best.data, best.mask, best.q, best.codec
        report["tried"] = [c.summary() for c in tried]
    else:
        mask, q, codec = model.ladder[int(a.rung)]
        data = model.encode(frames, mask, q, codec)
    dt = time.perf_counter() - t0
    a.bitstream.write_bytes(data)
    return {**rung_fields(mask, q, codec), "bytes": len(data), "encode_s": dt, **report}


def decode(a) -> dict:
    model = _model(a)
    try:
        data = a.bitstream.read_bytes()
    except OSError as exc:
        raise SystemExit(f"{a.bitstream}: cannot read it ({exc.strerror})") from None
    t0 = time.perf_counter()
    try:
        rgb = model.decode(data, str(a.bitstream))
    except ValueError as exc:
        raise SystemExit(str(exc).splitlines()[0]) from None
    dt = time.perf_counter() - t0
    write_yuv(a.output, (rgb_frame(f.transpose(2, 0, 1), a.bit_depth) for f in rgb), a.bit_depth)
    return {"frames": len(rgb), "decode_s": dt}


if __name__ == "__main__":
    sys.exit(driver_main(_parser(), {"encode": encode, "decode": decode}))
