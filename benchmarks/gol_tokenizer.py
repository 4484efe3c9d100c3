"""Benchmark: GoL's tokenizer alone (no coding) against trivial latents, on clips it never saw.

For each clip: its first ``--frames`` frames at the source rate, scaled (area) to cover 640x352 (or
``--size WxH``: the milestone's look at 1280x704) and centre-cropped to it; the tokenizer's
reconstruction (encode, decode, no entropy coding, no generated latents) against an 8x and a 16x
area-downscaled thumbnail upscaled with bicubic, by PSNR-RGB, LPIPS-VGG and DISTS (neither is in
GoL's training loss). The milestone of issue 20: the tokenizer at least 2 dB above the 8x thumbnail
on every held-out clip. Figures go to
``reports/benchmarks/gol_tokenizer.json``; with ``--frames-out DIR`` a PNG per clip puts source,
tokenizer and 8x thumbnail side by side (frame 8).

    python benchmarks/gol_tokenizer.py [--clips ../shared/clips/heldout] [--weights gol.pt] [--frames 16] [--metrics ''] [--size 1280x704]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from bench.errors import InputError
from bench.gol import SHIPPED_WEIGHTS
from bench.gol.evaluate import (
    HELDOUT_SIZE,
    first_frames,
    frame_metrics,
    psnr_rgb,
    thumbnail,
    tokenizer_only,
)
from bench.gol.model import GoLModel
from bench.paths import write_benchmark_figures
from bench.suites.sequences import parse_size

METRICS = ("lpips-vgg", "dists")


def _size(text: str) -> tuple[int, int]:
    try:
        return parse_size(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main() -> None:
    here = Path(__file__).resolve().parent.parent
    p = argparse.ArgumentParser()
    p.add_argument("--clips", type=Path, default=here.parent / "shared" / "clips" / "heldout")
    p.add_argument("--weights", type=Path, default=SHIPPED_WEIGHTS)
    p.add_argument("--frames", type=int, default=16)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--frames-out", type=Path, help="a folder for side-by-side PNGs")
    p.add_argument("--metrics", default=",".join(METRICS), help="metrics beside PSNR-RGB ('' for PSNR only: "
                   "LPIPS-VGG and DISTS take minutes a clip on one thread)")
    p.add_argument("--size", type=_size, default=HELDOUT_SIZE, help="WxH the clips are scaled to cover and cropped "
                   "to (default 640x352, the milestone's figures)")
    p.add_argument("--output", type=Path)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    model = GoLModel.load(a.weights)
    metrics = tuple(m for m in a.metrics.split(",") if m)
    rows = []
    for clip in sorted(c for c in a.clips.iterdir() if c.suffix.lower() in {".mp4", ".mkv", ".avi", ".mov"}):
        x = first_frames(clip, a.frames, a.size)
        rec, t8, t16 = tokenizer_only(model, x), thumbnail(x, 8), thumbnail(x, 16)
        row = {"clip": clip.name, "frames": len(x), "size": f"{a.size[0]}x{a.size[1]}"}
        for name, y in (("tokenizer", rec), ("thumb8", t8), ("thumb16", t16)):
            row[name] = {"psnr_rgb": psnr_rgb(x, y), **frame_metrics(x, y, metrics)}
        row["tokenizer_minus_thumb8_db"] = round(row["tokenizer"]["psnr_rgb"] - row["thumb8"]["psnr_rgb"], 3)
        rows.append(row)
        print(clip.name, row["tokenizer"], row["thumb8"], flush=True)
        if a.frames_out:
            from PIL import Image

            a.frames_out.mkdir(parents=True, exist_ok=True)
            k = min(8, len(x) - 1)
            strip = np.concatenate([x[k], rec[k], t8[k]], axis=1)
            Image.fromarray(np.round(strip * 255).astype(np.uint8)).save(a.frames_out / f"{clip.stem}_source_tokenizer_thumb8.png")
    result = {"weights": str(a.weights), "model_id": model.model_id().hex(), "clips": str(a.clips),
              "milestone_2db_above_thumb8": all(r["tokenizer_minus_thumb8_db"] >= 2 for r in rows), "rows": rows}
    write_benchmark_figures(result, "gol_tokenizer", a.output)


if __name__ == "__main__":
    main()
