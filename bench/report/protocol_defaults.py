"""The report's defaults from the protocol the runs followed (``bench run --protocol``).

A run stores the protocol it followed (its ``[report]`` table among it). ``bench report`` takes from
it what the command line does not give: the anchor, the bitrate ranges of the GIF tables and the
GIFs' width, frame rate and frame count. An option given on the command line wins, and the report
says so beside the protocol's name, as it says which overrides the runs themselves had.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..results.store import Store
from .gifs import GifSettings
from .html import ReportOptions, range_label

# `bench report` option (argparse name) -> the protocol's [report] key
REPORT_OPTIONS = {"anchor": "anchor", "ranges": "ranges", "gif_width": "gif_width", "gif_fps": "gif_fps",
                  "gif_frames": "gif_frames"}


def followed_protocol(store_path: str | Path, suite: str | None = None) -> tuple[dict | None, list[str]]:
    """The protocol of the latest run (of ``suite``) that followed one, and notes on the others."""
    with Store(store_path, readonly=True) as st:
        runs, rows = st.runs(), st.results()
    shown = [r for r in rows if suite is None or r.suite == suite]
    codecs, used = sorted({r.codec for r in shown}), {r.run_id for r in shown}
    with_protocol = [r for r in runs if r["run_id"] in used and (r.get("config") or {}).get("protocol")]
    if not with_protocol:
        return None, []
    latest = max(with_protocol, key=lambda r: r.get("started") or 0)["config"]["protocol"]
    names = sorted({f"{r['config']['protocol']['name']} v{r['config']['protocol']['version']}" for r in with_protocol})
    notes = []
    if len(names) > 1:
        notes.append(f"the runs followed several protocols ({', '.join(names)}); the report follows the latest")
    anchor = (latest.get("report") or {}).get("anchor")
    if anchor and anchor not in codecs:
        notes.append(f"the protocol's anchor {anchor} is not in the results (for VTM-17.0: bench import "
                     f"its published curves), so the usual choice applies")
    return {**latest, "codecs": codecs}, notes


def with_protocol(opts: ReportOptions, store_path: str | Path, given: set[str]) -> ReportOptions:
    """``opts`` with the followed protocol's report settings wherever the command line gave none
    (``given``: the argparse names of the options it gave)."""
    protocol, notes = followed_protocol(store_path, opts.suite)
    if protocol is None:
        return opts
    rep = protocol.get("report") or {}
    gif = opts.gif
    changes: dict = {}
    for option, key in REPORT_OPTIONS.items():
        if key not in rep:
            continue
        if option in given:
            notes.append(f"--{option.replace('_', '-')} given on the command line "
                         f"(the protocol's {key}: {_show(key, rep[key])})")
        elif key == "anchor":
            if rep[key] in protocol["codecs"]:
                changes["anchor"] = rep[key]
        elif key == "ranges":
            changes["ranges"] = tuple((float(lo), float(hi)) for lo, hi in rep[key])
        else:
            gif = replace(gif, **{{"gif_width": "width", "gif_fps": "fps", "gif_frames": "max_frames"}[key]: rep[key]})
    shown = {"label": f"{protocol['name']} v{protocol['version']}", "title": protocol.get("title", ""),
             "source": protocol.get("source", ""), "notes": protocol.get("notes", ""),
             "run_overrides": protocol.get("overrides") or [], "report_notes": notes}
    return replace(opts, **changes, gif=GifSettings(gif.width, gif.fps, gif.max_frames), protocol=shown)


def _show(key: str, v) -> str:
    if key == "ranges":
        return ", ".join(range_label(tuple(r)) for r in v)
    return str(v)
