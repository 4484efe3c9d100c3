"""Benchmark: what a *linear* tokenizer reaches on the held-out clips, beside the 8x thumbnail.

Issue 20's milestone asks the tokenizer alone for PSNR-RGB at least 2 dB above an 8x area-downscaled
thumbnail upscaled with bicubic. A linear tokenizer bounds what that takes from below: the encoder
is one strided convolution over ``T`` frames stacked as channels (kernel 16, stride 8, the input
replicate-padded by 4 pixels: a lapped transform), the decoder its transposed convolution, both
trained for MSE on the training pack's frames (``[data] pack`` of the GoL config, read with
:func:`bench.gol.pack.read_frames`; never the held-out clips, the demo suite, UVG or MCL-JCV). Each
configuration (``T`` frames per latent, ``C`` channels) starts from the closed-form block PCA of
``T`` x 8 x 8 x RGB blocks (measured too: kernel 8, no overlap) and is refined with Adam for
``--minutes``. Evaluation is exactly :mod:`benchmarks.gol_tokenizer`'s: the first 16 frames of each
held-out clip at the source rate, scaled to cover 640x352 and centre-cropped, PSNR-RGB against the
same frames, and the 8x thumbnail beside it. A latent of ``C`` channels per ``T`` x 8 x 8 pixels
holds ``C / (3 T)`` times the values of the per-frame 8x thumbnail.

    python benchmarks/gol_tokenizer_bounds.py --threads 1 [--configs 4x16,4x24,4x32,2x8,2x16,1x4]
        [--minutes 2.5] [--save-dir codecs/gol/runs/bounds]

Figures go to ``reports/benchmarks/gol_tokenizer_bounds.json``; with ``--save-dir`` each trained
linear tokenizer is kept as ``lin_t<T>_c<C>.pt`` (state dict of :class:`LappedLinear`), which
``[model] linear_init`` of a GoL config can start the tokenizer's linear path from.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from bench.gol.evaluate import HELDOUT_SIZE, first_frames, psnr_rgb, thumbnail  # the tokenizer benchmark's frames
from bench.gol.lapped import LappedLinear, block_pca, clip_windows, pca_init
from bench.gol.lapped import frame_groups as groups
from bench.gol.pack import MANIFEST, read_frames
from bench.paths import write_benchmark_figures

BLOCK = 8


def training_frames(pack: Path, windows: int, length: int) -> list[np.ndarray]:
    """Up to ``windows`` windows of ``length`` consecutive frames (evenly spread) of every training clip
    of the pack at least that long, uint8 RGB (length, H, W, 3) each; held-out entries are skipped."""
    manifest = json.loads((pack / MANIFEST).read_text())
    out = []
    for e in manifest["clips"]:
        if e["heldout"]:
            continue
        clip = read_frames(pack / e["file"])
        if len(clip) >= length:
            out += clip_windows(clip, windows, length)
    return out


@torch.no_grad()
def reconstruct(model: LappedLinear, frames: np.ndarray, t: int) -> np.ndarray:
    """RGB frames (N, H, W, 3) in [0, 1] through the linear tokenizer, clamped as the tokenizer is."""
    x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2) * 2 - 1
    n, _, h, w = x.shape
    y = model.decode(model.encode(x.reshape(n // t, 3 * t, h, w))).reshape(n, 3, h, w)
    return ((y.clamp(-1, 1) + 1) / 2).permute(0, 2, 3, 1).numpy()


def train(model: LappedLinear, wins: list[np.ndarray], t: int, minutes: float, rng, crop: int = 128,
          batch: int = 8, lr: float = 3e-4) -> dict:
    """Adam on MSE over random crops of random groups of t frames, lr cosine-decayed over the minutes."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    t0, steps, losses = time.time(), 0, []
    end = t0 + 60 * minutes
    while time.time() < end:
        frac = (time.time() - t0) / (60 * minutes)
        for g in opt.param_groups:
            g["lr"] = lr * 0.5 * (1 + np.cos(np.pi * min(frac, 1.0)))
        xs = []
        for _ in range(batch):
            w = wins[rng.integers(len(wins))]
            s = rng.integers(0, len(w) - t + 1)
            y0, x0 = rng.integers(0, w.shape[1] - crop + 1), rng.integers(0, w.shape[2] - crop + 1)
            xs.append(groups(w[s:s + t, y0:y0 + crop, x0:x0 + crop], t)[0])
        x = torch.stack(xs)
        loss = F.mse_loss(model.decode(model.encode(x)), x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        steps += 1
        losses.append(loss.item())
    tail = float(np.mean(losses[-200:])) if losses else float("nan")
    return {"steps": steps, "final_mse_pm1": round(tail, 6)}


def main() -> None:
    here = Path(__file__).resolve().parent.parent
    p = argparse.ArgumentParser()
    p.add_argument("--clips", type=Path, default=here.parent / "shared" / "clips" / "heldout")
    p.add_argument("--pack", type=Path, default=here / "codecs" / "gol" / "pack")
    p.add_argument("--configs", default="4x16,4x24,4x32,2x8,2x16,1x4", help="TxC,...: frames per latent x channels")
    p.add_argument("--minutes", type=float, default=2.5, help="Adam minutes per configuration (0: PCA only)")
    p.add_argument("--windows", type=int, default=6, help="training windows per clip")
    p.add_argument("--window-frames", type=int, default=16)
    p.add_argument("--frames", type=int, default=16)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save-dir", type=Path, help="keep each trained linear tokenizer here")
    p.add_argument("--output", type=Path)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    configs = [tuple(int(v) for v in c.split("x")) for c in a.configs.split(",")]
    t0 = time.time()
    wins = training_frames(a.pack, a.windows, a.window_frames)
    print(f"{len(wins)} training windows of {a.window_frames} frames in {time.time() - t0:.0f} s", flush=True)
    clips = sorted(c for c in a.clips.iterdir() if c.suffix.lower() in {".mp4", ".mkv", ".avi", ".mov"})
    held = {c.name: first_frames(c, a.frames, HELDOUT_SIZE) for c in clips}
    thumb8 = {name: psnr_rgb(x, thumbnail(x, 8)) for name, x in held.items()}
    rows = []
    for t, c in configs:
        t1 = time.time()
        mean, u = block_pca((groups(w, t) for w in wins), c, BLOCK, seed=a.seed)
        model = LappedLinear(t, c)
        pca_init(model, mean, u)
        block = LappedLinear(t, c, kernel=BLOCK)  # the same PCA as a plain block transform
        with torch.no_grad():
            block.enc.weight.copy_(model.enc.weight[:, :, 4:12, 4:12])
            block.enc.bias.copy_(model.enc.bias)
            block.dec.weight.copy_(model.dec.weight[:, :, 4:12, 4:12])
            block.dec.bias.copy_(model.dec.bias)
        pca = {name: psnr_rgb(x, reconstruct(block, x, t)) for name, x in held.items()}
        fit = train(model, wins, t, a.minutes, rng) if a.minutes > 0 else {"steps": 0}
        lapped = {name: psnr_rgb(x, reconstruct(model, x, t)) for name, x in held.items()}
        row = {"frames_per_latent": t, "channels": c, "values_vs_thumb8": round(c / (3 * t), 3),
               "block_pca": {n: {"psnr_rgb": v, "minus_thumb8_db": round(v - thumb8[n], 3)} for n, v in pca.items()},
               "lapped": {n: {"psnr_rgb": v, "minus_thumb8_db": round(v - thumb8[n], 3)} for n, v in lapped.items()},
               "adam": fit, "seconds": round(time.time() - t1, 1)}
        row["lapped_min_minus_thumb8_db"] = min(r["minus_thumb8_db"] for r in row["lapped"].values())
        rows.append(row)
        print(f"T={t} C={c}: block PCA " + " ".join(f"{v['minus_thumb8_db']:+.2f}" for v in row["block_pca"].values())
              + " | lapped " + " ".join(f"{v['minus_thumb8_db']:+.2f}" for v in row["lapped"].values())
              + f" dB vs thumb8 ({fit}, {row['seconds']} s)", flush=True)
        if a.save_dir:
            a.save_dir.mkdir(parents=True, exist_ok=True)
            torch.save(model.state_dict(), a.save_dir / f"lin_t{t}_c{c}.pt")
    result = {"clips": str(a.clips), "pack": str(a.pack), "training_windows": len(wins),
              "window_frames": a.window_frames, "adam_minutes": a.minutes, "thumb8_psnr_rgb": thumb8, "rows": rows}
    write_benchmark_figures(result, "gol_tokenizer_bounds", a.output)


if __name__ == "__main__":
    main()
