"""A first report: the stored rate points per codec and sequence, and a suite average, as text.
(The HTML report with RD curves, BD-rates and GIF tables builds on the same table.)"""
from __future__ import annotations

from pathlib import Path

from ..metrics import all_outputs, metric_class, metric_names
from ..results.store import Store
from ..results.tables import load_frame, name_estimated


def text_report(store_path: str | Path, suite: str | None = None) -> str:
    df = name_estimated(load_frame(store_path))
    if suite and len(df):
        df = df[df["suite"] == suite]
    if not len(df):
        return "(no results stored)"
    outputs = [o for o in all_outputs() if o in df.columns]
    lines = []
    for (su, seq), g in df.sort_values(["codec", "target_bpp"]).groupby(["suite", "sequence"], sort=True):
        w, h, n = (g[c].dropna() for c in ("width", "height", "frames"))
        size = f"{int(w.iloc[0])}x{int(h.iloc[0])}" if len(w) and len(h) else "size not published"
        lines.append(f"== {su}/{seq} ({size}, {f'{int(n.iloc[0])} frames' if len(n) else 'frames not published'})")
        cols = ["codec", "target_bpp", "status", "knob", "bpp", "miss"] + outputs
        t = g[cols].copy()
        t["miss"] = (t["miss"] * 100).round(1).astype(str) + "%"
        lines.append(t.to_string(index=False, float_format=lambda x: f"{x:.5g}"))
        fails = g[g["status"] == "failed"]
        for _, r in fails.iterrows():
            lines.append(f"   failed: {r['codec']} at {r['target_bpp']:g} bpp: {r['error']}")
        lines.append("")
    ok = df[df["status"] != "failed"]
    if len(ok):
        lines.append("== suite average over sequences at each target (reached targets only, status ok)")
        avg = ok[ok["status"] == "ok"].groupby(["suite", "codec", "target_bpp"])[["bpp"] + outputs].mean()
        lines.append(avg.reset_index().to_string(index=False, float_format=lambda x: f"{x:.5g}"))
    lines += missing_metric_notes(store_path, suite)
    return "\n".join(lines)


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
