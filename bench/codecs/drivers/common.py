"""What the learned-codec drivers (``python -m bench.codecs.drivers.<x>``) share: the command line,
frames in and out, checkpoint loading with a one-line error, and turning any failure into one line on
stderr and exit status 2. A driver imports the user's checkout (``sys.path``) and nothing of bench but
this module and :mod:`bench.video`."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ...video import Frame, VideoFormat
from ...video.yuv import RawYuvReader


def parser(prog: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog)
    p.add_argument("action", choices=["encode", "decode"])
    p.add_argument("--checkout", type=Path, required=True)
    p.add_argument("--model-i", type=Path, required=True)
    p.add_argument("--model-p", type=Path, required=True)
    p.add_argument("--bitstream", type=Path, required=True)
    p.add_argument("--input", type=Path)
    p.add_argument("--output", type=Path)
    p.add_argument("--width", type=int, required=True)
    p.add_argument("--height", type=int, required=True)
    p.add_argument("--frames", type=int, required=True)
    p.add_argument("--bit-depth", type=int, default=8)
    p.add_argument("--q-index", type=int, default=0)
    p.add_argument("--intra-period", type=int, default=-1)
    p.add_argument("--device", default="cpu")
    p.add_argument("--precision", choices=["fp32", "fp16"], default="fp32")
    p.add_argument("--threads", type=int, default=1)
    return p


def use_checkout(a) -> None:
    """Make the checkout importable (``from src.models import ...``) and the run reproducible."""
    import torch

    sys.path.insert(0, str(a.checkout))
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    if not str(a.device).startswith("cuda"):
        # the authors' models time themselves with torch.cuda.synchronize(), which fails on a
        # machine without CUDA; on CPU there is nothing to synchronise
        torch.cuda.synchronize = lambda *args, **kwargs: None


def load_weights(net, state: dict, path: Path, strict: bool = True):
    """``net.load_state_dict(state)``; a checkpoint that does not fit the class is one line."""
    try:
        result = net.load_state_dict(state, strict=strict)
    except (RuntimeError, KeyError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise SystemExit(f"checkpoint {path} does not fit {type(net).__name__}: {first[:300]}") from None
    missing = getattr(result, "missing_keys", None)
    if not strict and missing:
        raise SystemExit(f"checkpoint {path} does not fit {type(net).__name__}: {len(missing)} weights missing, "
                         f"e.g. {missing[0]}")
    return net


INDEX_MAP = (0, 1, 0, 2, 0, 2, 0, 2)  # the authors' feature-adaptation index per position in a rate GOP of 8


def is_intra(idx: int, intra_period: int) -> bool:
    """The first frame, and every ``intra_period``-th when it is positive (−1: only the first)."""
    return idx == 0 or (intra_period > 0 and idx % intra_period == 0)


def source_frames(a) -> Iterator[Frame]:
    reader = RawYuvReader(a.input, VideoFormat(a.width, a.height, a.bit_depth))
    if len(reader) < a.frames:
        raise SystemExit(f"{a.input}: {len(reader)} frames, expected {a.frames}")
    return reader.frames(0, a.frames)


def yuv_planes(a) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The input's frames as (y of shape (1, H, W), uv of shape (2, H/2, W/2)), float32 in [0, 1]."""
    peak = float((1 << a.bit_depth) - 1)
    for fr in source_frames(a):
        yield fr.y[None].astype(np.float32) / peak, np.stack([fr.u, fr.v]).astype(np.float32) / peak


def rgb_frames(a) -> Iterator[np.ndarray]:
    """The input's frames as BT.709 RGB, float32 (3, H, W) in [0, 1] (the harness's conversion)."""
    for fr in source_frames(a):
        yield np.ascontiguousarray(fr.rgb().transpose(2, 0, 1))


def yuv_frame(y: np.ndarray, uv: np.ndarray, bit_depth: int) -> Frame:
    """A frame from planes in [0, 1] (as ``yuv_planes`` gives them)."""
    peak = float((1 << bit_depth) - 1)
    dt = np.uint8 if bit_depth == 8 else np.uint16

    def q(p):
        return np.clip(np.round(p * peak), 0, peak).astype(dt)

    return Frame(q(y[0]), q(uv[0]), q(uv[1]), bit_depth)


def rgb_frame(rgb: np.ndarray, bit_depth: int) -> Frame:
    """A frame from BT.709 RGB (3, H, W) in [0, 1] (the harness's conversion)."""
    from ...video.color import rgb_to_yuv420

    return Frame(*rgb_to_yuv420(np.clip(rgb, 0, 1).transpose(1, 2, 0), bit_depth), bit_depth=bit_depth)


def main(p: argparse.ArgumentParser, actions: dict[str, Callable], argv=None) -> int:
    a = p.parse_args(argv)
    try:
        result = actions[a.action](a)
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(f"{p.prog}: {exc.code}", file=sys.stderr)
            return 2
        raise
    print(json.dumps(result))
    return 0
