"""The model card of a GoL checkpoint: what it was trained on and how long, its last losses, and
its rate ladder and quality on a held-out clip (all measured, from real files' sizes)."""
from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import torch

from .masks import MASKS


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return 10 * math.log10(1 / max(mse, 1e-12))


def _lpips(a: np.ndarray, b: np.ndarray) -> float:
    from ..metrics import create_metric
    from ..metrics.base import FrameBatch

    m = create_metric("lpips", device="cpu")
    m.update_batch(FrameBatch.from_rgb(torch.from_numpy(a).permute(0, 3, 1, 2), torch.from_numpy(b).permute(0, 3, 1, 2)))
    return float(next(iter(m.result().summary.values())))


def last_losses(losses: Path) -> dict:
    out: dict = {}
    if losses.is_file():
        for line in losses.read_text().splitlines():
            row = json.loads(line)
            if "step" in row:
                out[row["stage"]] = {k: v for k, v in row.items() if k not in ("time", "stage")}
    return out


@torch.no_grad()
def measure_card(model, frames: np.ndarray, clip: str, train_clips: dict[str, int], cfg: dict, steps: dict,
                 losses: Path) -> dict:
    """The card's data: bpp of every (mask, q) on the held-out ``frames`` (RGB (T, H, W, 3) in [0, 1]),
    and PSNR / LPIPS with encode and decode times at each mask's lowest and highest q."""
    t, h, w, _ = frames.shape
    levels = model.codec.levels
    ladder, quality = [], []
    for mask in MASKS:
        for q in [i / 2 for i in range(2 * levels - 1)]:
            t0 = time.perf_counter()
            data = model.encode(frames, mask, q)
            enc = time.perf_counter() - t0
            entry = {"mask": mask, "q": q, "bytes": len(data), "bpp": len(data) * 8 / (t * h * w)}
            ladder.append(entry)
            if q in (0, levels - 1):
                t0 = time.perf_counter()
                rec = model.decode(data)
                entry.update(psnr_rgb=round(_psnr(frames, rec), 3), lpips=round(_lpips(frames, rec), 4),
                             encode_s=round(enc, 2), decode_s=round(time.perf_counter() - t0, 2))
                quality.append(entry)
    return {"data": {"clips": train_clips, "heldout": clip, "scale": cfg["data"].get("scale", 0.5),
                     "heldout_frames": t, "heldout_size": f"{w}x{h}"},
            "steps": dict(steps), "losses": last_losses(losses), "ladder": ladder,
            "parameters": {k: sum(p.numel() for p in getattr(model, k).parameters())
                           for k in ("tokenizer", "codec", "generator")},
            "config": {k: v for k, v in cfg.items() if not k.startswith("_")},
            "made": time.strftime("%Y-%m-%d %H:%M:%S")}


def write_card(model, path: Path, checkpoint: Path) -> None:
    from ..metrics.weights import sha256_of

    c = model.card
    params = c["parameters"]
    lines = [f"# GoL model card: {c['config']['run']['name']}", "",
             "Our implementation of Group-of-Latents (arXiv 2607.19437; the authors released no code or weights), "
             "small enough to train on our budget. See `bench/gol/__init__.py` for the parts.", "",
             f"- checkpoint: `{checkpoint.name}`, {checkpoint.stat().st_size / 1e6:.1f} MB, SHA-256 `{sha256_of(checkpoint)}`, "
             f"model id `{model.model_id().hex()}`",
             f"- parameters: {sum(params.values()) / 1e6:.2f} M (tokenizer {params['tokenizer'] / 1e6:.2f} M, "
             f"I-latent codec {params['codec'] / 1e6:.2f} M, P-latent generator {params['generator'] / 1e6:.2f} M)",
             "- training data: " + ", ".join(f"`{n}` ({k} frames)" for n, k in c["data"]["clips"].items()) +
             f", decoded at scale {c['data']['scale']}, random crops, flips, temporal strides; `{c['data']['heldout']}` "
             "held out; never the evaluation suites",
             "- training steps: " + ", ".join(f"{k} {v}" for k, v in c["steps"].items()),
             *([f"- training data source and terms: {c['config']['data']['source']}"] if c["config"]["data"].get("source") else []),
             f"- made: {c['made']}", "", "## Last logged losses", ""]
    for stage, row in c["losses"].items():
        lines.append(f"- {stage}: " + ", ".join(f"{k} {v}" for k, v in row.items()))
    lines += ["", f"## Held-out clip `{c['data']['heldout']}`, first {c['data']['heldout_frames']} frames at "
              f"{c['data']['heldout_size']} (bits = file size)", "",
              "| mask | q | bpp | PSNR-RGB (dB) | LPIPS-Alex | encode (s) | decode (s) |", "|---|---|---|---|---|---|---|"]
    for e in sorted(c["ladder"], key=lambda e: e["bpp"]):
        if "psnr_rgb" in e:
            lines.append(f"| {e['mask']} | {e['q']} | {e['bpp']:.5f} | {e['psnr_rgb']} | {e['lpips']} | "
                         f"{e['encode_s']} | {e['decode_s']} |")
    bpp = {(e["mask"], e["q"]): e["bpp"] for e in c["ladder"]}
    lines += ["", f"Rate ladder ({len(model.ladder)} of {len(bpp)} measured pairs; the `gol` codec's knob indexes it, "
              "in this order): " + ", ".join(f"{m}/q{q}: {bpp[(m, q)]:.5f}" for m, q in model.ladder), ""]
    path.write_text("\n".join(lines))
