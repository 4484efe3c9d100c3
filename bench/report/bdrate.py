"""BD-rate (Bjøntegaard 2001; VCEG-M33) of a test curve against an anchor, by the ``bjontegaard``
package with PCHIP interpolation (the method JVET's CTC spreadsheets use since 2020).

BD-rate is the average bitrate difference in percent at equal quality over the quality interval
both curves cover: negative means the test codec needs fewer bits. For metrics where lower is
better (LPIPS, DISTS, FID ...), quality is the negated metric. Each curve is reduced to its Pareto
front (points ordered by rate whose quality beats every cheaper point), because PCHIP needs
monotone data and a dominated point is not a rate-quality trade-off anyone would choose.

Every result carries the overlap (intersection over union of the two quality ranges, the package's
own definition), the bpp range the curves share, and ``reliable``: False when fewer than 2 points
remain on a curve or the overlap is below ``MIN_OVERLAP``, in which case the number is not shown as
a BD-rate (it would be an extrapolation).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

MIN_OVERLAP = 0.5


@dataclass(frozen=True)
class BDResult:
    value: float  # percent; NaN when it cannot be computed
    overlap: float  # intersection / union of the quality ranges, 0..1
    bpp_range: tuple[float, float] | None  # bpp interval both curves cover
    anchor_points: int
    test_points: int
    reliable: bool
    reason: str = ""

    def cell(self) -> str:
        """Text for a table cell: the number, or why there is none."""
        if math.isnan(self.value):
            return f"n/a ({self.reason})"
        return f"{self.value:+.1f}%" + ("" if self.reliable else f" ({self.reason})")


def pareto(bpp, quality) -> tuple[np.ndarray, np.ndarray]:
    """Points sorted by bpp, keeping those whose quality is above every cheaper point's."""
    order = np.argsort(bpp, kind="stable")
    r, q = np.asarray(bpp, float)[order], np.asarray(quality, float)[order]
    keep, best = [], -np.inf
    for i in range(len(r)):
        if np.isfinite(r[i]) and np.isfinite(q[i]) and r[i] > 0 and q[i] > best:
            keep.append(i)
            best = q[i]
    return r[keep], q[keep]


def bd_rate(anchor_bpp, anchor_metric, test_bpp, test_metric, direction: str = "higher",
            min_overlap: float = MIN_OVERLAP) -> BDResult:
    import bjontegaard

    sign = 1.0 if direction == "higher" else -1.0
    ra, qa = pareto(anchor_bpp, sign * np.asarray(anchor_metric, float))
    rt, qt = pareto(test_bpp, sign * np.asarray(test_metric, float))
    if len(ra) < 2 or len(rt) < 2:
        return BDResult(math.nan, 0.0, None, len(ra), len(rt), False, "fewer than 2 usable points")
    union = max(qa.max(), qt.max()) - min(qa.min(), qt.min())
    inter = min(qa.max(), qt.max()) - max(qa.min(), qt.min())
    overlap = max(inter, 0.0) / union if union > 0 else 0.0
    lo, hi = max(ra.min(), rt.min()), min(ra.max(), rt.max())
    bpp_range = (float(lo), float(hi)) if lo < hi else None
    if overlap <= 0:
        return BDResult(math.nan, 0.0, bpp_range, len(ra), len(rt), False, "no quality overlap")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the package warns on small overlap; we report it instead
        value = float(bjontegaard.bd_rate(ra, qa, rt, qt, method="pchip",
                                          require_matching_points=False, min_overlap=0))
    reliable = overlap >= min_overlap
    return BDResult(value, overlap, bpp_range, len(ra), len(rt), reliable,
                    "" if reliable else f"overlap {overlap:.0%} < {min_overlap:.0%}")
