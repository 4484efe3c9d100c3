"""BD-rate tables of stored results against an anchor codec (see :mod:`bench.report.bdrate` for one number).

Per sequence: each codec's measured points (``ok``, ``unreachable`` and ``off-target`` rows alike: all are real
encodes at the bpp they achieved) against the anchor's, for every metric output both have.
Per suite: the mean of the per-sequence BD-rates, as the learned-video-coding papers' tables
(DCVC, GLC) report it, over the same sequences for every codec of a column: those where every codec
with a reliable number on some sequence has one (a codec reliable nowhere shows n/a and does not
shrink the others' set). The cell says how many sequences that is, and is n/a when none is.

Anchor: ``--anchor NAME`` if given; else VTM if it is in the store (a local ``vtm`` run or an
imported curve whose name starts with "VTM"), else ``vvenc``, else the first codec by name. The
report always says which codec it is and why.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from ..errors import InputError
from ..metrics import all_outputs
from ..results.row import counted_from_files
from .bdrate import BDResult, bd_rate
from .targets import MEASURED


def choose_anchor(codecs: list[str], requested: str | None = None) -> tuple[str | None, str]:
    """(anchor codec, the reason it was chosen)."""
    if requested:
        if requested not in codecs:
            raise InputError(f"--anchor {requested!r}: no such codec in the results "
                             f"(stored: {', '.join(sorted(codecs)) or 'none'})")
        return requested, "chosen with --anchor"
    vtm = sorted(c for c in codecs if c.lower() == "vtm" or c.lower().startswith("vtm"))
    if vtm:
        return vtm[0], "VTM is in the results (the default anchor)"
    if "vvenc" in codecs:
        return "vvenc", "no VTM results, so VVenC (the default anchor's stand-in)"
    if codecs:
        counted = [c for c in codecs if counted_from_files(c)]
        why = "neither VTM nor VVenC is in the results: the first codec by name"
        if counted and len(counted) < len(codecs):
            why += " whose bits were counted from files"
        return sorted(counted or codecs)[0], why
    return None, "no codecs"


def curve(rows: pd.DataFrame, output: str) -> tuple[list[float], list[float]]:
    """The measured (bpp, value) points of ``rows`` for ``output``."""
    r = rows[rows["status"].isin(MEASURED) & rows["bpp"].notna()]
    if output not in r:
        return [], []
    r = r[r[output].notna()]
    return r["bpp"].astype(float).tolist(), r[output].astype(float).tolist()


@dataclass
class SuiteCell:
    mean: float  # NaN when no sequence gives a reliable number
    reliable: int
    sequences: int
    min_overlap: float

    def text(self) -> str:
        if not self.sequences:
            return "–"
        if math.isnan(self.mean):
            return "n/a"
        return f"{self.mean:+.1f}%"


def sequence_table(df: pd.DataFrame, anchor: str, outputs: list[str]) -> dict[tuple[str, str], BDResult]:
    """{(codec, output): BDResult} for one sequence's rows ``df``."""
    meta = all_outputs()
    base = df[df["codec"] == anchor]
    table = {}
    for codec, rows in df[df["codec"] != anchor].groupby("codec", sort=True):
        for out in outputs:
            ab, am = curve(base, out)
            tb, tm = curve(rows, out)
            if not am or not tm:
                continue
            table[(codec, out)] = bd_rate(ab, am, tb, tm, meta[out].direction if out in meta else "higher")
    return table


def suite_table(per_sequence: dict[str, dict[tuple[str, str], BDResult]]) -> dict[tuple[str, str], SuiteCell]:
    """{(codec, output): SuiteCell} from each sequence's table, each column's codecs averaged over
    the same sequences."""
    cells: dict[tuple[str, str], dict[str, BDResult]] = {}
    for seq, table in per_sequence.items():
        for k, r in table.items():
            cells.setdefault(k, {})[seq] = r

    def good(r: BDResult) -> bool:
        return r.reliable and not math.isnan(r.value)

    common: dict[str, set] = {}  # output -> sequences where every codec reliable somewhere is reliable
    for (codec, output), results in cells.items():
        reliable = {s for s, r in results.items() if good(r)}
        if reliable:
            common[output] = common[output] & reliable if output in common else reliable
    out = {}
    for k, results in cells.items():
        vals = [r.value for s, r in results.items() if s in common.get(k[1], set()) and good(r)]
        out[k] = SuiteCell(sum(vals) / len(vals) if vals else math.nan, len(vals), len(results),
                           min((r.overlap for r in results.values()), default=0.0))
    return out
