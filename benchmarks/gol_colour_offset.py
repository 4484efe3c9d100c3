"""Benchmark: what a colour offset sent beside a GoL file could buy (an oracle; GoL sends none).

GoL's reconstructions drift in colour at low rates (e.g. bigbuckbunny: green about 5 levels low,
blue 5 high). A codec could measure that drift at the encoder (it can decode its own file exactly)
and send offsets for the decoder to add. This script measures the upper bound of that idea: the file
the encoder's mode decision chooses within ``--bpp`` (:func:`bench.gol.mode_decision.choose`) is
decoded, and the source-minus-decoded mean is added back, rounded to whole 8-bit levels:

* ``global``: one offset per RGB channel (3 bytes a file);
* ``per_latent``: one per channel for each latent's four frames (3 bytes per latent);
* ``grid2``, ``grid4``: per channel on a 2x2 or 4x4 grid over the frame (12 or 48 bytes), bilinearly
  interpolated between cell centres, the same for every frame.

Each row gives PSNR-RGB, ``--metrics`` and the bpp the offsets would add at one byte each (not coded:
an oracle of what the frames gain, not a codec). Figures go to ``reports/benchmarks/gol_colour_offset.json``.

    python benchmarks/gol_colour_offset.py [--sequence bigbuckbunny | --clip V] [--bpp 0.003]
"""
from __future__ import annotations

import argparse

import numpy as np
import torch
import torch.nn.functional as F

from bench.gol.bitstream import Header
from bench.gol.evaluate import add_clip_options, clip_and_model, frame_metrics, mean_rgb_shift, psnr_rgb
from bench.gol.mode_decision import choose
from bench.gol.tokenizer import TIME_STRIDE
from bench.paths import write_benchmark_figures

METRICS = ("lpips", "lpips-vgg", "dists")


def levels(x: np.ndarray) -> np.ndarray:
    """``x`` (in [0, 1] units) rounded to whole 8-bit levels."""
    return np.round(x * 255) / 255


def grid_offset(diff: np.ndarray, n: int) -> np.ndarray:
    """The mean of ``diff`` (T, H, W, 3) over time on an n x n grid, in whole levels, interpolated
    bilinearly back to (H, W, 3)."""
    h, w = diff.shape[1:3]
    cells = F.adaptive_avg_pool2d(torch.from_numpy(diff.mean(0)).permute(2, 0, 1)[None], (n, n))
    cells = torch.from_numpy(levels(cells.numpy()))
    return F.interpolate(cells, size=(h, w), mode="bilinear", align_corners=False)[0].permute(1, 2, 0).numpy()


def main() -> None:
    p = argparse.ArgumentParser()
    add_clip_options(p, "bigbuckbunny")
    p.add_argument("--bpp", type=float, default=0.003, help="the budget the encoder's mode decision spends")
    p.add_argument("--metrics", default=",".join(METRICS), help="metrics beside PSNR-RGB ('' for PSNR only)")
    a = p.parse_args()
    clip, x, model = clip_and_model(a)
    t, h, w, _ = x.shape
    pixels = t * h * w
    with torch.no_grad():
        best, _ = choose(model, model.latents_of(x), Header(model.model_id(), w, h, t, *model.ladder[0]),
                         round(a.bpp * pixels / 8))
        dec = model.decode(best.data)
    diff = x.astype(np.float64) - dec  # float64: a float32 mean over every pixel drifts
    groups = range(0, t, TIME_STRIDE)
    per_latent = np.concatenate([np.broadcast_to(levels(diff[i:i + TIME_STRIDE].mean((0, 1, 2))), diff[i:i + TIME_STRIDE].shape)
                                 for i in groups])
    ways = {"none": (dec, 0), "global": (dec + levels(diff.mean((0, 1, 2))), 3),
            "per_latent": (dec + per_latent, 3 * len(groups)),
            "grid2": (dec + grid_offset(diff, 2), 12), "grid4": (dec + grid_offset(diff, 4), 48)}
    metrics = tuple(m for m in a.metrics.split(",") if m)
    rows = []
    for name, (y, extra) in ways.items():
        y = np.clip(y, 0, 1)
        rows.append({"offset": name, "extra_bytes": extra, "extra_bpp": round(extra * 8 / pixels, 6),
                     "psnr_rgb": psnr_rgb(x, y),
                     "mean_rgb_shift_levels": mean_rgb_shift(x, y),
                     **frame_metrics(x, y, metrics)})
        print(rows[-1], flush=True)
    result = {"weights": str(a.weights), "model_id": model.model_id().hex(), "clip": str(clip), "frames": t,
              "size": f"{w}x{h}", "bpp_budget": a.bpp, "file": {**best.summary(), "bpp": round(len(best.data) * 8 / pixels, 5)},
              "rows": rows}
    write_benchmark_figures(result, "gol_colour_offset", a.output)


if __name__ == "__main__":
    main()
