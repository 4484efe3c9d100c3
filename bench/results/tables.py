"""Stored results as a pandas table (one line per :class:`~.row.ResultRow`), and their export (CSV,
Parquet, JSON)."""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import InputError
from ..files import atomic_path, atomic_write
from .row import ResultRow, curve_label
from .store import Store

SUMMARY_COLUMNS = ["suite", "sequence", "codec", "target_bpp", "status", "knob_name", "knob", "bpp", "miss",
                   "bits", "bits_source", "encodes", "encode_s", "decode_s"]


def load_frame(store_path: str | Path, per_frame: bool = False):
    """All result rows as a DataFrame; each metric summary is a column named after its output
    (``psnr_y``, ``ms_ssim_rgb`` ...); with ``per_frame``, arrays go in ``frames.<output>`` columns."""
    with Store(store_path, readonly=True) as store:
        return to_frame(store.results(), per_frame)


def to_frame(rows: list[ResultRow], per_frame: bool = False):
    """``rows`` as a DataFrame, one line each (:meth:`~.row.ResultRow.flat`)."""
    import pandas as pd

    return pd.DataFrame([r.flat(per_frame) for r in rows])


def name_estimated(df):
    """Rename the codec of rows whose bits were estimated, not counted from a file, to
    ``<codec> [estimated bits]`` (:func:`~.row.curve_label`), so every table and legend built from
    ``df`` says so."""
    if len(df) and "bits_source" in df:
        est = df["bits_source"] == "estimated"
        df.loc[est, "codec"] = [curve_label(c, "estimated") for c in df.loc[est, "codec"]]
    return df


def export(store_path: str | Path, fmt: str, output: str | Path | None) -> str | None:
    """Write the results in ``fmt`` (csv, parquet, json, table) to ``output`` or return them as text."""
    df = load_frame(store_path, per_frame=fmt in ("parquet", "json"))
    for c in ("encode_cmd", "decode_cmd", "config"):
        if c in df and fmt in ("csv", "table"):
            df[c] = df[c].map(lambda v: json.dumps(v) if v is not None else None)
    if fmt == "csv":
        text = df.to_csv(index=False)
    elif fmt == "json":
        text = df.to_json(orient="records", indent=1)
    elif fmt == "parquet":
        if not output:
            raise InputError("--format parquet needs --output FILE")
        for c in ("encode_cmd", "decode_cmd", "config"):
            if c in df:
                df[c] = df[c].map(lambda v: json.dumps(v) if v is not None else None)
        with atomic_path(output, Path(output).suffix) as tmp:
            df.to_parquet(tmp, index=False)
        return None
    elif fmt == "table":
        cols = [c for c in SUMMARY_COLUMNS + ["psnr_y", "psnr_yuv", "ms_ssim_rgb"] if c in df]
        text = df[cols].to_string(index=False) if len(df) else "(no results)"
    else:
        raise InputError(f"--format {fmt!r}: expected csv, parquet, json or table")
    if output:
        atomic_write(output, text)
        return None
    return text
