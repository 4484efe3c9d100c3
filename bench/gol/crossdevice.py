"""Do a checkpoint's files decode the same on another machine? Written on one device, checked on another.

``write_check`` codes held-out frames at a few (mask, q) on the device that trained the weights (a
GPU, say) and keeps each file with the frames that device decoded from it. ``verify_check``, on
another device (the CPU), decodes each file again and encodes the frames again: the I-latents must
come out of the entropy decoder identical (its parameters are computed in float64 on the CPU on both
sides, so any mismatch derails the whole stream), and the frames must agree within ``FRAME_TOLERANCE``
(the networks' floating point differs between devices; the generator's noise does not).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from .evaluate import psnr_rgb

POINTS = (("1000", 0.0), ("1010", 2.5), ("1111", 5.0))
FRAME_TOLERANCE = 2 / 255  # largest mean absolute difference accepted between two devices' frames


@torch.no_grad()
def write_check(model, frames: np.ndarray, out: Path) -> list[dict]:
    """Files ``check_<mask>_q<q>.gol`` and the frames decoded here (``.npy``, uint8) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for mask, q in POINTS:
        q = min(q, model.codec.levels - 1)
        name = f"check_{mask}_q{q:g}"
        data = model.encode(frames, mask, q)
        (out / f"{name}.gol").write_bytes(data)
        rec = model.decode(data, name)
        np.save(out / f"{name}.npy", np.round(rec * 255).astype(np.uint8))
        rows.append({"file": f"{name}.gol", "mask": mask, "q": q, "bytes": len(data), "psnr_rgb": psnr_rgb(frames, rec),
                     "device": str(model.device)})
    (out / "check.json").write_text(json.dumps({"model_id": model.model_id().hex(), "points": rows}, indent=1))
    return rows


@torch.no_grad()
def verify_check(model, folder: Path, frames: np.ndarray | None = None) -> list[dict]:
    """Decode every file of ``write_check`` here and compare with the frames the other device made;
    with ``frames`` (the source), also encode again here and compare the bytes."""
    meta = json.loads((folder / "check.json").read_text())
    if meta["model_id"] != model.model_id().hex():
        raise ValueError(f"{folder}: written by weights {meta['model_id']}, these are {model.model_id().hex()}")
    rows = []
    for p in meta["points"]:
        data = (folder / p["file"]).read_bytes()
        here = np.round(model.decode(data, p["file"]) * 255).astype(np.uint8)
        there = np.load(folder / p["file"].replace(".gol", ".npy"))
        diff = np.abs(here.astype(np.int16) - there.astype(np.int16))
        row = {**p, "mean_abs_diff": float(diff.mean()) / 255, "max_abs_diff": int(diff.max()),
               "psnr_between_devices": psnr_rgb(here / 255.0, there / 255.0)}
        if frames is not None:
            again = model.encode(frames, p["mask"], p["q"])
            row["same_bytes_when_encoded_here"] = again == data
            row["bytes_here"] = len(again)
        row["ok"] = row["mean_abs_diff"] <= FRAME_TOLERANCE
        rows.append(row)
    return rows


def main(argv=None) -> int:
    """``python -m bench.gol.crossdevice --weights W --check-dir D [--config C]``: verify here what
    another device wrote; with the training config, the held-out frames are encoded again too.
    Exit status 1 when a file's frames are off by more than the tolerance, 2 for bad input."""
    import argparse
    import sys

    from ..errors import InputError

    p = argparse.ArgumentParser(prog="python -m bench.gol.crossdevice", description=main.__doc__.split("\n")[0])
    p.add_argument("--weights", type=Path, required=True)
    p.add_argument("--check-dir", type=Path, required=True)
    p.add_argument("--config", type=Path, help="the training config (its pack's held-out clip is encoded again)")
    p.add_argument("--threads", type=int, default=0)
    a = p.parse_args(argv)
    from .model import GoLModel

    try:
        if a.threads:
            torch.set_num_threads(a.threads)
        try:
            model = GoLModel.load(a.weights)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        frames = None
        if a.config:
            from .config import load_config, pack_folder
            from .pack import heldout_views, load_pack

            cfg = load_config(a.config)
            _, held, _ = load_pack(pack_folder(cfg))
            frames = heldout_views(cfg, held[cfg["data"]["heldout"]])[1]
        if not (a.check_dir / "check.json").is_file():
            raise InputError(f"{a.check_dir}: no check.json (written by bench.gol.train --check-dir)")
        try:
            rows = verify_check(model, a.check_dir, frames)
        except ValueError as exc:
            raise InputError(str(exc)) from None
    except InputError as exc:
        print(f"bench.gol.crossdevice: {exc}", file=sys.stderr)
        return 2
    for r in rows:
        print(json.dumps(r))
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
