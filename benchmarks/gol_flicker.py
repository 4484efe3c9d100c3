"""Benchmark: where GoL's tLP comes from: group boundaries or inside groups, flicker or stillness.

tLP (:mod:`bench.metrics.temporal`) is 100 |LPIPS(g[t-1], g[t]) - LPIPS(b[t-1], b[t])| per frame pair,
g the source and b the reconstruction. It is high both when b changes more than g from frame to frame
(flicker) and when it changes less (a smooth or still reconstruction of a moving scene). This script
splits it, for the tokenizer alone (no coding) and for each ``--codings`` entry (mask:q:codec, coded
to a real GoL file in process and decoded):

* ``tlp``: the metric's mean; ``tlp_boundary`` over the pairs whose second frame starts a latent
  (t = 4, 8, ...: one latent's frames against the previous latent's), ``tlp_inside`` over the others
  (two frames the decoder made from the same latent);
* ``tlp_more`` + ``tlp_less`` = ``tlp``: the part of the pairs where the reconstruction changes more
  than the source (flicker) and where it changes less (stillness, smoothness);
  ``source_change``: the mean of 100 LPIPS(g[t-1], g[t]), for scale.

Figures go to ``reports/benchmarks/gol_flicker.json``.

    python benchmarks/gol_flicker.py [--sequence bigbuckbunny | --clip V] [--codings 1111:4:0,1000:4:0]
"""
from __future__ import annotations

import argparse

import numpy as np

from bench.gol.evaluate import add_clip_options, clip_and_model, frame_values, tokenizer_only
from bench.gol.tokenizer import TIME_STRIDE
from bench.paths import write_benchmark_figures

CODINGS = "1111:0:0,1111:4:0,1010:4:0,1000:4:0"


def per_frame(metric: str, ref: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """``metric``'s per-frame values between RGB frames ``ref`` and ``dist`` (T, H, W, 3)."""
    return np.asarray(frame_values(ref, dist, metric)[metric], dtype=np.float64)


def split(source: np.ndarray, source_change: np.ndarray, dec: np.ndarray) -> dict:
    """tLP of ``dec`` against ``source`` split by where the pair lies and by its sign (``source_change``:
    100 LPIPS(g[t-1], g[t]) per pair)."""
    tlp = per_frame("tlp", source, dec)[1:]  # frame 0 has none
    more = 100 * per_frame("lpips", dec[:-1], dec[1:]) - source_change  # tlp = |more|
    boundary = np.array([t % TIME_STRIDE == 0 for t in range(1, len(source))])
    return {"tlp": round(float(tlp.mean()), 2), "tlp_boundary": round(float(tlp[boundary].mean()), 2),
            "tlp_inside": round(float(tlp[~boundary].mean()), 2),
            "tlp_more": round(float(np.clip(more, 0, None).mean()), 2),
            "tlp_less": round(float(np.clip(-more, 0, None).mean()), 2), "tlp_pairs": tlp.round(2).tolist()}


def main() -> None:
    p = argparse.ArgumentParser()
    add_clip_options(p)
    p.add_argument("--codings", default=CODINGS, help="mask:q:codec entries, comma-separated")
    a = p.parse_args()
    clip, x, model = clip_and_model(a)
    t, h, w, _ = x.shape
    source_change = 100 * per_frame("lpips", x[:-1], x[1:])
    rows = [{"coding": "tokenizer alone", **split(x, source_change, tokenizer_only(model, x))}]
    print(rows[-1], flush=True)
    for entry in a.codings.split(","):
        mask, q, codec = entry.split(":")
        data = model.encode(x, mask, float(q), int(codec))
        rows.append({"coding": entry, "bpp": round(len(data) * 8 / (t * h * w), 5),
                     **split(x, source_change, model.decode(data))})
        print(rows[-1], flush=True)
    result = {"weights": str(a.weights), "model_id": model.model_id().hex(), "clip": str(clip), "frames": t,
              "size": f"{w}x{h}", "source_change": round(float(source_change.mean()), 2), "rows": rows}
    write_benchmark_figures(result, "gol_flicker", a.output)


if __name__ == "__main__":
    main()
