"""Rate-distortion curves from stored results, drawn with matplotlib (PNG and SVG).

One figure per (suite, sequence, metric output) and one per (suite, output) for the suite average:
PNG for the page, SVG and PDF to paste into a paper. bpp on a log axis against the metric, one line per codec, the axis labelled with the metric's
direction ("higher is better" / "lower is better"). Only rows with a number are drawn (``ok`` and
``unreachable`` rows, each at the bpp it really achieved; ``failed`` rows have none). Rows whose
bits were not counted from a file here (``bits_source`` ``published`` or ``estimated``) carry that
word in the legend.

Suite average: at each target bpp, the per-sequence values and achieved bpp are averaged over the
sequences where every codec that reached the target (status ``ok``) reached it
(:func:`matched_sequences`) — the "average of per-sequence curves at matched targets" convention of
the field's tables, with every codec over the same sequences; the figure's title says how many.
A codec that reached the target on no sequence has no point there.

A resolution ladder's hull (``x265 [ladder]``, :mod:`bench.report.hull`) is drawn like any codec,
dashed, each point below full scale or frame rate labelled with its rung (``×0.5``, ``×0.125 1/2 frames``).
Imported published curves have no targets; their suite average is taken per rate point (QP) over
the sequences that have it.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..files import atomic_path
from ..metrics import all_outputs
from ..results.row import curve_label
from .hull import TAG


def matched_sequences(df: pd.DataFrame, target: float) -> tuple[list[str], list[str], list[str]]:
    """(codecs that reached ``target`` on some sequence, the sequences where all of them reached it,
    codecs that reached it on none) among the run rows ``df`` of one suite."""
    at = df[df["target_bpp"] == target]
    ok = at[at["status"] == "ok"]
    codecs = sorted(ok["codec"].unique())
    absent = sorted(set(at["codec"]) - set(codecs))
    have = ok.groupby("sequence")["codec"].agg(set)
    seqs = sorted(s for s, cs in have.items() if set(codecs) <= cs)
    return codecs, seqs, absent


def matched_averages(df: pd.DataFrame, outputs: list[str]) -> pd.DataFrame:
    """Per target and codec of one suite's run rows ``df``: the achieved bpp and each of ``outputs``
    averaged over the sequences where every codec that met the target met it
    (:func:`matched_sequences`); ``sequences`` says how many."""
    rows = []
    runs = df[df["target_bpp"].notna()]
    for t in sorted(runs["target_bpp"].unique()):
        _, seqs, _ = matched_sequences(runs, t)
        h = runs[(runs["target_bpp"] == t) & (runs["status"] == "ok") & runs["sequence"].isin(seqs)]
        for codec, hc in h.groupby("codec", sort=True):
            rows.append({"target_bpp": t, "codec": codec, "sequences": len(seqs), "bpp": hc["bpp"].mean(),
                         **{o: hc[o].mean() for o in outputs if o in hc}})
    return pd.DataFrame(rows, columns=["target_bpp", "codec", "sequences", "bpp", *outputs])


def suite_average(df: pd.DataFrame, output: str) -> pd.DataFrame:
    """Rows (codec, bits_source, bpp, value, sequences) of the suite-average curve for ``output``."""
    out = []
    runs = df[df["target_bpp"].notna() & df[output].notna()]
    for t in sorted(runs["target_bpp"].unique()):
        _, seqs, _ = matched_sequences(runs, t)
        h = runs[(runs["target_bpp"] == t) & (runs["status"] == "ok") & runs["sequence"].isin(seqs)]
        for (codec, src), hc in h.groupby(["codec", "bits_source"], dropna=False):
            out.append((codec, src, hc["bpp"].mean(), hc[output].mean(), len(seqs)))
    for (codec, src), g in df[df["target_bpp"].isna() & df[output].notna()].groupby(["codec", "bits_source"],
                                                                                      dropna=False):
        nseq = g["sequence"].nunique()  # imported curves: per rate point over the sequences that have it
        for k, h in g.groupby("knob"):
            if h["sequence"].nunique() == nseq and nseq:
                out.append((codec, src, h["bpp"].mean(), h[output].mean(), nseq))
    return pd.DataFrame(out, columns=["codec", "bits_source", "bpp", "value", "sequences"])


def sequences_note(curves: pd.DataFrame) -> str:
    """How many sequences each suite-average point is over, for a figure's title."""
    if "sequences" not in curves or not len(curves):
        return ""
    counts = sorted({int(n) for n in curves["sequences"]})
    return f" (each point over {'/'.join(map(str, counts))} sequence{'s' if counts != [1] else ''} met by every codec)"


def draw(curves: pd.DataFrame, output: str, title: str, path_stem: Path) -> list[Path]:
    """One figure of ``curves`` (codec, bits_source, bpp, value); writes PNG, SVG and PDF (for a paper)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    meta = all_outputs().get(output)
    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=120)
    for (codec, src), g in curves.groupby(["codec", "bits_source"], dropna=False, sort=True):
        g = g.sort_values("bpp")
        ladder = str(codec).endswith(TAG)  # dashed, so that it shows where it follows the full-scale curve
        line, = ax.plot(g["bpp"], g["value"], marker="s" if ladder else "o", ms=4, lw=1.5, ls="--" if ladder else "-",
                        label=curve_label(codec, src))
        if "rung" in g:
            for b, v, r in zip(g["bpp"], g["value"], g["rung"]):
                if isinstance(r, str) and r:
                    ax.annotate(r, (b, v), textcoords="offset points", xytext=(3, 4), fontsize=6,
                                color=line.get_color())
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
