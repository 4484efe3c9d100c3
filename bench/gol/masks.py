"""Group masks and the single ordered rate knob.

A mask names which latents of a group of four are coded (I) and which are generated (P):
``1111`` codes every latent, ``1010`` every second, ``1000`` every fourth, and ``1001`` codes both
ends of a group whose last latent is the next group's first, so one latent in three (the coded
fractions the paper gives: all, about a half, a third, a quarter). Decoding walks the latents in
windows of four whatever the mask; the generator was trained on random known/unknown patterns.

The solver sweeps one integer knob: an index into the model's *rate ladder*, the (mask, quality,
codec) triples (codec: which of the model's I-latent codecs, 0 for a model with one) on the
rate-distortion front of a held-out clip when the checkpoint was made: sorted by the
bpp they gave, without those that a cheaper pair matches or beats in both PSNR and LPIPS, so each
rung up costs more bits and is better in at least one of the two (both, because generated
P-latents are judged by how they look, as the paper does, and PSNR alone would favour blur). The
encoder may spend a rung's bytes on another pair that suits the sequence better
(:mod:`bench.gol.mode_decision`).
"""
from __future__ import annotations

MASKS = ("1111", "1010", "1001", "1000")
PERIOD = {"1111": 1, "1010": 2, "1001": 3, "1000": 4}


def i_positions(mask: str, num_latents: int) -> list[int]:
    """Indices of the coded latents of a sequence of ``num_latents``."""
    return list(range(0, num_latents, PERIOD[mask]))


def ladder_entry(entry) -> tuple[str, float, int]:
    """A rung as a checkpoint holds it: [mask, q] (made before models had several codecs: codec 0)
    or [mask, q, codec], or a card's measured entry ``{"mask", "q"[, "codec"]}``."""
    if isinstance(entry, dict):
        return str(entry["mask"]), float(entry["q"]), int(entry.get("codec", 0))
    mask, q, *codec = entry
    return str(mask), float(q), int(codec[0]) if codec else 0


def rung_fields(mask: str, q: float, codec: int) -> dict:
    """A (mask, q, codec) as records write it: ``{"mask", "q"}``, with ``"codec"`` only when it is
    not 0, so that a one-codec model's records (driver reports, mode-decision candidates, card
    entries, stored bitstream metadata) read as they did before models had several codecs.
    :func:`ladder_entry` reads it back."""
    return {"mask": mask, "q": q, **({"codec": codec} if codec else {})}


def ladder_label(entry) -> str:
    """``1111/q5`` (codec 0, as stored results have always named rungs) or ``1111/q5/c1``."""
    mask, q, codec = ladder_entry(entry)
    return f"{mask}/q{q:g}" + (f"/c{codec}" if codec else "")


def default_ladder(levels: int, codecs: int = 1) -> list[tuple[str, float, int]]:
    """Before a checkpoint's ladder is measured: codec by codec, masks by coded fraction, then
    quality in half steps."""
    qs = [i / 2 for i in range(2 * levels - 1)]
    return [(m, q, c) for c in range(codecs) for m in ("1000", "1001", "1010", "1111") for q in qs]


def pareto_ladder(measured: list[dict]) -> list[tuple[str, float, int]]:
    """The rate ladder from measured entries ``{"mask", "q"[, "codec"], "bpp", "psnr_rgb", "lpips"}``:
    sorted by bpp, without the entries that a cheaper one matches or beats in both PSNR and LPIPS (the
    rate-distortion front in both measures, over every codec)."""
    order = sorted(measured, key=lambda e: (e["bpp"], -e["psnr_rgb"], e["lpips"]))
    return [ladder_entry(e) for i, e in enumerate(order)
            if not any(c["psnr_rgb"] >= e["psnr_rgb"] and c["lpips"] <= e["lpips"] for c in order[:i])]


def ladder_bpps(card: dict, ladder) -> list[float | None]:
    """Each rung's bpp as a checkpoint's model card measured it (``card["ladder"]``), None where the
    card has no entry (an unfinalised checkpoint)."""
    measured = {ladder_entry(e): e["bpp"] for e in card.get("ladder", [])}
    return [measured.get(ladder_entry(e)) for e in ladder]
