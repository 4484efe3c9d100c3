"""Rate-distortion curves from stored results, drawn with matplotlib (PNG and SVG).

One figure per (suite, sequence, metric output) and one per (suite, output) for the suite average:
PNG for the page, SVG and PDF to paste into a paper. bpp on a log axis against the metric, one line per codec, the axis labelled with the metric's
direction ("higher is better" / "lower is better"). Only rows with a number are drawn (``ok`` and
``unreachable`` rows, each at the bpp it really achieved; ``failed`` rows have none). Rows whose
bits were not counted from a file here (``bits_source`` ``published`` or ``estimated``) carry that
word in the legend.

Suite average: for each codec, the per-sequence values at each target bpp are averaged, together
with the achieved bpp, over the sequences where that target was reached (status ``ok``) — the
"average of per-sequence curves at matched targets" convention of the field's tables; a target
reached on only some sequences is left out so the average is always over the same sequences.
Imported published curves have no targets; their suite average is taken per rate point (QP) over
the sequences that have it.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..files import atomic_path
from ..metrics import all_outputs
from ..results.row import curve_label


def suite_average(df: pd.DataFrame, output: str) -> pd.DataFrame:
    """Rows (codec, bits_source, bpp, value) of the suite-average curve for ``output``."""
    out = []
    for (codec, src), g in df.groupby(["codec", "bits_source"], dropna=False):
        g = g[g[output].notna()]
        if g["target_bpp"].notna().any():
            g = g[g["status"] == "ok"]
            nseq = g["sequence"].nunique()
            for t, h in g.groupby("target_bpp"):
                if h["sequence"].nunique() == nseq and nseq:
                    out.append((codec, src, h["bpp"].mean(), h[output].mean()))
        else:
            nseq = g["sequence"].nunique()
            for k, h in g.groupby("knob"):
                if h["sequence"].nunique() == nseq and nseq:
                    out.append((codec, src, h["bpp"].mean(), h[output].mean()))
    return pd.DataFrame(out, columns=["codec", "bits_source", "bpp", "value"])


def draw(curves: pd.DataFrame, output: str, title: str, path_stem: Path) -> list[Path]:
    """One figure of ``curves`` (codec, bits_source, bpp, value); writes PNG, SVG and PDF (for a paper)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    meta = all_outputs().get(output)
    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=120)
    for (codec, src), g in curves.groupby(["codec", "bits_source"], dropna=False, sort=True):
        g = g.sort_values("bpp")
        ax.plot(g["bpp"], g["value"], marker="o", ms=4, lw=1.5, label=curve_label(codec, src))
    ax.set_xscale("log")
    ax.set_xlabel("bits per pixel")
    unit = f" [{meta.unit}]" if meta and meta.unit else ""
    better = f" ({meta.direction} is better)" if meta else ""
    ax.set_ylabel(f"{output}{unit}{better}")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    if len(curves):
        ax.legend(fontsize=8)
    fig.tight_layout()
    path_stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [path_stem.with_suffix(".png"), path_stem.with_suffix(".svg"), path_stem.with_suffix(".pdf")]
    for p in paths:
        with atomic_path(p, p.suffix) as tmp:  # a report being built beside this one never sees half a plot
            fig.savefig(tmp)
    plt.close(fig)
    return paths
