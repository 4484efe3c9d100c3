"""Group masks and the single ordered rate knob.

A mask names which latents of a group of four are coded (I) and which are generated (P):
``1111`` codes every latent, ``1010`` every second, ``1000`` every fourth, and ``1001`` codes both
ends of a group whose last latent is the next group's first, so one latent in three (the coded
fractions the paper gives: all, about a half, a third, a quarter). Decoding walks the latents in
windows of four whatever the mask; the generator was trained on random known/unknown patterns.

The solver sweeps one integer knob: an index into the model's *rate ladder*, the (mask, quality)
pairs sorted by the bpp they gave on a held-out clip when the checkpoint was made (per mask, only
the qualities whose rate rises with the quality).
"""
from __future__ import annotations

MASKS = ("1111", "1010", "1001", "1000")
PERIOD = {"1111": 1, "1010": 2, "1001": 3, "1000": 4}


def i_positions(mask: str, num_latents: int) -> list[int]:
    """Indices of the coded latents of a sequence of ``num_latents``."""
    return list(range(0, num_latents, PERIOD[mask]))


def default_ladder(levels: int) -> list[tuple[str, float]]:
    """Before a checkpoint's ladder is measured: masks by coded fraction, then quality in half steps."""
    qs = [i / 2 for i in range(2 * levels - 1)]
    return [(m, q) for m in ("1000", "1001", "1010", "1111") for q in qs]


def monotone_ladder(measured: list[dict]) -> list[tuple[str, float]]:
    """The rate ladder from measured entries ``{"mask", "q", "bpp"}``: for each mask only the
    qualities whose rate rises with ``q`` (a lower ``q`` that costs more than a higher one is never
    worth using), then every kept pair sorted by bpp."""
    kept = []
    for mask in MASKS:
        lowest = float("inf")
        for e in sorted((e for e in measured if e["mask"] == mask), key=lambda e: -e["q"]):
            if e["bpp"] < lowest:
                kept.append(e)
                lowest = e["bpp"]
    return [(e["mask"], e["q"]) for e in sorted(kept, key=lambda e: e["bpp"])]
