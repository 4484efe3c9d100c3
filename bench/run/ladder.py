"""Resolution ladders in a sweep: the option ``scales`` of a conventional codec becomes one codec
configuration per rung (``--codec-opt x265.scales=1,0.5,0.25,0.125/2``), each an ordinary adapter
with the options ``scale`` and ``frame_step`` (:mod:`bench.codecs.scaled`; ``0.125/2``: at 0.125 of
the size, every 2nd frame coded and held), so every rung's result at every target is an ordinary
stored row, found again by its key, with its probes cached. The report's hull
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

Temporal rungs: where even the smallest scale's floor is above the lowest target (every coded
frame costs 25 to 40 bytes of headers, more than a small frame's whole budget at 0.001 bpp),
``auto`` goes on at that scale coding every 2nd, 3rd ... frame (:data:`FRAME_STEPS`), measuring each
floor, until one reaches the lowest target, then one step beyond, by the same rules.
"""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..codecs import Codec, create_codec
from ..codecs.scaled import MAX_FRAME_STEP, coded_size, frame_step_of, scale_of
from ..errors import BenchError, InputError
from ..results.row import DEFAULT_MATCH_TOLERANCE
from ..results.store import Store
from ..suites.sequences import PreparedSequence

LADDER_STEPS = (1.0, 0.75, 0.5, 0.35, 0.25, 0.18, 0.125, 0.09, 0.0625)
FRAME_STEPS = (2, 3, 4, 6, 8)
MIN_FLOOR_GAIN = 0.05  # auto stops when a smaller rung lowers the floor by less than this (fraction)
MATCH_TOLERANCE = DEFAULT_MATCH_TOLERANCE  # as the report's default (a row further off is off-target)


Rung = tuple[float, int]  # (scale, frame_step)
FULL: Rung = (1.0, 1)


def ladder_order(r: Rung) -> tuple[float, int]:
    """Sort key of rungs: largest first, then densest (every frame before every 2nd ...)."""
    return -r[0], r[1]


def rung_label(r: Rung) -> str:
    """``x0.25``, ``x0.25/2`` (every 2nd frame), or ``x1``."""
    return f"x{r[0]:g}" + (f"/{r[1]}" if r[1] > 1 else "")


def parse_scales(codec: str, text: str) -> list[Rung] | str:
    """``"1,0.5,0.25/2"`` -> [(1.0, 1), (0.5, 1), (0.25, 2)] (largest and densest first, full scale
    always included); ``"auto"`` as is."""
    text = str(text).strip()
    if text == "auto":
        return "auto"
    if text in ("off", "1"):
        return [FULL]
    rungs: set[Rung] = {FULL}
    try:
        for item in (x.strip() for x in text.split(",") if x.strip()):
            scale, _, step = item.partition("/")
            rungs.add((float(scale), int(step) if step else 1))
    except ValueError:
        rungs = set()
    if len(rungs) < 1 or any(not 0 < s <= 1 or not 1 <= n <= MAX_FRAME_STEP for s, n in rungs):
        raise InputError(f"--codec-opt {codec}.scales={text!r}: expected auto, off or numbers in (0, 1], each "
                         f"maybe with /N to code every Nth frame (N up to {MAX_FRAME_STEP}), e.g. 1,0.5,0.25,0.125/2")
    return sorted(rungs, key=ladder_order)


def rung(codec: Codec, scale: float, frame_step: int = 1) -> Codec:
    """``codec`` at ``scale`` and ``frame_step`` (its other options kept)."""
    return create_codec(codec.name, **{**codec.options, "scale": scale, "frame_step": frame_step, "scales": ""})


def probe_bpp(codec: Codec, seq: PreparedSequence, store: Store, k: float) -> float:
    """The bpp of ``codec`` at knob value ``k`` on ``seq``: one encode, stored as a probe (the
    solver's cache) and read from there when it is already stored."""
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


def _low_end(codec: Codec, seq: PreparedSequence) -> float:
    lo, hi = codec.knob_range(seq)
    return codec.knob.clamp(hi if codec.knob.more_bits < 0 else lo)


def floor_bpp(codec: Codec, seq: PreparedSequence, store: Store) -> float:
    """The lowest bpp ``codec`` reaches on ``seq``: one encode at the knob's low-rate end."""
    return probe_bpp(codec, seq, store, _low_end(codec, seq))


def floor_gap(codec: Codec, seq: PreparedSequence, store: Store, floor: float) -> tuple[float, float] | None:
    """(floor, the bpp one knob step above it) where that step multiplies the rate by more than
    (1 + :data:`MATCH_TOLERANCE`)², so that rates between cannot be met within the tolerance (x264 on
    bikes: QP 69 gives 0.0013 bpp, QP 68 0.0066), else None. One more encode (a probe the solver
    reuses)."""
    if not codec.knob.integer:
        return None
    k = _low_end(codec, seq)
    nxt = codec.knob.clamp(k + codec.knob.more_bits)  # one step towards more bits
    if nxt == k:
        return None
    above = probe_bpp(codec, seq, store, nxt)
    return (floor, above) if above > floor * (1 + MATCH_TOLERANCE) ** 2 else None


def in_gap(gap: tuple[float, float] | None, t: float) -> bool:
    """Whether target ``t`` falls in a :func:`floor_gap`: more than the tolerance from both sides."""
    return bool(gap) and gap[0] * (1 + MATCH_TOLERANCE) < t < gap[1] / (1 + MATCH_TOLERANCE)


def _rung_floor(codec: Codec, r: Rung, seq: PreparedSequence, store: Store,
                log: Callable[[str], None]) -> float | None:
    """The floor of rung ``r``, or None (said in one line) where the encoder fails there: the
    ladder then stops at the rungs before it."""
    try:
        return floor_bpp(rung(codec, *r), seq, store)
    except BenchError as exc:
        log(f"ladder {codec.name} on {seq.name}: no rung from {rung_label(r)} on (its floor encode failed: "
            f"{str(exc).splitlines()[0][:200]})")
        return None


def _gap(codec: Codec, r: Rung, seq: PreparedSequence, store: Store, floor: float,
         targets: list[float]) -> tuple[float, float] | None:
    """:func:`floor_gap` of rung ``r``, measured only where a target could fall in it."""
    if not any(floor * (1 + MATCH_TOLERANCE) < t for t in targets):
        return None
    try:
        return floor_gap(rung(codec, *r), seq, store, floor)
    except BenchError:
        return None


def auto_scales(codec: Codec, seq: PreparedSequence, targets: list[float], store: Store,
                log: Callable[[str], None] = print) -> dict[Rung, list[float]]:
    """{(scale, frame_step): the targets run at it} for ``codec`` (at full scale) on ``seq`` with
    ``scales=auto``: full scale runs every target; see the module for the rest."""
    floor = floor_bpp(codec, seq, store)
    floors: dict[Rung, float] = {FULL: floor}  # 0.0: the step beyond, not measured
    gaps = {FULL: _gap(codec, FULL, seq, store, floor, targets)}  # rates a rung's knob steps over

    def reaches(r: Rung, t: float) -> bool:
        return floors[r] <= t and not in_gap(gaps.get(r), t)

    unmet = [t for t in targets if not reaches(FULL, t)]
    if not unmet:
        return {FULL: list(targets)}
    lowest = min(unmet)
    beyond = False
    for s in LADDER_STEPS[1:]:
        last = min(r[0] for r in floors)
        if coded_size(seq.width, seq.height, s, codec.size_multiple) == \
                coded_size(seq.width, seq.height, last, codec.size_multiple):
            continue  # the encoder's minimum size: the same rung again
        if lowest >= floor:  # the rung before reaches every target: this is the step beyond
            floors[(s, 1)], beyond = 0.0, True
            break
        f = _rung_floor(codec, (s, 1), seq, store, log)
        if f is None or f > floor * (1 - MIN_FLOOR_GAIN):  # smaller rungs no longer lower the floor: none of them
            break
        floors[(s, 1)] = floor = f
    if not beyond and lowest < floor:  # no size reaches the lowest target: fewer frames, at the smallest size
        s = min((r for r in floors if floors[r]), key=lambda r: (floors[r], r[0]))[0]
        for n in FRAME_STEPS:
            if n >= seq.num_frames:
                break
            if lowest >= floor:
                floors[(s, n)] = 0.0
                break
            f = _rung_floor(codec, (s, n), seq, store, log)
            if f is None:
                break
            floors[(s, n)] = floor = f
    order = sorted(floors, key=ladder_order)
    for r in order:
        if r not in gaps and floors[r]:
            gaps[r] = _gap(codec, r, seq, store, floors[r], targets)
    plan: dict[Rung, list[float]] = {FULL: list(targets)}
    smallest = min(floors, key=lambda r: (floors[r], r[0], -r[1]))  # the lowest floor (maybe unmeasured)
    for t in targets:
        if reaches(FULL, t) or smallest == FULL:
            continue
        reach = [r for r in order if reaches(r, t)]
        # the largest rung that reaches t codes it at its coarsest QP: the next one down usually does
        # better (a few tenths of a dB to 3 dB on the demo clips), so t runs there
        r = reach[1] if len(reach) > 1 else reach[0] if reach else smallest
        plan.setdefault(r, []).append(t)
    for r, gap in gaps.items():
        if gap:
            log(f"ladder {codec.name} on {seq.name}: at {rung_label(r)} the knob steps from {gap[0]:.3g} "
                f"to {gap[1]:.3g} bpp; targets between run at another rung")
    if len(floors) == 1:
        log(f"ladder {codec.name} on {seq.name}: full scale only (smaller scales do not lower its floor, "
            f"{floor:.3g} bpp)")
        return plan
    known = min(v for v in floors.values() if v)
    log(f"ladder {codec.name} on {seq.name}: " + "; ".join(
        f"{rung_label(r)} (floor {'<' if not floors[r] else ''}{floors[r] or known:.3g} bpp): "
        f"{','.join(f'{t:g}' for t in plan.get(r, [])) or 'no target'}" for r in order))
    if lowest < known and all(floors[r] for r in floors):
        log(f"ladder {codec.name} on {seq.name}: {lowest:g} bpp stays below every rung's floor "
            f"(lowest {known:.3g} bpp, {rung_label(smallest)})")
    return {r: plan[r] for r in order if r in plan}


def ladder_plan(codecs: list[Codec], prepared: list[PreparedSequence], targets: list[float], store: Store,
                log: Callable[[str], None] = print) -> list[tuple[Codec, list[tuple[PreparedSequence, list[float]]]]]:
    """(codec configuration, [(sequence, targets)]) for every codec and rung: a codec without
    ``scales`` as it is on every sequence and target, a ladder one configuration per rung."""
    plan = []
    for codec in codecs:
        spec = str(codec.options.get("scales", "") or "")
        if spec in ("", "off", "1"):
            plan.append((codec, [(ps, list(targets)) for ps in prepared]))
            continue
        if scale_of(codec.options) != 1 or frame_step_of(codec.options) != 1:
            raise InputError(f"codec {codec.name}: give either scale/frame_step or scales, not both")
        rungs = parse_scales(codec.name, spec)
        base = rung(codec, 1.0)
        try:
            base.check_available()
        except BenchError:
            plan.append((base, [(ps, list(targets)) for ps in prepared]))  # the sweep records it as unavailable
            continue
        per_rung: dict[Rung, list] = {}
        for ps in prepared:
            if rungs == "auto":
                try:
                    chosen = auto_scales(base, ps, targets, store, log)
                except BenchError as exc:
                    log(f"ladder {codec.name} on {ps.name}: full scale only (measuring a floor failed: {exc})")
                    chosen = {FULL: list(targets)}
            else:
                chosen, seen = {}, set()
                for r in rungs:
                    coded = (coded_size(ps.width, ps.height, r[0], base.size_multiple), min(r[1], ps.num_frames))
                    if coded not in seen:
                        seen.add(coded)
                        chosen[r] = list(targets)
            for r, ts in chosen.items():
                per_rung.setdefault(r, []).append((ps, ts))
        for r in sorted(per_rung, key=ladder_order):
            plan.append((base if r == FULL else rung(codec, *r), per_rung[r]))
    return plan
