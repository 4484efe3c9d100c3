"""Whether a stored row met its target closely enough to be compared at that target.

The solver stores ``ok`` for the knob value closest to the target in log-bpp once two adjacent
values bracket it (:mod:`bench.run.solver`): for most codecs one QP step moves the rate by 10 to
15 %, so ``ok`` rows sit within a few percent. At the ends of a knob's range one step can move it
by a factor of two or more (x264 between QP 68 and 69 on a small clip), and the closest value may
then be 60 % off: such a row is a real measured point, but not a point *at* that target. The report
relabels ``ok`` rows whose bpp is more than ``tolerance`` away from the target (``bpp / target``
outside ``[1 / (1 + tolerance), 1 + tolerance]``) as ``off-target``: they stay on the RD curves,
in BD-rates and in the GIF tables (which all go by the achieved bpp), and are left out of
everything compared *at a target* (matched-bpp averages and tables, a ladder's hull), like
``unreachable`` rows. The store is never changed; ``bench report --match-tolerance`` sets the
tolerance.
"""
from __future__ import annotations

import pandas as pd

from ..errors import InputError
from ..results.row import DEFAULT_MATCH_TOLERANCE

OFF_TARGET = "off-target"
MEASURED = ("ok", "unreachable", OFF_TARGET)  # statuses with a real measured point
DEFAULT_TOLERANCE = DEFAULT_MATCH_TOLERANCE


def check_tolerance(tolerance: float) -> float:
    if not tolerance > 0:
        raise InputError(f"--match-tolerance {tolerance:g}: expected a positive fraction, e.g. 0.25 for ±25 %")
    return float(tolerance)


def mark_off_target(df: pd.DataFrame, tolerance: float = DEFAULT_TOLERANCE) -> pd.DataFrame:
    """``df`` with its ``ok`` rows more than ``tolerance`` from their target relabelled ``off-target``."""
    check_tolerance(tolerance)
    if not len(df) or not {"status", "bpp", "target_bpp"} <= set(df.columns):
        return df
    ratio = df["bpp"].astype(float) / df["target_bpp"].astype(float)
    off = (df["status"] == "ok") & df["target_bpp"].notna() & ((ratio > 1 + tolerance) | (ratio < 1 / (1 + tolerance)))
    if not off.any():
        return df
    return df.assign(status=df["status"].where(~off, OFF_TARGET))
