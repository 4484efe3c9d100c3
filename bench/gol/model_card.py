"""The model card of a GoL checkpoint: what it was trained on and how long, its last losses, and
its rate ladder and quality on a held-out clip (all measured, from real files' sizes)."""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch

from ..metrics.psnr import mse, psnr_from_mse
from .config import training_pixels
from .evaluate import frame_metrics
from .masks import default_ladder, ladder_entry, rung_fields


def _lpips(a: np.ndarray, b: np.ndarray) -> float:
    return next(iter(frame_metrics(a, b, ("lpips",)).values()))


def last_losses(losses: Path) -> dict:
    out: dict = {}
    if losses.is_file():
        for line in losses.read_text().splitlines():
            row = json.loads(line)
            if "step" in row:
                out[row["stage"]] = {k: v for k, v in row.items() if k not in ("time", "stage")}
    return out


@torch.no_grad()
def measure_card(model, frames: np.ndarray, small: np.ndarray, clip: str, train_clips: dict[str, int], cfg: dict,
                 steps: dict, losses: Path) -> dict:
    """The card's data. Every (mask, q, codec) is coded and decoded from its file on ``small`` (the
    held-out frames at the training scale, RGB (T, H, W, 3) in [0, 1]) for the rate ladder: bpp, PSNR,
    LPIPS. Each mask's lowest and highest q is also measured on ``frames`` (full size) with its times."""
    levels = model.codec.levels
    ladder, quality = [], []

    def code(x: np.ndarray, mask: str, q: float, codec: int) -> dict:
        t, h, w, _ = x.shape
        t0 = time.perf_counter()
        data = model.encode(x, mask, q, codec)
        t1 = time.perf_counter()
        rec = model.decode(data)
        return {**rung_fields(mask, q, codec), "bytes": len(data),
                "bpp": len(data) * 8 / (t * h * w),
                "psnr_rgb": round(float(psnr_from_mse(mse(x, rec), 1.0)), 3), "lpips": round(_lpips(x, rec), 4),
                "encode_s": round(t1 - t0, 2), "decode_s": round(time.perf_counter() - t1, 2)}

    for mask, q, codec in default_ladder(levels, model.num_codecs):  # every (mask, q, codec) a ladder may hold
        ladder.append(code(small, mask, q, codec))
        if q in (0, levels - 1):
            quality.append(code(frames, mask, q, codec))
    t, h, w, _ = frames.shape
    return {"data": {"clips": train_clips, "heldout": clip, "pixels": training_pixels(cfg),
                     "heldout_frames": t, "heldout_size": f"{w}x{h}", "ladder_size": f"{small.shape[2]}x{small.shape[1]}"},
            "steps": dict(steps), "losses": last_losses(losses), "ladder": ladder, "quality": quality,
            "parameters": {k: sum(p.numel() for p in getattr(model, k).parameters())
                           for k in ("tokenizer", "codec", "extra_codecs", "generator")},
            "config": {k: v for k, v in cfg.items() if not k.startswith("_")}, "trained_on": cfg["run"].get("hardware", ""),
            "made": time.strftime("%Y-%m-%d %H:%M:%S")}


def write_card(model, path: Path, checkpoint: Path) -> None:
    from ..hashing import sha256_of

    c = model.card
    params = c["parameters"]
    # with several I-latent codecs, a column says which coded each row (its y's scale: 4x, 2x)
    cc, cs = (" codec |", "---|") if model.num_codecs > 1 else ("", "")

    def codec_cell(e: dict) -> str:
        k = ladder_entry(e)[2]
        return f" {k} ({model.codec_at(k).down}x) |" if cc else ""
    lines = [f"# GoL model card: {c['config']['run']['name']}", "",
             "Our implementation of Group-of-Latents (arXiv 2607.19437; the authors released no code or weights), "
             "small enough to train on our budget. See `bench/gol/__init__.py` for the parts.", "",
             f"- checkpoint: `{checkpoint.name}`, {checkpoint.stat().st_size / 1e6:.1f} MB, SHA-256 `{sha256_of(checkpoint)}`, "
             f"model id `{model.model_id().hex()}`",
             f"- parameters: {sum(params.values()) / 1e6:.2f} M (tokenizer {params['tokenizer'] / 1e6:.2f} M, "
             f"I-latent codec {params['codec'] / 1e6:.2f} M, "
             + (f"extra I-latent codecs {params['extra_codecs'] / 1e6:.2f} M (y {', '.join(f'{c.down}x' for c in model.extra_codecs)} "
                f"smaller than the latent; codec 0's is {model.codec.down}x), " if params.get("extra_codecs") else "")
             + f"P-latent generator {params['generator'] / 1e6:.2f} M)",
             "- training data: " + ", ".join(f"`{n}` ({k} frames)" for n, k in c["data"]["clips"].items()) +
             f", scaled to about {c['data']['pixels']} pixels a frame (the pack, `bench.gol.pack`), random crops, "
             f"flips, temporal strides {c['config']['data'].get('strides')}; `{c['data']['heldout']}` held out; "
             "never the evaluation suites nor the held-out folder",
             "- training steps: " + ", ".join(f"{k} {v}" for k, v in c["steps"].items())
             + "".join(f", codec {i} {s}" for i, s in enumerate(c.get("combined_from", {}).get("codec_steps", []), 1)),
             *([f"- I-latent codecs joined by `bench.gol.combine`: 0 ({model.codec.down}x) from model "
                f"`{c['combined_from']['base']}`, " + ", ".join(
                    f"{i} ({model.codec_at(i).down}x) from model `{m}`"
                    for i, m in enumerate(c["combined_from"]["codecs"], 1))] if c.get("combined_from") else []),
             *([f"- training data source and terms: {c['config']['data']['source']}"] if c["config"]["data"].get("source") else []),
             *([f"- history: {c['config']['run']['history']}"] if c["config"]["run"].get("history") else []),
             *([f"- trained on: {c['trained_on']}"] if c.get("trained_on") else []),
             f"- made: {c['made']}", ""]
    if c.get("tokenizer_psnr"):
        t = c["tokenizer_psnr"]
        lines += ["## The tokenizer alone (no coding) on the held-out clip", "",
                  f"PSNR-RGB {t['tokenizer']} dB; an area-downscaled thumbnail upscaled with bicubic: {t['thumb8']} dB "
                  f"at 8x, {t['thumb16']} dB at 16x (`bench.gol.evaluate`).", ""]
    lines += ["## Last logged losses", ""]
    for stage, row in c["losses"].items():
        lines.append(f"- {stage}: " + ", ".join(f"{k} {v}" for k, v in row.items()))
    lines += ["", f"## Held-out clip `{c['data']['heldout']}`, first {c['data']['heldout_frames']} frames at "
              f"{c['data']['heldout_size']} (bits = file size)", "",
              f"| mask | q |{cc} bpp | PSNR-RGB (dB) | LPIPS-Alex | encode (s) | decode (s) |",
              f"|---|---|{cs}---|---|---|---|---|"]
    for e in sorted(c["quality"], key=lambda e: e["bpp"]):
        lines.append(f"| {e['mask']} | {e['q']} |{codec_cell(e)} {e['bpp']:.5f} | {e['psnr_rgb']} | {e['lpips']} | "
                     f"{e['encode_s']} | {e['decode_s']} |")
    m = {ladder_entry(e): e for e in c["ladder"]}
    lines += ["", f"## Rate ladder: the `gol` codec's knob, rung 0 up ({c['data']['ladder_size']}, the training scale)", "",
              f"{len(model.ladder)} of {len(m)} measured (mask, q{', codec' if cc else ''}) entries: sorted by bpp, each "
              "better than every cheaper one in PSNR or in LPIPS.", "",
              f"| rung | mask | q |{cc} bpp | PSNR-RGB (dB) | LPIPS-Alex |", f"|---|---|---|{cs}---|---|---|"]
    lines += [f"| {i} | {k[0]} | {k[1]} |{codec_cell(m[k])} {m[k]['bpp']:.5f} | {m[k]['psnr_rgb']} | {m[k]['lpips']} |"
              for i, k in enumerate(model.ladder)]
    lines.append("")
    path.write_text("\n".join(lines))
