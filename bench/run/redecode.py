"""Getting a stored result's frames back: the prepared source it was measured against, and its
reconstruction, re-decoded from the kept bitstream by the same adapter.

The store keeps only bitstreams (a few kB at these rates) and numbers, so the decoded frames are
made again when they are needed: by the report (GIFs, side-by-side and zoomed views) and by a sweep
that adds a metric to stored results (:mod:`bench.run.remeasure`).
Each re-decode is checked against the stored measurement: PSNR-Y of the re-decoded frames must
equal the stored ``psnr_y`` (to ``MATCH_DB``), else the view is marked as not what was measured
(a different decoder build, a changed source file).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from ..codecs import create_codec
from ..codecs.base import Bitstream, Decoded
from ..errors import BenchError
from ..paths import data_dir, store_location
from ..results.row import ResultRow
from ..suites import get_suite
from ..suites.sequences import PreparedSequence, prepare
from .measure import measure

MATCH_DB = 0.01


class NotReconstructible(BenchError):
    """Why a stored result cannot be shown as pixels (one line, shown in the report)."""


@dataclass
class Reconstruction:
    decoded: Decoded
    psnr_y: float | None  # of the re-decode against the source
    stored_psnr_y: float | None

    @property
    def matches(self) -> bool | None:
        return psnr_matches(self.psnr_y, self.stored_psnr_y)


def prepared_source(desc: dict) -> PreparedSequence:
    """The prepared sequence a result was measured against, from the row's ``config.sequence``:
    the cached YUV with that key if it is still there, else prepared again from its suite."""
    if not desc or "key" not in desc:
        raise NotReconstructible("no sequence description stored with this result (imported?)")
    cached = PreparedSequence.from_description(desc, data_dir() / "cache")
    if cached.yuv.exists():
        return cached
    try:
        seq = get_suite(cached.suite).select([cached.name])[0]
        prepared = prepare(seq, cached.options, data_dir() / "cache")
    except BenchError as exc:
        raise NotReconstructible(f"source not available: {exc}") from None
    if prepared.key != desc["key"]:
        raise NotReconstructible(f"the source of {desc['name']} has changed since it was measured")
    return prepared


def bitstream_file(stored: str | None, store_path: Path) -> Path:
    """The kept bitstream: the stored path, else a file of that name among the store's bitstreams
    (a store moved with its ``bitstreams/`` folder, or copied from another machine)."""
    if not stored:
        raise NotReconstructible("no bitstream kept for this result")
    p = Path(stored)
    for cand in (p, store_location(store_path).bitstreams / p.name):
        if cand.is_file():
            return cand
    raise NotReconstructible(f"bitstream {p.name} is missing (looked beside the store too)")


def decode_kept(row: ResultRow, source: PreparedSequence, store_path: Path, workdir: Path) -> Decoded:
    """Decode ``row``'s kept bitstream with the adapter and options it was made with."""
    config = row.config or {}
    cfg = config.get("codec") or {}
    try:
        codec = create_codec(cfg.get("codec") or row.codec, **(cfg.get("options") or {}))
        codec.check_available()
    except BenchError as exc:
        raise NotReconstructible(f"cannot decode here: {exc}") from None
    path = bitstream_file(row.bitstream, store_path)
    bs = Bitstream([path], float(row.knob), list(row.encode_cmd or []), 0.0, meta=config.get("bitstream_meta") or {})
    try:
        return codec.decode(bs, source, workdir)
    except BenchError as exc:
        raise NotReconstructible(f"decoding failed: {exc}") from None


def psnr_matches(psnr_y: float | None, stored: float | None) -> bool | None:
    """Whether a re-decode's PSNR-Y is the stored one (to ``MATCH_DB``); None when one is unknown."""
    if psnr_y is None or stored is None:
        return None
    if math.isinf(psnr_y) and math.isinf(stored):
        return True
    return abs(psnr_y - stored) <= MATCH_DB


def redecode(row: ResultRow, source: PreparedSequence, store_path: Path, workdir: Path) -> Reconstruction:
    """Decode ``row``'s kept bitstream with the adapter and options it was made with, and check it
    against the stored PSNR-Y."""
    dec = decode_kept(row, source, store_path, workdir)
    stored = (row.metrics or {}).get("psnr_y")
    psnr = None
    if stored is not None:
        try:
            psnr = measure(source, dec, ["psnr"], device="cpu").summary.get("psnr_y")
        except BenchError as exc:
            raise NotReconstructible(f"re-decoded frames do not fit the source: {exc}") from None
    return Reconstruction(dec, psnr, stored)
