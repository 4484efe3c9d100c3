"""The sweep: codecs x sequences x bpp targets, run in parallel, every result stored as it finishes.

One *job* is one (codec, sequence) pair with all its pending targets, so the solver's probes are
shared between targets. Jobs run through joblib (local processes by default, ``'threading'`` or
``'sequential'`` in-process; a Dask cluster's jobs run through :mod:`bench.run.cluster`). Each job
writes its rows to its *sink* the moment each target is finished: the SQLite store itself, or, on a
cluster's worker, a collector that sends them to the client, the store's one writer. Each target has
its own deadline (``timeout`` seconds for all its encodes, the decode and the metrics); a codec that
crashes, fails or runs past it becomes a ``failed`` row carrying the tail of its stderr, and the
sweep goes on. Where the codec's encoder knows its reconstruction, the decoded frames must be the
same (:func:`bench.codecs.agreement.check_decode`), else the row is ``failed``.

Several sweeps may share a store: a job holds a lock (a file beside the store, see
:class:`bench.paths.StoreLocation`) while it runs, so one (codec, sequence) pair is worked on by
one process at a time. A job whose pair another process holds is put off to the end of the sweep;
then it waits for the lock, and does only the targets the other process has not stored meanwhile.
"""
from __future__ import annotations

import shutil
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from ..codecs import Codec
from ..codecs.agreement import check_decode
from ..errors import BenchError, CodecFailed
from ..files import atomic_copy, file_lock
from ..hashing import identity_hash
from ..results.row import ResultRow
from ..results.store import Store
from ..suites.sequences import PreparedSequence
from . import environment
from .measure import limit_torch_threads, measure
from .progress import TargetProgress, announce
from .solver import solve


@dataclass
class Job:
    codec: Codec
    codec_config: dict
    seq: PreparedSequence
    targets: list[float]
    keys: list[str]
    metrics: list[str]
    store_path: Path
    run_id: str
    timeout: float | None
    bitstream_dir: Path | None
    device: str | None = None
    torch_threads: int | None = None
    lock: Path | None = None  # held while the job runs (one process per codec and sequence)
    done: tuple[str, ...] = ("ok", "unreachable")  # statuses that need no new attempt
    # where the results go: None is the store at store_path; else an object with the Store's
    # status_of, probes, put_probe, put_result and close, and keep(src, dst) for kept bitstreams
    sink: object | None = None
    worker: dict | None = None  # where the job runs (host, pid ...), in every row's configuration

    def row(self, target: float, key: str, config: dict | None = None, **outcome) -> ResultRow:
        """The row of ``target``: what this job says of the codec and the sequence, ``config`` added
        to the row's configuration, and the ``outcome`` columns (status, bits, metrics ... or error)."""
        seq = self.seq
        return ResultRow(
            key=key, run_id=self.run_id, codec=self.codec.name, codec_version=self.codec_config["version"],
            codec_key=identity_hash(self.codec_config), suite=seq.suite, sequence=seq.name, sequence_key=seq.key,
            width=seq.width, height=seq.height, frames=seq.num_frames, fps=float(seq.fps), target_bpp=target,
            knob_name=self.codec.knob.name, bits_source=self.codec.bits_source,
            config={"codec": self.codec_config, "sequence": seq.describe(), "target_bpp": target,
                    "metrics": self.metrics, **({"worker": self.worker} if self.worker else {}), **(config or {})},
            **outcome)


@dataclass
class JobReport:
    codec: str
    sequence: str
    statuses: list[str]
    encodes: list[int]
    wall_s: float
    codec_s: float
    errors: list[str] = field(default_factory=list)
    index: int = 0  # the job's place in the sweep
    deferred: bool = False  # another process holds the job's lock: run it later
    found_done: int = 0  # targets another process stored while this one waited


def run_job(job: Job, index: int = 0, wait: bool = True) -> JobReport:
    """Run one (codec, sequence) job; never raises for codec trouble (rows say ``failed``). With
    ``wait`` False, a job whose lock another process holds comes back at once, ``deferred``."""
    if job.lock is None:
        return _run_job(job, index)
    with file_lock(job.lock, wait) as mine:
        if not mine:
            return JobReport(job.codec.name, job.seq.name, [], [], 0.0, 0.0, index=index, deferred=True)
        return _run_job(job, index)


def _run_job(job: Job, index: int) -> JobReport:
    t_start = time.perf_counter()
    limit_torch_threads(job.torch_threads)
    codec, seq = job.codec, job.seq
    store = job.sink or Store(job.store_path)
    job.worker = job.worker or environment.process()
    work = Path(tempfile.mkdtemp(prefix=f"bench-{codec.name}-{seq.name}-"))
    ckey = codec.config_key()
    bitstreams = {}
    measured = {}  # knob -> (decoded, measurement, check): targets that land on the same knob share them
    codec_s = 0.0
    report = JobReport(codec.name, seq.name, [], [], 0.0, 0.0, index=index)
    try:
        have = store.status_of(job.keys)  # another sweep may have stored some since this one planned
        todo = [(t, k) for t, k in sorted(zip(job.targets, job.keys)) if have.get(k) not in job.done]
        report.found_done = len(job.targets) - len(todo)
        cache = store.probes(ckey, seq.key)
        lo, hi = codec.knob_range(seq) if todo else (None, None)
        for target, key in todo:
            announce(job.lock, f"{codec.name}/{seq.name} {target:g} bpp")
            deadline = time.monotonic() + job.timeout if job.timeout else None
            config = {}

            def rate(k: float) -> float:
                nonlocal codec_s
                bs = codec.encode(seq, k, work / "probes", deadline)
                codec_s += bs.encode_s
                bitstreams[k] = bs
                bpp = bs.bits / seq.pixels
                store.put_probe(ckey, seq.key, k, bs.bits, bpp, bs.encode_s)
                return bpp

            try:
                sol = solve(target, rate, codec.knob, cache, lo, hi)
                bs = bitstreams.get(sol.knob)
                again = 0.0
                if bs is None:  # probed in an earlier run (or by a ladder's plan): encode again to get the file
                    bs = codec.encode(seq, sol.knob, work / "probes", deadline)
                    codec_s += bs.encode_s
                    bitstreams[sol.knob] = bs
                    again = bs.encode_s
                if sol.knob not in measured:
                    dec = codec.decode(bs, seq, work / "decoded", deadline)
                    codec_s += dec.decode_s
                    check = check_decode(codec, bs, dec, seq, work / "encoder", deadline)
                    m = measure(seq, dec, job.metrics, deadline, job.device)
                    dec.path.unlink(missing_ok=True)
                    measured[sol.knob] = (dec, m, check)
                dec, m, check = measured[sol.knob]
                kept = _keep(bs, job.bitstream_dir, key, job.sink)
                outcome = dict(status=sol.status, knob=sol.knob, bits=bs.bits, bpp=bs.bits / seq.pixels,
                               miss=bs.bits / seq.pixels / target - 1.0, encodes=sol.encodes, encode_s=bs.encode_s,
                               decode_s=dec.decode_s, metrics_s=m.seconds, encode_cmd=bs.cmd, decode_cmd=dec.cmd,
                               bitstream=kept, metrics=m.summary, per_frame=m.per_frame,
                               error=sol.message or None, log=bs.log[-4000:] or None)
                config = {"solver": {"probes": sol.probes, "encodes": sol.encodes, "encoded_again_s": again}, "metric_info": m.info,
                          "bitstream_meta": bs.meta, **({"decoder_check": check} if check else {})}
            except CodecFailed as exc:
                outcome = dict(status="failed", error=str(exc), log=exc.stderr_tail or None,
                               encode_cmd=exc.cmd or None)
            except BenchError as exc:
                outcome = dict(status="failed", error=str(exc))
            except Exception as exc:  # noqa: BLE001 - a bug in an adapter must not stop the sweep
                outcome = dict(status="failed", error=f"{type(exc).__name__}: {exc}",
                               log=traceback.format_exc()[-4000:])
            row = job.row(target, key, config, **outcome)
            store.put_result(row)
            report.statuses.append(row.status)
            report.encodes.append(row.encodes or 0)
            if row.status == "failed":
                report.errors.append(f"{codec.name} on {seq.name} at {target:g} bpp: {row.error}")
    finally:
        announce(job.lock, None)
        store.close()
        shutil.rmtree(work, ignore_errors=True)
    report.wall_s = time.perf_counter() - t_start
    report.codec_s = codec_s
    return report


def _keep(bs, folder: Path | None, key: str, sink=None) -> str | None:
    if folder is None:
        return None
    dst = folder / f"{key}{bs.files[0].suffix}"
    (sink.keep if sink else atomic_copy)(bs.files[0], dst)
    return str(dst)


def run_jobs(jobs: list[Job], n_jobs: int = 1, backend: str = "loky", progress: bool = True) -> list[JobReport]:
    """Run ``jobs`` through joblib (a Dask cluster's: :func:`bench.run.cluster.run_on_cluster`);
    returns their reports as they finish."""
    import joblib
    from tqdm import tqdm

    if not jobs:
        return []
    reports: list[JobReport] = []
    bar = tqdm(total=sum(len(j.targets) for j in jobs), unit="target", disable=not progress, dynamic_ncols=True)
    watch = TargetProgress(jobs, bar).start()  # the bar moves as each target is stored
    try:
        # first every job whose lock is free, then, waiting for their locks, those another process held
        todo, wait = list(enumerate(jobs)), False
        while todo:
            if backend == "sequential" or (n_jobs == 1 and backend == "loky"):
                results = (run_job(j, i, wait) for i, j in todo)
                _collect(results, reports, bar)
            else:
                with joblib.parallel_config(backend=backend, n_jobs=n_jobs):
                    par = joblib.Parallel(return_as="generator_unordered")
                    _collect(par(joblib.delayed(run_job)(j, i, wait) for i, j in todo), reports, bar)
            deferred = {r.index for r in reports if r.deferred}
            reports = [r for r in reports if not r.deferred]
            todo, wait = [(i, j) for i, j in todo if i in deferred], True
    except Exception as exc:  # a worker died: record what is missing, then report
        _record_lost(jobs, f"worker lost: {type(exc).__name__}: {exc}")
        raise BenchError(f"the sweep stopped: {type(exc).__name__}: {exc} (finished results are stored)") from exc
    finally:
        watch.stop()
        bar.close()
    return reports


def _collect(results, reports: list, bar) -> None:
    for rep in results:
        reports.append(rep)


def _record_lost(jobs: list[Job], error: str) -> None:
    if not jobs:
        return
    store = Store(jobs[0].store_path)
    try:
        for j in jobs:
            have = store.status_of(j.keys)
            for t, k in zip(j.targets, j.keys):
                if k not in have:
                    store.put_result(j.row(t, k, status="failed", error=error))
    finally:
        store.close()

