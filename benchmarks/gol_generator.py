"""Benchmark: what GoL's P-latent generator costs, part by part, and at which sampling temperature.

On a clip's first ``--frames`` frames at the source rate (a demo sequence, bikes by default), the
I-latents of ``--mask`` go through the I-latent codec at quality ``--q`` (its forward pass: the same
rounding as real coding, no file), and the P-latents are, in turn: generated at each
``--temperatures`` value (the seed a file's header would give does not matter here: a fixed one),
the mean of the neighbouring I-latents, and the true latents (what a perfect generator would give).
Each is decoded to frames and scored by PSNR-RGB and ``--metrics`` (LPIPS-VGG and DISTS: neither is in
GoL's training loss). Figures go to ``reports/benchmarks/gol_generator.json``.

    python benchmarks/gol_generator.py [--sequence bigbuckbunny | --clip V] [--weights W] [--temperatures 1,0.25,0]
"""
from __future__ import annotations

import argparse

import torch

from bench.gol.evaluate import add_clip_options, clip_and_model, frame_metrics, mean_rgb_shift, psnr_rgb
from bench.gol.masks import i_positions
from bench.gol.model import GoLModel
from bench.gol.tokenizer import CLEAN, latent_states
from bench.paths import write_benchmark_figures

METRICS = ("lpips-vgg", "dists")
SEED = 1234


@torch.no_grad()
def generated(model: GoLModel, lat: torch.Tensor, coded: list[int], temperature: float) -> torch.Tensor:
    """``lat`` with its P-latents generated at ``temperature`` (the model's own buffer set aside)."""
    gen, saved = model.generator, model.generator.temperature
    gen.temperature = torch.tensor(float(temperature))
    try:
        out = lat.clone()
        model.generate(out, set(coded), SEED)
        return out
    finally:
        gen.temperature = saved


def main() -> None:
    p = argparse.ArgumentParser()
    add_clip_options(p)
    p.add_argument("--mask", default="1010")
    p.add_argument("--q", type=float, default=4.0)
    p.add_argument("--temperatures", default="1,0.5,0.25,0")
    p.add_argument("--metrics", default=",".join(METRICS), help="metrics beside PSNR-RGB ('' for PSNR only)")
    a = p.parse_args()
    clip, x, model = clip_and_model(a)
    t, h, w, _ = x.shape
    metrics = tuple(m for m in a.metrics.split(",") if m)
    with torch.no_grad():
        lat = model.latents_of(x)
        coded = i_positions(a.mask, len(lat))
        p_lat = [i for i in range(len(lat)) if i not in coded]
        known = lat.clone()
        known[coded] = model.codec(lat[coded], torch.full((len(coded),), a.q))[0]
        ways = {f"temperature {tau:g}": generated(model, known, coded, tau) for tau in map(float, a.temperatures.split(","))}
        mean = known.clone()
        for i in p_lat:
            after = next((j for j in coded if j > i), None)
            before = max(j for j in coded if j < i)
            mean[i] = known[before] if after is None else (known[before] + known[after]) / 2
        ways["mean of the neighbouring I-latents"] = mean
        ways["true P-latents"] = known
        rows = []
        made = model.latent_states(set(coded), a.q, len(lat))  # what a conditioned decoder is told
        true = made.clone()
        true[p_lat] = latent_states([CLEAN] * len(p_lat), device=true.device)
        for name, latents in ways.items():
            y = model.frames_of(latents, t, h, w, true if name == "true P-latents" else made)
            err = (latents[p_lat] - lat[p_lat]).pow(2).mean().sqrt().item() if p_lat else 0.0
            row = {"p_latents": name, "p_latent_rmse": round(err, 4), "psnr_rgb": psnr_rgb(x, y),
                   "mean_rgb_shift_levels": mean_rgb_shift(x, y),
                   **frame_metrics(x, y, metrics)}
            rows.append(row)
            print(row, flush=True)
    result = {"weights": str(a.weights), "model_id": model.model_id().hex(), "clip": str(clip), "frames": t,
              "size": f"{w}x{h}", "mask": a.mask, "q": a.q, "rows": rows}
    write_benchmark_figures(result, "gol_generator", a.output)


if __name__ == "__main__":
    main()
