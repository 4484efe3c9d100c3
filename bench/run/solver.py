"""Finding the knob value whose real bitstream is closest to a target bpp.

Rule: the chosen value is the probed one whose bpp is closest to the target in log-bpp
(``|ln(bpp / target)|`` smallest). For an integer knob (QP, CRF, quality index) the search ends
when two adjacent values bracket the target, so the answer is exact for a monotone rate curve.

Search: ln(bpp) is close to linear in QP-like knobs, so each step is a secant (or, once the target
is bracketed, an interpolation between the bracket ends) in ln(bpp); with one probe only, the
codec's expected slope (``Knob.log_bpp_slope``) gives the step. A bisection step replaces the
interpolation when one end of the bracket stalls (the Illinois safeguard), so the search always
terminates. Probes are cached by the caller and reused across targets: solving the second and
later targets of a sweep usually costs zero to two encodes.

Targets the codec cannot reach are reported as ``unreachable`` with the nearest achievable rate;
they are never silently replaced. An end of the knob's range within 1 % of the target
(``CONTINUOUS_TOL``, as for continuous knobs) meets it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

from ..codecs.base import Knob

MAX_STEPS = 24
CONTINUOUS_TOL = math.log(1.01)


@dataclass
class Solution:
    target: float
    knob: float
    bpp: float
    status: str  # "ok" or "unreachable"
    encodes: int  # new encodes spent on this target (cache misses)
    probes: list[float] = field(default_factory=list)
    message: str = ""


def solve(target: float, rate: Callable[[float], float], knob: Knob, cache: dict[float, float],
          lo: float | None = None, hi: float | None = None) -> Solution:
    """Find the knob value for ``target`` bpp. ``rate(k)`` encodes at ``k`` and returns the bpp;
    ``cache`` maps knob values already encoded to their bpp and is updated in place."""
    if not target > 0:
        raise ValueError(f"target bpp must be positive, got {target}")
    lo = knob.lo if lo is None else lo
    hi = knob.hi if hi is None else hi
    sign = knob.more_bits  # x = sign * k rises with the rate
    x_lo, x_hi = sorted((sign * lo, sign * hi))
    slope_hint = abs(knob.log_bpp_slope) or 0.1
    ln_t = math.log(target)
    encodes = 0
    tried: list[float] = []
    stalls = {"a": 0, "b": 0}
    last_side = None

    def g_of(k: float) -> float:
        return math.log(max(cache[k], 1e-12)) - ln_t

    def probe(x: float) -> float:
        nonlocal encodes
        k = knob.clamp(sign * x)
        if k not in cache:
            cache[k] = rate(k)
            encodes += 1
        tried.append(k)
        return g_of(k)

    def points():
        return sorted(((sign * k, g_of(k)) for k in cache if lo <= k <= hi or hi <= k <= lo), key=lambda p: p[0])

    def done(pts) -> bool:
        below = [p for p in pts if p[1] < 0]
        above = [p for p in pts if p[1] > 0]
        if any(p[1] == 0 for p in pts):
            return True
        if below and above:
            xa, xb = max(p[0] for p in below), min(p[0] for p in above)
            width = xb - xa
            if knob.integer:
                return width <= 1
            best = min(abs(p[1]) for p in pts)
            return best <= CONTINUOUS_TOL or width <= 1e-3 * (x_hi - x_lo)
        return False

    for _ in range(MAX_STEPS):
        pts = points()
        if not pts:
            probe(sign * knob.clamp(knob.start))
            continue
        if done(pts):
            break
        below = [p for p in pts if p[1] < 0]  # too few bits
        above = [p for p in pts if p[1] > 0]  # too many bits
        if below and above:
            (xa, ga), (xb, gb) = max(below), min(above)
            x = xa + (0 - ga) * (xb - xa) / (gb - ga)
            side_limit = 2
            if stalls["a"] >= side_limit or stalls["b"] >= side_limit:
                x = (xa + xb) / 2
                stalls = {"a": 0, "b": 0}
            if knob.integer:
                x = min(max(round(x), xa + 1), xb - 1)
            g = probe(x)
            side = "a" if g < 0 else "b"
            stalls[side] = stalls[side] + 1 if last_side == side else 1
            last_side = side
            continue
        # one-sided: every probe is above (too many bits) or below the target
        need_up = not above  # need a higher rate
        edge = max(pts) if need_up else min(pts)
        if (need_up and edge[0] >= x_hi) or (not need_up and edge[0] <= x_lo):
            k_edge = sign * edge[0]
            if abs(edge[1]) <= CONTINUOUS_TOL:  # the end of the range is within 1 % of the target: met
                return Solution(target, k_edge, cache[k_edge], "ok", encodes, tried)
            what = "above the highest" if need_up else "below the lowest"
            return Solution(target, k_edge, cache[k_edge], "unreachable", encodes, tried,
                            f"target {target:g} bpp is {what} rate this codec reaches "
                            f"({knob.name}={k_edge:g} gives {cache[k_edge]:.5g} bpp)")
        slope = slope_hint
        near = sorted(pts, key=lambda p: abs(p[1]))[:2]
        if len(near) == 2 and near[0][0] != near[1][0]:
            est = (near[1][1] - near[0][1]) / (near[1][0] - near[0][0])
            if est > 1e-6:
                slope = est
        x = edge[0] - edge[1] / slope
        if knob.integer:
            x = round(x)
            x = max(x, edge[0] + 1) if need_up else min(x, edge[0] - 1)
        x = min(max(x, x_lo), x_hi)
        probe(x)

    best = min(cache, key=lambda k: (abs(g_of(k)), k) if (lo <= k <= hi or hi <= k <= lo) else (math.inf, k))
    return Solution(target, best, cache[best], "ok", encodes, tried)


def bisect(target: float, rate: Callable[[float], float], knob: Knob, cache: dict[float, float]) -> Solution:
    """Plain bisection on an integer knob with the same stopping rule: the baseline the solver's
    benchmark compares against (encodes per target)."""
    sign = knob.more_bits
    x_lo, x_hi = sorted((sign * knob.lo, sign * knob.hi))
    ln_t = math.log(target)
    encodes = 0

    def g(x):
        nonlocal encodes
        k = knob.clamp(sign * x)
        if k not in cache:
            cache[k] = rate(k)
            encodes += 1
        return math.log(cache[k]) - ln_t

    a, b = x_lo, x_hi
    ga, gb = g(a), g(b)
    if ga > 0 or gb < 0:
        k = sign * (a if ga > 0 else b)
        return Solution(target, k, cache[k], "unreachable", encodes)
    while b - a > 1:
        m = (a + b) // 2
        if g(m) < 0:
            a = m
        else:
            b = m
    k = min((sign * a, sign * b), key=lambda k: abs(math.log(cache[k]) - ln_t))
    return Solution(target, k, cache[k], "ok", encodes)
