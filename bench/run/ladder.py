"""Resolution ladders in a sweep: the option ``scales`` of a conventional codec becomes one codec
configuration per scale (``--codec-opt x265.scales=1,0.5,0.25``), each an ordinary adapter with
the option ``scale`` (:mod:`bench.codecs.scaled`), so every rung's result at every target is an
ordinary stored row, found again by its key, with its probes cached. The report's hull
(:mod:`bench.report.hull`) picks the best rung at each target.

``scales=auto`` decides per sequence: it measures the full-scale floor (one encode at the knob's
low-rate end, cached as a probe that the solver reuses), and while the lowest target is below the
floor of the smallest rung so far it adds the next step of :data:`LADDER_STEPS` (measuring its floor
the same way), then one step beyond (or stops where a smaller rung no longer lowers the floor). A
sequence whose full-scale floor is below every target gets no ladder. Full scale runs every
target; a target below its floor also runs at one smaller scale: one step beyond the largest scale
that reaches it (that one codes it at its coarsest QP, and the next smaller scale did better in 17
of 27 cases on the demo clips), or, where no scale reaches it, at the smallest. With a list of
scales every scale runs every target. A rung whose coded size is the same as a larger rung's
(the encoder's minimum size) is left out.
"""
from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..codecs import Codec, create_codec
from ..codecs.scaled import coded_size, scale_of
from ..errors import BenchError, InputError
from ..results.store import Store
from ..suites.sequences import PreparedSequence

LADDER_STEPS = (1.0, 0.75, 0.5, 0.35, 0.25, 0.18, 0.125, 0.09, 0.0625)
MIN_FLOOR_GAIN = 0.05  # auto stops when a smaller rung lowers the floor by less than this (fraction)


def parse_scales(codec: str, text: str) -> list[float] | str:
    """``"1,0.5,0.25"`` -> [1.0, 0.5, 0.25] (largest first, 1 always included); ``"auto"`` as is."""
    text = str(text).strip()
    if text == "auto":
        return "auto"
    if text in ("off", "1"):
        return [1.0]
    try:
        vals = sorted({float(x) for x in text.split(",") if x.strip()} | {1.0}, reverse=True)
    except ValueError:
        vals = []
    if not vals or any(not 0 < v <= 1 for v in vals):
        raise InputError(f"--codec-opt {codec}.scales={text!r}: expected auto, off or numbers in (0, 1], "
                         f"e.g. 1,0.75,0.5,0.35,0.25")
    return vals


def rung(codec: Codec, scale: float) -> Codec:
    """``codec`` at ``scale`` (its other options kept)."""
    return create_codec(codec.name, **{**codec.options, "scale": scale, "scales": ""})


def floor_bpp(codec: Codec, seq: PreparedSequence, store: Store) -> float:
    """The lowest bpp ``codec`` reaches on ``seq``: one encode at the knob's low-rate end, stored as a
    probe (the solver's cache) and read from there when it is already stored."""
    lo, hi = codec.knob_range(seq)
    k = codec.knob.clamp(hi if codec.knob.more_bits < 0 else lo)
    ckey = codec.config_key()
    cached = store.probes(ckey, seq.key)
    if k in cached:
        return cached[k]
    work = Path(tempfile.mkdtemp(prefix=f"bench-floor-{codec.name}-"))
    try:
        bs = codec.encode(seq, k, work)
        bpp = bs.bits / seq.pixels
        store.put_probe(ckey, seq.key, k, bs.bits, bpp, bs.encode_s)
        return bpp
    finally:
        shutil.rmtree(work, ignore_errors=True)


def auto_scales(codec: Codec, seq: PreparedSequence, targets: list[float], store: Store,
                log: Callable[[str], None] = print) -> dict[float, list[float]]:
    """{scale: the targets run at it} for ``codec`` (at full scale) on ``seq`` with ``scales=auto``:
    full scale runs every target; see the module for the rest."""
    lowest = min(targets)
    floor = floor_bpp(codec, seq, store)
    floors = {1.0: floor}
    if lowest >= floor:
        return {1.0: list(targets)}
    for s in LADDER_STEPS[1:]:
        last = min(floors)
        if coded_size(seq.width, seq.height, s, codec.size_multiple) == \
                coded_size(seq.width, seq.height, last, codec.size_multiple):
            continue  # the encoder's minimum size: the same rung again
        if lowest >= floor:  # the rung before reaches every target: this is the step beyond
            floors[s] = 0.0  # not measured: below the one before
            break
        f = floor_bpp(rung(codec, s), seq, store)
        if f > floor * (1 - MIN_FLOOR_GAIN):  # smaller rungs no longer lower the floor: none of them
            break
        floors[s] = floor = f
    plan: dict[float, list[float]] = {1.0: list(targets)}
    smallest = min(floors, key=lambda s: (floors[s], s))  # the rung of the lowest floor (maybe unmeasured)
    for t in targets:
        if t >= floors[1.0] or smallest == 1:
            continue
        reach = [s for s in sorted(floors, reverse=True) if floors[s] <= t]
        # the largest rung that reaches t codes it at its coarsest QP: the next smaller one usually does
        # better (a few tenths of a dB to 3 dB on the demo clips), so t runs there
        s = reach[1] if len(reach) > 1 else reach[0] if reach else smallest
        plan.setdefault(s, []).append(t)
    if len(floors) == 1:
        log(f"ladder {codec.name} on {seq.name}: full scale only (smaller scales do not lower its floor, "
            f"{floor:.3g} bpp)")
        return plan
    log(f"ladder {codec.name} on {seq.name}: " + "; ".join(
        f"x{s:g} (floor {'<' if not floors[s] else ''}{floors[s] or min(v for v in floors.values() if v):.3g} bpp): "
        f"{','.join(f'{t:g}' for t in plan.get(s, [])) or 'no target'}" for s in sorted(floors, reverse=True)))
    return {s: plan[s] for s in sorted(plan, reverse=True)}


def ladder_plan(codecs: list[Codec], prepared: list[PreparedSequence], targets: list[float], store: Store,
                log: Callable[[str], None] = print) -> list[tuple[Codec, list[tuple[PreparedSequence, list[float]]]]]:
    """(codec configuration, [(sequence, targets)]) for every codec and rung: a codec without
    ``scales`` as it is on every sequence and target, a ladder one configuration per scale."""
    plan = []
    for codec in codecs:
        spec = str(codec.options.get("scales", "") or "")
        if spec in ("", "off", "1"):
            plan.append((codec, [(ps, list(targets)) for ps in prepared]))
            continue
        if scale_of(codec.options) != 1:
            raise InputError(f"codec {codec.name}: give either scale or scales, not both")
        scales = parse_scales(codec.name, spec)
        base = rung(codec, 1.0)
        try:
            base.check_available()
        except BenchError:
            plan.append((base, [(ps, list(targets)) for ps in prepared]))  # the sweep records it as unavailable
            continue
        per_scale: dict[float, list] = {}
        for ps in prepared:
            if scales == "auto":
                try:
                    chosen = auto_scales(base, ps, targets, store, log)
                except BenchError as exc:
                    log(f"ladder {codec.name} on {ps.name}: full scale only (measuring a floor failed: {exc})")
                    chosen = {1.0: list(targets)}
            else:
                chosen, sizes = {}, set()
                for s in scales:
                    size = coded_size(ps.width, ps.height, s, base.size_multiple)
                    if size not in sizes:
                        sizes.add(size)
                        chosen[s] = list(targets)
            for s, ts in chosen.items():
                per_scale.setdefault(s, []).append((ps, ts))
        for s in sorted(per_scale, reverse=True):
            plan.append((base if math.isclose(s, 1.0) else rung(codec, s), per_scale[s]))
    return plan
