"""The hull of a resolution ladder: at each target, a codec's best rung.

A ladder's rungs (:mod:`bench.run.ladder`) are stored as rows of the codec with the option
``scale``. In tables and curves the codec's own name keeps its full-scale rows only (the
single-resolution curve, which stays the default anchor), and ``<codec> [ladder]`` has, for each
suite, sequence and target, the best of all its rungs' rows there (full scale included):

* among the rungs that met the target (status ``ok``), the best by the chosen metric output
  (``psnr_yuv`` unless the report is told otherwise; its direction decides what best is);
* when no rung met it, the rung nearest the target in log-bpp (``unreachable`` or ``off-target``,
  as for any codec).

Every hull row is a stored row, unchanged but for its name; its ``scale`` and ``frame_step``
columns say which rung it is, and ``rung`` labels it (``×0.25``, ``×0.125 1/2 frames``) in
curves, tables and GIF captions.
"""
from __future__ import annotations

import math

import pandas as pd

from ..errors import InputError
from ..metrics import all_outputs
from .targets import MEASURED

DEFAULT_METRIC = "psnr_yuv"
TAG = " [ladder]"


def _row_option(config, name: str, kind: type, default):
    opts = ((config or {}).get("codec") or {}).get("options") or {}
    try:
        return kind(opts.get(name, default))
    except (TypeError, ValueError):
        return default


def row_scale(config) -> float:
    """The scale a row was coded at (1 for every row without one: full scale, imported ...)."""
    return _row_option(config, "scale", float, 1.0)


def row_frame_step(config) -> int:
    """Every how many frames a row's codec coded one (1 for every row without the option)."""
    return _row_option(config, "frame_step", int, 1)


def rung_text(scale: float, frame_step: int) -> str:
    """How a row's rung is labelled: '' at full scale and frame rate, else ``×0.25``,
    ``×0.125 1/2 frames`` (every 2nd frame coded, each held for two)."""
    parts = ([f"×{scale:g}"] if scale < 1 else []) + ([f"1/{frame_step} frames"] if frame_step > 1 else [])
    return " ".join(parts)


def ladder_name(codec: str) -> str:
    return codec + TAG


def with_ladders(df: pd.DataFrame, metric: str = DEFAULT_METRIC) -> pd.DataFrame:
    """``df`` with ``scale``, ``frame_step`` and ``rung`` columns, each ladder codec's other rungs
    replaced by its hull rows (named ``<codec> [ladder]``), and its full-scale rows kept under its own
    name."""
    if not len(df) or "config" not in df:
        return df.assign(scale=1.0, frame_step=1, rung="") if len(df) else df
    df = df.assign(scale=df["config"].map(row_scale), frame_step=df["config"].map(row_frame_step))
    df = df.assign(rung=[rung_text(s, n) for s, n in zip(df["scale"], df["frame_step"])])
    below = (df["scale"] < 1) | (df["frame_step"] > 1)
    ladders = sorted(set(df.loc[below, "codec"]))
    if not ladders:
        return df
    if metric not in df or not df[metric].notna().any():
        raise InputError(f"--ladder-metric {metric!r}: no stored result has it "
                         f"(stored: {', '.join(o for o in all_outputs() if o in df) or 'none'})")
    higher = all_outputs()[metric].direction == "higher" if metric in all_outputs() else True
    hull = []
    for codec in ladders:
        rows = df[(df["codec"] == codec) & df["target_bpp"].notna()]
        for _, g in rows.groupby(["suite", "sequence", "target_bpp"], sort=True):
            hull.append(_best(g, metric, higher))
    hull_df = pd.DataFrame(hull)
    hull_df["codec"] = hull_df["codec"].map(ladder_name)
    plain = df[~(df["codec"].isin(ladders) & below)]
    return pd.concat([plain, hull_df], ignore_index=True)


def _best(g: pd.DataFrame, metric: str, higher: bool) -> pd.Series:
    ok = g[(g["status"] == "ok") & g[metric].notna()]
    if len(ok):
        return ok.loc[ok[metric].idxmax() if higher else ok[metric].idxmin()]
    measured = g[g["status"].isin(MEASURED) & g["bpp"].notna()]
    if len(measured):
        miss = (measured["bpp"].astype(float) / measured["target_bpp"].astype(float)).map(lambda r: abs(math.log(r)))
        return measured.loc[miss.idxmin()]
    return g.iloc[0]  # every rung failed: one failed row says so
