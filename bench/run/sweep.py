"""``bench run``: plan the sweep, skip what is stored, run the rest, summarise."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from ..codecs import create_codec
from ..errors import CodecUnavailable, InputError
from ..hashing import identity_hash
from ..metrics import canonical_names
from ..paths import data_dir, store_location
from ..results.row import result_key
from ..results.store import Store
from ..suites import get_suite
from ..suites.sequences import SequenceOptions, prepare
from . import environment
from .cluster import check_scheduler, run_on_cluster
from .ladder import ladder_plan
from .remeasure import add_missing_metrics
from .runner import Job, run_jobs

DEFAULT_TARGETS = (0.001, 0.002, 0.004, 0.008)
DEFAULT_CODECS = ("x264", "x265", "vvenc", "svt-av1")
# the default codecs run with their resolution ladders (bench.run.ladder): at these targets every
# one of them stops at its QP/CRF floor on the demo clips, and the report would have no BD-rate
DEFAULT_CODEC_OPTIONS = {c: {"scales": "auto"} for c in DEFAULT_CODECS}
DEFAULT_METRICS = ("psnr", "ms-ssim")


@dataclass
class SweepConfig:
    suite: str = "demo"
    sequences: list[str] | None = None
    codecs: list[str] = field(default_factory=lambda: list(DEFAULT_CODECS))
    codec_options: dict[str, dict] = field(default_factory=dict)
    targets: list[float] = field(default_factory=lambda: list(DEFAULT_TARGETS))
    metrics: list[str] = field(default_factory=lambda: list(DEFAULT_METRICS))
    frames: int | None = None
    fps_step: int | None = None
    size: tuple[int, int] | None = None
    resize: str = "crop"
    jobs: int = 1
    backend: str = "loky"
    scheduler: str | None = None
    timeout: float | None = 1800.0
    store: Path | None = None
    retry_failed: bool = True
    keep_bitstreams: bool = True
    progress: bool = True
    device: str | None = None
    fps: Fraction | None = None  # a frame rate, each sequence's fps_step from its own (SequenceOptions)
    protocol: dict | None = None  # the protocol followed (bench.protocols), stored with the run

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d["store"] = str(self.store) if self.store else None
        d["fps"] = str(self.fps) if self.fps is not None else None
        return d


@dataclass
class SweepSummary:
    run_id: str
    planned: int
    skipped: int
    statuses: dict[str, int]
    errors: list[str]
    encodes_per_target: float
    wall_s: float
    codec_s: float
    store: Path


def parse_targets(text: str) -> list[float]:
    try:
        vals = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise InputError(f"--bpp {text!r}: expected comma-separated numbers, e.g. 0.001,0.002,0.004") from None
    if not vals or any(v <= 0 for v in vals):
        raise InputError(f"--bpp {text!r}: targets must be positive bits per pixel")
    return sorted(set(vals))


def sweep(cfg: SweepConfig, argv: list[str] | None = None, log=print) -> SweepSummary:
    import time

    t0 = time.perf_counter()
    cfg.metrics = canonical_names(cfg.metrics)  # unknown names fail here, before any work
    if cfg.scheduler and cfg.backend != "dask":
        raise InputError(f"--scheduler {cfg.scheduler}: needs --backend dask (not {cfg.backend})")
    if cfg.backend == "dask":
        check_scheduler(cfg.scheduler)  # one line now, not after preparing the sequences
    suite = get_suite(cfg.suite)
    seqs = suite.select(cfg.sequences)
    missing = [s for s in seqs if not s.path.exists()]
    if missing:
        raise InputError(f"{missing[0].path}: {len(missing)} of {len(seqs)} sequences of suite {suite.name!r} are "
                         f"missing (run `bench fetch --suite {suite.name}`)")
    d = suite.defaults
    step = cfg.fps_step if cfg.fps_step is not None else (1 if cfg.fps else d.get("fps_step", 1))
    opts = SequenceOptions(frames=cfg.frames if cfg.frames is not None else d.get("frames"), fps_step=step,
                           size=cfg.size, resize=cfg.resize, fps=cfg.fps)
    if list(cfg.codecs) == list(DEFAULT_CODECS):  # recorded with the run as applied
        cfg.codec_options = {n: {**DEFAULT_CODEC_OPTIONS.get(n, {}), **cfg.codec_options.get(n, {})} for n in cfg.codecs}
    codecs = [create_codec(n, **cfg.codec_options.get(n, {})) for n in cfg.codecs]
    where = store_location(cfg.store)
    store_path = where.path
    store = Store(store_path)
    try:
        run_id = store.start_run(argv or sys.argv, {**cfg.to_dict(), "sequence_options": opts.to_dict()},
                                 environment.describe())
        prepared = []
        for s in seqs:
            log(f"preparing {suite.name}/{s.name} ({opts.for_sequence(s).to_dict()})")
            prepared.append(prepare(s, opts, data_dir() / "cache"))
        jobs, skipped, planned = [], 0, 0
        unavailable_rows, stored = [], []  # stored: keys of measured results (they may lack a metric)
        for codec, on in ladder_plan(codecs, prepared, cfg.targets, store, log):  # a ladder: one per scale
            try:
                codec.check_available()
                cfg_c = codec.config()
                problem = None
            except CodecUnavailable as exc:
                cfg_c = {"codec": codec.name, "version": "unavailable", "options": codec.options,
                         "knob": codec.knob.name}
                problem = str(exc)
                log(f"bench: codec {codec.name} unavailable: {problem}")
            done = ("ok", "unreachable") + (() if cfg.retry_failed else ("failed",))
            for ps, targets in on:
                keys = [result_key(cfg_c, ps.key, t) for t in targets]
                have = store.status_of(keys)
                todo = [(t, k) for t, k in zip(targets, keys) if have.get(k) not in done]
                planned += len(targets)
                skipped += len(targets) - len(todo)
                stored += [] if problem else [k for k in keys if have.get(k) in ("ok", "unreachable")]
                if not todo:
                    continue
                job = Job(codec, cfg_c, ps, [t for t, _ in todo], [k for _, k in todo], list(cfg.metrics),
                          store_path, run_id, cfg.timeout, where.bitstreams if cfg.keep_bitstreams else None,
                          device=cfg.device, torch_threads=max(1, (os.cpu_count() or 1) // max(1, cfg.jobs)),
                          lock=where.lock(f"job-{identity_hash(cfg_c)}-{ps.key}"), done=done)
                if problem:
                    unavailable_rows += [job.row(t, k, status="failed", error=problem) for t, k in todo]
                else:
                    jobs.append(job)
        for row in unavailable_rows:
            store.put_result(row)
        if skipped:
            log(f"{skipped} of {planned} results already stored: skipped")
        add_missing_metrics(store_path, stored, cfg.metrics, cfg.device, log)  # no encoding
        if cfg.backend == "dask":
            reports = run_on_cluster(jobs, cfg.jobs, cfg.scheduler, cfg.progress)
        else:
            reports = run_jobs(jobs, cfg.jobs, cfg.backend, cfg.progress)
        store.finish_run(run_id)
    finally:
        store.close()
    statuses: dict[str, int] = {}
    for r in reports:
        for s in r.statuses:
            statuses[s] = statuses.get(s, 0) + 1
    if unavailable_rows:
        statuses["failed"] = statuses.get("failed", 0) + len(unavailable_rows)
    skipped += sum(r.found_done for r in reports)  # stored by another sweep while this one waited
    enc = [e for r in reports for e in r.encodes]
    errors = [e for r in reports for e in r.errors] + sorted({row.error for row in unavailable_rows})
    return SweepSummary(run_id, planned, skipped, statuses, errors, sum(enc) / len(enc) if enc else 0.0,
                        time.perf_counter() - t0, sum(r.codec_s for r in reports), store_path)

