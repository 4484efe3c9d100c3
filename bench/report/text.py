"""A first report: the stored rate points per codec and sequence, and a suite average, as text.
(The HTML report with RD curves, BD-rates and GIF tables builds on the same table.)

The suite average at a target is over the sequences where every codec of the comparison met that
target (status ``ok``; :func:`~.rd_curves.matched_sequences`), and says how many they are: a codec
is never averaged over a smaller set of sequences than the others. Tables are formatted here (no
pandas repr reaches the user); a codec that reached a target on no sequence is named as such.
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from ..metrics import all_outputs, metric_class, metric_names
from ..results.store import Store
from ..results.tables import load_frame, name_estimated
from .hull import DEFAULT_METRIC, with_ladders
from .targets import DEFAULT_TOLERANCE, mark_off_target
from .rd_curves import matched_averages, matched_sequences


def text_report(store_path: str | Path, suite: str | None = None, ladder_metric: str = DEFAULT_METRIC,
                match_tolerance: float = DEFAULT_TOLERANCE) -> str:
    df = name_estimated(load_frame(store_path))
    if suite and len(df):
        df = df[df["suite"] == suite]
    if not len(df):
        return "(no results stored)"
    df = with_ladders(mark_off_target(df, match_tolerance), ladder_metric)
    outputs = [o for o in all_outputs() if o in df.columns and df[o].notna().any()]
    lines = []
    for (su, seq), g in df.sort_values(["codec", "target_bpp"]).groupby(["suite", "sequence"], sort=True):
        w, h, n = (g[c].dropna() for c in ("width", "height", "frames"))
        size = f"{int(w.iloc[0])}x{int(h.iloc[0])}" if len(w) and len(h) else "size not published"
        lines.append(f"== {su}/{seq} ({size}, {f'{int(n.iloc[0])} frames' if len(n) else 'frames not published'})")
        cols = ["codec", "target_bpp", "status", "knob", "rung", "bpp", "miss"] + outputs
        t = g[[c for c in cols if c in g]].copy()
        t["miss"] = t["miss"].map(lambda v: "" if _missing(v) else f"{v * 100:.1f}%")
        lines += format_table(t)
        for _, r in g[g["status"] == "failed"].iterrows():
            lines.append(f"   failed: {r['codec']} at {r['target_bpp']:g} bpp: {r['error']}")
        lines.append("")
    for su, g in df[df["target_bpp"].notna()].groupby("suite", sort=True):
        lines += suite_average_lines(su, g, outputs)
    lines += missing_metric_notes(store_path, suite)
    return "\n".join(lines)


def suite_average_lines(suite: str, g: pd.DataFrame, outputs: list[str]) -> list[str]:
    nseq = g["sequence"].nunique()
    lines = [(f"== {suite}: suite average at each target, over the sequences where every codec that met the "
              f"target met it (of {nseq})")]
    notes = []
    for t in sorted(g["target_bpp"].unique()):
        codecs, seqs, absent = matched_sequences(g, t)
        if absent:
            notes.append(f"   {t:g} bpp: target not reached on any sequence by {', '.join(absent)}")
        if codecs and not seqs:
            notes.append(f"   {t:g} bpp: no sequence where {', '.join(codecs)} all met it")
    avg = matched_averages(g, [o for o in outputs if o in g])
    if len(avg):
        avg["sequences"] = avg["sequences"].map(lambda n: f"{n} of {nseq}")
        lines += format_table(avg[["target_bpp", "sequences", "codec", *avg.columns[3:]]])
    return lines + notes + [""]


def format_table(t: pd.DataFrame) -> list[str]:
    """``t`` as aligned text lines: numbers to 5 significant digits, empty cells blank."""
    cols = list(t.columns)
    cells = [[_cell(v) for v in row] for row in t.itertuples(index=False)]
    widths = [max([len(str(c))] + [len(r[i]) for r in cells]) for i, c in enumerate(cols)]
    out = ["  ".join(str(c).rjust(w) for c, w in zip(cols, widths))]
    out += ["  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in cells]
    return out


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _cell(v) -> str:
    if _missing(v):
        return ""
    if isinstance(v, float):
        return f"{v:.5g}"
    return str(v)


def missing_metric_notes(store_path: str | Path, suite: str | None = None) -> list[str]:
    """One line per metric that some measured results have and others lack (not NaN: never
    measured), saying which command adds it."""
    owner = {o.name: n for n in metric_names() for o in metric_class(n).outputs}
    with Store(store_path, readonly=True) as store:
        rows = [r for r in store.results() if r.status != "failed" and r.bitstream and r.metrics
                and (suite is None or r.suite == suite)]
    have = [{owner[k] for k in r.metrics if k in owner} for r in rows]
    every = set().union(*have) if have else set()
    lacking = {m: sum(1 for h in have if m not in h) for m in sorted(every)}
    everything = ",".join(m for m in metric_names() if m in every)
    return [f"note: {n} of {len(rows)} results lack {m}: run their sweep again with `--metrics {everything}` "
            f"(`bench run` adds missing metrics from the kept bitstreams, without encoding)"
            for m, n in lacking.items() if n]
