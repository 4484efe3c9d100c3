"""The report's tables for a paper: CSV and LaTeX (booktabs), in ``<report>/tables/``.

For each suite:

* ``<suite>-bd-rate.csv/.tex``: BD-rate (%) of every codec against the anchor, every metric output,
  mean over the sequences (as in the HTML: over the sequences whose number is reliable; the cell
  says how many when that is not all of them);
* ``<suite>-bd-rate-per-sequence.csv/.tex``: the same per sequence; a number that is not a reliable
  BD-rate (overlap under 50%) is in parentheses with a dagger, as the HTML greys it;
* ``<suite>-matched-bpp.csv/.tex``: each metric at each target bpp, averaged with the achieved bpp
  over the sequences where every one reached the target (the suite-average curves' points; the
  CSV has each sequence's rows too).

The CSV files hold plain numbers (empty where there is none) with a ``reliable`` or ``sequences``
column beside each; the LaTeX files are ``table`` environments with ``\\toprule``/``\\midrule``/
``\\bottomrule`` (``\\usepackage{booktabs}``) whose caption names the anchor.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd

from ..files import atomic_write
from ..metrics import all_outputs
from .rd_curves import matched_averages

DAGGER = r"$^\dagger$"


def write_paper_tables(folder: Path, suite: str, df: pd.DataFrame, per_sequence: dict, suite_cells: dict,
                       anchor: str | None, outputs: list[str]) -> list[Path]:
    """Write the suite's tables (see the module); returns the files written."""
    stem = folder / _file_name(suite)
    written = []
    if anchor and suite_cells:
        written += _bd_suite(stem, suite, suite_cells, anchor, outputs)
        written += _bd_sequences(stem, suite, per_sequence, anchor, outputs)
    written += _matched(stem, suite, df, outputs)
    return written


# --- BD-rate ------------------------------------------------------------------------------------
def _columns(table: dict, outputs: list[str]) -> list[str]:
    return [o for o in outputs if any(k[1] == o for k in table)]


def _bd_suite(stem: Path, suite: str, cells: dict, anchor: str, outputs: list[str]) -> list[Path]:
    cols = _columns(cells, outputs)
    codecs = sorted({k[0] for k in cells})
    records, body = [], []
    for codec in codecs:
        rec, tex = {"codec": codec}, [_tex(codec)]
        for o in cols:
            c = cells.get((codec, o))
            mean = None if c is None or math.isnan(c.mean) else round(c.mean, 2)
            rec[o], rec[f"{o}_sequences"] = mean, f"{c.reliable}/{c.sequences}" if c else ""
            if mean is None:
                tex.append("--")
            else:
                tex.append(f"{mean:+.1f}" + ("" if c.reliable == c.sequences else f" ({c.reliable}/{c.sequences})"))
        records.append(rec)
        body.append(tex)
    caption = (f"BD-rate (\\%) against {_tex(anchor)} on {_tex(suite)}, mean over sequences; negative is fewer "
               f"bits at equal quality. (k/n): the mean is over the k of n sequences whose curves overlap enough; "
               f"--: none.")
    return _write(stem.with_name(stem.name + "-bd-rate"), records, ["codec"] + [_tex(o) for o in cols], body,
                  caption, f"tab:{_file_name(suite)}-bd-rate")


def _bd_sequences(stem: Path, suite: str, per_sequence: dict, anchor: str, outputs: list[str]) -> list[Path]:
    cols = _columns({k: v for t in per_sequence.values() for k, v in t.items()}, outputs)
    records, body = [], []
    for seq in sorted(per_sequence):
        table = per_sequence[seq]
        for codec in sorted({k[0] for k in table}):
            rec, tex = {"sequence": seq, "codec": codec}, [_tex(seq), _tex(codec)]
            for o in cols:
                r = table.get((codec, o))
                value = None if r is None or math.isnan(r.value) else round(r.value, 2)
                rec[o], rec[f"{o}_reliable"] = value, (r.reliable if r else "")
                if value is None:
                    tex.append("--")
                else:
                    tex.append(f"{value:+.1f}" if r.reliable else f"({value:+.1f}){DAGGER}")
            records.append(rec)
            body.append(tex)
    caption = (f"BD-rate (\\%) against {_tex(anchor)} per sequence of {_tex(suite)}. {DAGGER}: not a reliable "
               f"BD-rate (the curves' quality ranges overlap under 50\\%); --: fewer than two points.")
    return _write(stem.with_name(stem.name + "-bd-rate-per-sequence"), records,
                  ["sequence", "codec"] + [_tex(o) for o in cols], body, caption,
                  f"tab:{_file_name(suite)}-bd-rate-seq")


# --- metrics at matched bpp ---------------------------------------------------------------------
def _matched(stem: Path, suite: str, df: pd.DataFrame, outputs: list[str]) -> list[Path]:
    pts = matched_averages(df, outputs)
    if not len(pts):
        return []
    meta = all_outputs()
    per_seq = df[df["status"] == "ok"][["sequence", "codec", "target_bpp", "bpp", *outputs]]
    csv = pd.concat([pts.assign(sequence="(mean)"), per_seq.assign(sequences=1)], ignore_index=True)
    csv = csv[["sequence", "codec", "target_bpp", "sequences", "bpp", *outputs]]
    path = stem.with_name(stem.name + "-matched-bpp")
    atomic_write(path.with_suffix(".csv"), csv.to_csv(index=False, float_format="%.6g"))
    head = ["target bpp", "codec", "bpp"] + [_tex(o) + _arrow(meta.get(o)) for o in outputs]
    body = [[f"{r['target_bpp']:g}", _tex(r["codec"]), f"{r['bpp']:.4f}"] + [_num(r.get(o)) for o in outputs]
            for r in pts.sort_values(["target_bpp", "codec"]).to_dict("records")]
    caption = (f"Metrics at matched bitrates on {_tex(suite)}: at each target, the achieved bpp and each metric "
               f"averaged over the sequences where every codec that reached the target reached it.")
    tex = _latex(head, body, caption, f"tab:{_file_name(suite)}-matched", group_by_first=True)
    atomic_write(path.with_suffix(".tex"), tex)
    return [path.with_suffix(".csv"), path.with_suffix(".tex")]


# --- writing ------------------------------------------------------------------------------------
def _write(path: Path, records: list[dict], head: list[str], body: list[list[str]], caption: str,
           label: str) -> list[Path]:
    atomic_write(path.with_suffix(".csv"), pd.DataFrame(records).to_csv(index=False))
    atomic_write(path.with_suffix(".tex"), _latex(head, body, caption, label))
    return [path.with_suffix(".csv"), path.with_suffix(".tex")]


def _latex(head: list[str], body: list[list[str]], caption: str, label: str, group_by_first: bool = False) -> str:
    spec = "l" * (2 if group_by_first or head[:2] == ["sequence", "codec"] else 1)
    spec += "r" * (len(head) - len(spec))
    lines = ["% bench report: needs \\usepackage{booktabs}", "\\begin{table}[t]", "\\centering", "\\small",
             f"\\caption{{{caption}}}", f"\\label{{{label}}}", f"\\begin{{tabular}}{{{spec}}}", "\\toprule",
             " & ".join(head) + " \\\\", "\\midrule"]
    previous = None
    for row in body:
        if group_by_first or head[:2] == ["sequence", "codec"]:
            if previous is not None and row[0] != previous:
                lines.append("\\midrule")
            shown = [row[0] if row[0] != previous else ""] + row[1:]
            previous = row[0]
        else:
            shown = row
        lines.append(" & ".join(shown) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}", "\\end{table}", ""]
    return "\n".join(lines)


def _num(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "--"
    return f"{v:.4g}"


def _arrow(meta) -> str:
    if meta is None:
        return ""
    return " $\\uparrow$" if meta.direction == "higher" else " $\\downarrow$"


_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
            "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _tex(text) -> str:
    """``text`` safe in LaTeX (codec and sequence names such as ``svt-av1 [estimated bits]``)."""
    return "".join(_SPECIAL.get(ch, ch) for ch in str(text))


def _file_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "-", str(text)).strip("-") or "suite"
