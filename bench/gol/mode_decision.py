"""The encoder's choice of a file's mask and quality for one sequence (rate-distortion mode decision).

The rate ladder (:mod:`bench.gol.masks`) orders (mask, q) pairs by the bpp they gave on one held-out
clip, but what a generated latent costs depends on the content: on fast motion (the demo's bikes) the
generator's latents are far from the real ones, so there the rungs that generate more are worse than
the ladder says, and a rung that codes more latents at a lower quality would be better.

:func:`encode` makes rung k a *budget* instead: the bpp the ladder gives rung k (measured on the
held-out clip when the checkpoint was made; between two rungs, as at rung 12.25, interpolated in log
bpp, so the harness's solver can meet a target between rungs) times this sequence's pixels; the top
rung's budget is at least the file of its own pair, so the ladder's top stays in reach. The budget
grows with the rung whatever the content, so the solver's knob stays monotone. :func:`choose`
spends it on the (mask, quality, codec) whose latents, as the decoder will have them (the coded ones
decoded, the others generated with the file's own seed, by :meth:`GoLModel.decode_latents`), are
closest to the sequence's own latents (mean squared error over every latent): for each mask and each
of the model's I-latent codecs the highest quality in the header's 1/16 steps whose file fits the
budget (by bisection: bytes grow with q), and the rung's own triple if it fits, then the one of least
error. A model with a 4x and a 2x codec thus takes the 2x one where the budget buys a sharper file
with it (high rates, slow motion) and the 4x one where it does not. When nothing fits (a budget
below the cheapest file), the cheapest file is written and the harness sees its rate. The error is
measured on latents, not pixels: the decoder's pixels cost a decode each, the latents only the codec
and the generator; and no metric that a report shows is optimised here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .bitstream import Q_STEPS, Header
from .masks import MASKS, ladder_bpps, rung_fields


@dataclass(frozen=True)
class Candidate:
    mask: str
    q: float
    codec: int
    data: bytes
    error: float  # mean squared error of the decoder's latents against the sequence's

    def summary(self) -> dict:
        return {**rung_fields(self.mask, self.q, self.codec), "bytes": len(self.data),
                "latent_mse": round(self.error, 5)}


def _with(header: Header, mask: str, q: float, codec: int = 0) -> Header:
    return Header(header.model_id, header.width, header.height, header.frames, mask, q, codec)


def _highest_fitting(model, lat: torch.Tensor, header: Header, budget: int) -> bytes | None:
    """The file of ``header``'s mask and codec at the highest quality (1/16 steps) that fits
    ``budget`` bytes, or None when even q = 0 does not fit."""
    top = Q_STEPS * (model.codec.levels - 1)
    files: dict[int, bytes] = {}

    def file_at(j: int) -> bytes:
        if j not in files:
            files[j] = model.file_of(lat, _with(header, header.mask, j / Q_STEPS, header.codec))
        return files[j]

    if len(file_at(0)) > budget:
        return None
    lo, hi = 0, top  # file_at(lo) fits; find the highest j that does
    if len(file_at(hi)) <= budget:
        return file_at(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if len(file_at(mid)) <= budget else (lo, mid)
    return file_at(lo)


def _candidate(model, lat: torch.Tensor, data: bytes) -> Candidate:
    hdr, dec, _ = model.decode_latents(data)
    return Candidate(hdr.mask, hdr.q, hdr.codec, data, float(((dec - lat) ** 2).mean()))


@torch.no_grad()
def choose(model, lat: torch.Tensor, header: Header, budget: int | None = None) -> tuple[Candidate, list[Candidate]]:
    """(the chosen file, every candidate tried) for a sequence's latents ``lat``, within ``budget``
    bytes (default: the size of the file of ``header``'s own mask, quality and codec, which is then a
    candidate, as it is whenever it fits). The chosen one is coded last (an entropy coder's recorder,
    as in :mod:`bench.codecs.drivers.gol`, sees its symbols last)."""
    own = model.file_of(lat, header)
    budget = len(own) if budget is None else budget
    files = {(header.mask, header.q, header.codec): own} if len(own) <= budget else {}
    kinds = [(mask, codec) for codec in range(model.num_codecs) for mask in MASKS]
    for mask, codec in kinds:
        data = _highest_fitting(model, lat, _with(header, mask, 0.0, codec), budget)
        if data is not None:
            files.setdefault((mask, Header.unpack(data).q, codec), data)
    if not files:  # below every file: the cheapest one
        data = min((model.file_of(lat, _with(header, mask, 0.0, codec)) for mask, codec in kinds), key=len)
        h = Header.unpack(data)
        files[(h.mask, 0.0, h.codec)] = data
    tried = [_candidate(model, lat, data) for data in files.values()]
    best = min(tried, key=lambda c: (c.error, len(c.data)))
    if model.file_of(lat, _with(header, best.mask, best.q, best.codec)) != best.data:
        raise RuntimeError("GoL's codec coded the same latents twice to different bytes")
    return best, tried


def rung_bpp(model, rung: float) -> float | None:
    """The bpp of ``rung`` on the model card's ladder (log-interpolated between two rungs), or None
    when the card did not measure those rungs."""
    bpps = ladder_bpps(model.card, model.ladder)
    lo, hi = math.floor(rung), math.ceil(rung)
    a, b = bpps[lo], bpps[hi]
    if not (a and b):
        return None
    return math.exp(math.log(a) + (rung - lo) * (math.log(b) - math.log(a)))


@torch.no_grad()
def encode(model, frames, rung: float) -> tuple[Candidate, list[Candidate]]:
    """:func:`choose` for RGB frames (T, H, W, 3) in [0, 1] within the budget of ``rung`` (0 to the
    ladder's top, in any steps): the card's bpp there times the frames' pixels. The top rung's budget
    is at least its own pair's file, so the ladder's top pair stays in reach on content that costs
    more than the card's clip (between the last two rungs the budget is log-interpolated up to it).
    A checkpoint whose card has no ladder takes a whole rung's own file on these frames as the budget."""
    t, h, w, _ = frames.shape
    lat = model.latents_of(frames)
    header = Header(model.model_id(), w, h, t, *model.ladder[math.floor(rung)])
    bpp, top = rung_bpp(model, rung), len(model.ladder) - 1
    if bpp is None:
        if rung != int(rung):
            raise ValueError(f"rung {rung:g}: between two rungs needs the ladder's bpp, and this checkpoint's card has none")
        return choose(model, lat, header)
    pixels = t * h * w
    budget = bpp * pixels / 8
    if rung > top - 1:
        top_bytes = max(rung_bpp(model, top) * pixels / 8, len(model.file_of(lat, _with(header, *model.ladder[top]))))
        below = rung_bpp(model, top - 1) * pixels / 8 if top > 0 else top_bytes
        budget = math.exp(math.log(below) + (rung - top + 1) * (math.log(top_bytes) - math.log(below)))
    return choose(model, lat, header, round(budget))  # round: exp(log(x)) may fall a hair below x
