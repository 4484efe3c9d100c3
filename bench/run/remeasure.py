"""Adding metrics to stored results without encoding again.

A sweep asked for a metric that some of its already stored results lack (they were measured with
fewer metrics) re-decodes each such result's kept bitstream (:mod:`bench.run.redecode`), measures
only the missing metrics, together with PSNR to check that the re-decode is the frames that were
measured (PSNR-Y equal to the stored one to ``MATCH_DB``), and adds the new outputs to the row in
one transaction (:meth:`bench.results.store.Store.add_metrics`: its other values are never
touched; the row's ``config.remeasured`` says when and in how many seconds). No encoder runs.

A result that cannot be re-decoded (no kept bitstream, codec not available here, a re-decode
that differs) keeps its row as it is, and the sweep says why in one line per cause."""
from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BenchError
from ..metrics import metric_class
from ..results.row import ResultRow
from ..results.store import Store
from .measure import measure
from .redecode import NotReconstructible, decode_kept, prepared_source, psnr_matches


def missing_metrics(row: ResultRow, metrics: list[str]) -> list[str]:
    """The names in ``metrics`` (canonical) with an output that ``row`` has no value for."""
    have = set(row.metrics or {})
    return [m for m in metrics if any(o.name not in have for o in metric_class(m).outputs)]


@dataclass
class Remeasured:
    rows: int = 0  # rows that got their missing metrics
    seconds: float = 0.0
    problems: dict[str, int] = field(default_factory=dict)  # why a row could not be completed -> rows


def lacking(store: Store, keys: list[str], metrics: list[str]) -> list[ResultRow]:
    """The stored rows among ``keys`` that have a measurement but lack one of ``metrics``."""
    return [r for r in store.results_of(keys) if r.metrics and missing_metrics(r, metrics)]


def add_missing_metrics(store_path: Path, keys: list[str], metrics: list[str], device: str | None = None,
                        log=print) -> Remeasured:
    """Give every stored row among ``keys`` the metrics of ``metrics`` it lacks (see the module)."""
    done = Remeasured()
    store = Store(store_path)
    try:
        rows = lacking(store, keys, metrics)
        if not rows:
            return done
        names = sorted({m for r in rows for m in missing_metrics(r, metrics)})
        log(f"{len(rows)} stored results lack {', '.join(names)}: measuring them from their kept bitstreams")
        t0 = time.perf_counter()
        for row in rows:
            try:
                remeasure_row(store, store_path, row, missing_metrics(row, metrics), device)
                done.rows += 1
            except BenchError as exc:
                done.problems[str(exc)] = done.problems.get(str(exc), 0) + 1
        done.seconds = time.perf_counter() - t0
    finally:
        store.close()
    for why, n in done.problems.items():
        log(f"bench: {n} stored result{'s' if n > 1 else ''} kept without the new metrics: {why}")
    return done


def remeasure_row(store: Store, store_path: Path, row: ResultRow, names: list[str], device: str | None) -> None:
    """Re-decode ``row``'s bitstream, measure ``names`` (and PSNR for the check), add them to the row."""
    t0 = time.perf_counter()
    source = prepared_source((row.config or {}).get("sequence") or {})
    work = Path(tempfile.mkdtemp(prefix=f"bench-remeasure-{row.codec}-"))
    try:
        dec = decode_kept(row, source, store_path, work)
        stored_psnr = (row.metrics or {}).get("psnr_y")
        check = ["psnr"] if stored_psnr is not None and "psnr" not in names else []
        m = measure(source, dec, names + check, device=device)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if psnr_matches(m.summary.get("psnr_y"), stored_psnr) is False:
        raise NotReconstructible(f"the re-decode differs from the measured frames (PSNR-Y {m.summary['psnr_y']:.3f} "
                                 f"dB, stored {stored_psnr:.3f} dB): a different decoder build?")
    outputs = {o.name for n in names for o in metric_class(n).outputs}
    store.add_metrics(row.key, {k: v for k, v in m.summary.items() if k in outputs},
                      {k: v for k, v in m.per_frame.items() if k in outputs},
                      {n: m.info[n] for n in names if n in m.info},
                      {"metrics": names, "seconds": round(time.perf_counter() - t0, 3), "at": time.time()})
