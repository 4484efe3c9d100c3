"""Sweeps on a Dask cluster: the jobs run on its workers, the client stores every result.

``bench run --backend dask`` starts a local cluster of ``--jobs`` single-threaded worker processes;
with ``--scheduler ADDRESS`` it uses the workers of a running scheduler, which may be other machines
sharing no files with the client. Each job (one codec, one sequence and its pending targets, run by
:func:`bench.run.runner.run_job` as locally) is one task of ``client.submit``:

* A worker needs nothing from the client's disk. The prepared sequence's bytes are scattered to the
  cluster once per sequence and shared by every job on it; a worker writes them once into its own
  local directory, checked against their SHA-256. The codec and the metric names travel with the job.
* The client is the store's one writer. On the worker the job's sink (:class:`Collector`) sends
  each probe, and each finished target's row with its kept bitstream's bytes, to the client through
  a Dask queue; the client stores each the moment it arrives (bitstream first, then the row). What a
  job needs of the store, the statuses of its targets and the known probes, it reads from a Dask
  variable the client keeps current, so a job run again does only the targets not yet back.
* Before its targets, a job checks on its worker that its codec runs there with the client's
  configuration and version and that its metrics load; else its targets are ``failed`` with one line
  naming what is missing and on which worker (host, pid). Every row records its worker (host, pid,
  address, environment) under ``config.worker``.
* A worker that dies mid-job (killed, out of memory): the job is submitted again, the sequence
  scattered again if its only copy died with the worker, up to ``ATTEMPTS`` times; then the targets
  that did not come back are stored as ``failed`` (``worker lost: ...``). The sweep goes on.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import BenchError, InputError
from ..files import atomic_write, file_lock, make_once
from ..hashing import identity_hash
from ..metrics import create_metric
from ..results.store import Store
from ..suites.sequences import PreparedSequence, cached_yuv
from . import environment
from .runner import Job, JobReport, run_job

CONNECT_TIMEOUT_S = 10  # an unreachable scheduler is one line after this
WORKERS_TIMEOUT_S = 60  # a scheduler without workers: wait this long for the first one
ATTEMPTS = 3  # submissions of one job whose worker dies
POLL_S = 0.5


def run_on_cluster(jobs: list[Job], n_workers: int = 1, scheduler: str | None = None,
                   progress: bool = True) -> list[JobReport]:
    """Run ``jobs`` on the workers of ``scheduler`` (else of a local cluster of ``n_workers``
    single-threaded processes), storing every result in the jobs' store as it arrives; returns the
    jobs' reports."""
    if not jobs:
        return []
    from tqdm import tqdm

    client, cluster = connect(scheduler, n_workers)
    store = Store(jobs[0].store_path)
    bar = tqdm(total=sum(len(j.targets) for j in jobs), unit="target", disable=not progress, dynamic_ncols=True)
    try:
        return _Sweep(client, store, bar).run(jobs)
    finally:
        bar.close()
        store.close()
        client.close()
        if cluster is not None:
            cluster.close()


def check_scheduler(scheduler: str | None) -> None:
    """Stop with one line, before any work, if Dask is missing or ``scheduler`` does not answer or
    has no workers."""
    if scheduler:
        connect(scheduler, 0)[0].close()
    else:
        _distributed()


def _distributed():
    try:
        import distributed
    except ImportError:
        raise InputError("--backend dask needs dask.distributed (pip install -e \".[dask]\")") from None
    return distributed


def connect(scheduler: str | None, n_workers: int):
    """A Dask client of ``scheduler``, or of a new local cluster (then returned too, to close)."""
    dd = _distributed()
    if not scheduler:
        cluster = dd.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None)
        return dd.Client(cluster), cluster
    try:
        client = dd.Client(scheduler, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as exc:
        raise BenchError(f"--scheduler {scheduler}: no Dask scheduler answers there ({type(exc).__name__}: {exc})")\
            from None
    try:
        client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
    except (OSError, TimeoutError) as exc:
        client.close()
        raise BenchError(f"--scheduler {scheduler}: no worker joined in {WORKERS_TIMEOUT_S} s "
                         f"(start one with `dask worker {scheduler}`)") from exc
    return client, None


@dataclass
class _Running:
    index: int
    job: Job
    locks: ExitStack
    attempt: int = 1


class _Sweep:
    """The client's side: submit the jobs, store what comes back, submit again what a dead worker lost."""

    def __init__(self, client, store: Store, bar):
        from distributed import Queue

        self.client, self.store, self.bar = client, store, bar
        self.channel = f"bench-{uuid.uuid4().hex[:12]}"
        self.queue = Queue(self.channel, client=client)
        self.sequences: dict[str, tuple] = {}  # prepared sequence key -> (future of its bytes, SHA-256)
        self.arrived: dict[int, dict[str, str]] = {}  # job index -> {key: status} of rows come back
        self.jobs: dict[int, Job] = {}
        self.running: dict = {}  # future -> _Running
        self.reports: list[JobReport] = []

    def run(self, jobs: list[Job]) -> list[JobReport]:
        # first every job whose lock is free, then, waiting for their locks, those another process holds
        deferred = [(i, j) for i, j in enumerate(jobs) if not self.start(i, j, wait=False)]
        self.wait()
        for i, j in deferred:
            self.start(i, j, wait=True)
        self.wait()
        return sorted(self.reports, key=lambda r: r.index)

    def start(self, index: int, job: Job, wait: bool) -> bool:
        locks = ExitStack()
        if job.lock is not None and not locks.enter_context(file_lock(job.lock, wait)):
            locks.close()
            return False
        self.jobs[index] = job
        self.arrived[index] = {}
        self.submit(_Running(index, job, locks))
        return True

    def submit(self, run: _Running) -> None:
        self.publish(run.index)
        data, digest = self.sequence(run.job.seq)
        # pickled here, so that the scheduler, which unpickles tasks, needs bench but not the codecs
        remote = pickle.dumps(replace(run.job, lock=None))
        future = self.client.submit(run_remote, remote, run.index, data, digest, self.channel, pure=False,
                                    key=f"bench-{run.job.codec.name}-{run.job.seq.name}-{uuid.uuid4().hex[:8]}")
        self.running[future] = run

    def sequence(self, seq: PreparedSequence):
        """The future of the prepared sequence's bytes on the cluster (scattered again if lost)."""
        have = self.sequences.get(seq.key)
        if have is None or have[0].status != "finished":
            raw = seq.yuv.read_bytes()
            self.sequences[seq.key] = (self.client.scatter(raw, hash=False), hashlib.sha256(raw).hexdigest())
        return self.sequences[seq.key]

    def publish(self, index: int) -> None:
        """Tell the job what the store knows: its targets' statuses and the codec's probes."""
        from distributed import Variable

        job = self.jobs[index]
        state = {"status": self.store.status_of(job.keys),
                 "probes": self.store.probes(identity_hash(job.codec_config), job.seq.key)}
        Variable(f"{self.channel}-{index}", client=self.client).set(pickle.dumps(state))

    def wait(self) -> None:
        from distributed import Variable

        while self.running:
            self.receive(POLL_S)
            for future in [f for f in self.running if f.done()]:
                self.receive(0)  # what the job sent before it ended
                run = self.running.pop(future)
                try:
                    report = future.result()
                except Exception as exc:  # noqa: BLE001 - the worker died, or the job broke
                    if self.retry(run, exc):
                        continue
                    report = self.lost(run, exc)
                run.locks.close()
                Variable(f"{self.channel}-{run.index}", client=self.client).delete()
                self.reports.append(self.settle(run, report))

    def settle(self, run: _Running, report: JobReport) -> JobReport:
        """The job's report as the client saw it: every row that came back, over all its attempts;
        the rest of its targets were stored by another process meanwhile."""
        got = self.arrived[run.index]
        report.statuses = list(got.values())
        report.found_done = len(run.job.targets) - len(got)
        self.bar.update(report.found_done)
        return report

    def retry(self, run: _Running, exc: Exception) -> bool:
        from distributed import KilledWorker
        from distributed.client import FutureCancelledError

        if not isinstance(exc, (FutureCancelledError, KilledWorker)) or run.attempt >= ATTEMPTS:
            return False
        run.attempt += 1
        try:
            self.client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)  # a nanny restarting its worker
            self.submit(run)
        except Exception:  # noqa: BLE001 - no worker left to take it: its targets are lost
            return False
        return True

    def lost(self, run: _Running, exc: Exception) -> JobReport:
        """Store the job's targets that did not come back as ``failed``, with the reason."""
        from distributed import KilledWorker
        from distributed.client import FutureCancelledError

        job = run.job
        why = "worker lost" if isinstance(exc, (FutureCancelledError, KilledWorker)) else "job failed"
        error = f"{why} ({run.attempt} attempts): {type(exc).__name__}: {exc}"
        got = self.arrived[run.index]
        stored = self.store.status_of(job.keys)
        for t, k in zip(job.targets, job.keys):
            if k not in got and stored.get(k) not in job.done:
                self.store.put_result(job.row(t, k, status="failed", error=error))
                got[k] = "failed"
                self.bar.update(1)
        return JobReport(job.codec.name, job.seq.name, [], [], 0.0, 0.0,
                         [f"{job.codec.name} on {job.seq.name}: {error}"], index=run.index)

    def receive(self, timeout: float) -> None:
        """Store every message the jobs sent, first sleeping ``timeout`` seconds unless a job has ended.
        (Polling: waiting on the queue logs each time-out as a scheduler error, and ``distributed.wait``
        for the first of several futures can break the client's bookkeeping of a finished one.)"""
        if timeout and not any(f.done() for f in self.running):
            time.sleep(timeout)
        for m in self.queue.get(batch=True):
            self.store_message(pickle.loads(m))

    def store_message(self, m: dict) -> None:
        if "probe" in m:
            self.store.put_probe(*m["probe"])
            return
        row = m["row"]
        if m["bitstream"] is not None:
            atomic_write(row.bitstream, m["bitstream"])
        self.store.put_result(row)
        got = self.arrived[m["job"]]
        if row.key not in got:  # not the same target again, from an attempt on a worker since lost
            self.bar.update(1)
            self.bar.set_postfix_str(f"{row.codec}/{row.sequence}")
        got[row.key] = row.status
        self.publish(m["job"])


# --- on the worker -------------------------------------------------------------------------------
class Collector:
    """A job's sink on a worker: sends its probes and rows (with the kept bitstream's bytes) to the
    client, and reads what the store knows from the variable the client keeps current."""

    def __init__(self, channel: str, index: int):
        from distributed import Queue, Variable

        self.queue = Queue(channel)
        self.state = Variable(f"{channel}-{index}")
        self.index = index
        self.kept: dict[str, bytes] = {}

    def _known(self) -> dict:
        return pickle.loads(self.state.get(timeout=60))

    def status_of(self, keys: list[str]) -> dict[str, str]:
        status = self._known()["status"]
        return {k: status[k] for k in keys if k in status}

    def probes(self, codec_key: str, sequence_key: str) -> dict[float, float]:
        return self._known()["probes"]

    def put_probe(self, codec_key: str, sequence_key: str, knob: float, bits: int, bpp: float,
                  encode_s: float) -> None:
        self.queue.put(pickle.dumps({"job": self.index, "probe": (codec_key, sequence_key, knob, bits, bpp,
                                                                  encode_s)}))

    def keep(self, src: Path, dst: Path) -> None:
        self.kept[str(dst)] = Path(src).read_bytes()

    def put_result(self, row) -> None:
        data = self.kept.pop(row.bitstream, None) if row.bitstream else None
        self.queue.put(pickle.dumps({"job": self.index, "row": row, "bitstream": data}))

    def close(self) -> None:
        self.kept.clear()


def run_remote(pickled_job: bytes, index: int, data: bytes, sha256: str, channel: str) -> JobReport:
    """One job on a worker: check the codec and metrics, write the sequence locally, run the targets."""
    from distributed import get_worker

    job: Job = pickle.loads(pickled_job)
    worker = get_worker()
    here = environment.process()
    job.worker = {**here, "address": worker.address, "environment": environment.describe()}
    job.sink = Collector(channel, index)
    problem = missing_here(job)
    if problem:
        error = f"{problem} (on worker {here['host']}, pid {here['pid']})"
        have = job.sink.status_of(job.keys)  # an earlier attempt's, on another worker
        for t, k in zip(job.targets, job.keys):
            if have.get(k) not in job.done:
                job.sink.put_result(job.row(t, k, status="failed", error=error))
        return JobReport(job.codec.name, job.seq.name, [], [], 0.0, 0.0,
                         [f"{job.codec.name} on {job.seq.name}: {error}"], index=index)
    heap_for_frames()
    job.seq = local_sequence(job.seq, data, sha256, Path(worker.local_directory) / "sequences")
    job.torch_threads = max(1, (os.cpu_count() or 1) // max(1, worker.state.nthreads))
    return run_job(job, index)


def heap_for_frames() -> None:
    """Let glibc reuse freed frames again. A Dask nanny starts its worker with
    ``MALLOC_TRIM_THRESHOLD_`` set, which fixes glibc's mmap threshold at 128 kB: every frame array is
    then mapped and unmapped anew, and measuring takes about 3.5 times as long. Elsewhere: nothing."""
    import ctypes
    import ctypes.util

    if "MALLOC_TRIM_THRESHOLD_" not in os.environ:
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-3, 64 << 20)  # M_MMAP_THRESHOLD: arrays under 64 MB come from the heap
        libc.mallopt(-1, 128 << 20)  # M_TRIM_THRESHOLD: keep up to 128 MB of freed heap
    except (OSError, AttributeError):
        pass


def missing_here(job: Job) -> str | None:
    """What this machine lacks for ``job`` (its codec, the codec's version, a metric's weights), or None."""
    codec = job.codec
    try:
        codec.check_available()
        config = codec.config()
    except BenchError as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - an adapter's bug here is still one line
        return f"codec {codec.name}: {type(exc).__name__}: {exc}"
    if identity_hash(config) != identity_hash(job.codec_config):
        return (f"codec {codec.name}: version {config['version']!r} here differs from the client's "
                f"{job.codec_config['version']!r}")
    for name in job.metrics:
        try:
            create_metric(name, device=job.device)
        except Exception as exc:  # noqa: BLE001 - a missing package or weight file: one line
            return f"metric {name}: {exc}"
    return None


def local_sequence(seq: PreparedSequence, data: bytes, sha256: str, folder: Path) -> PreparedSequence:
    """``seq`` with its frames in ``folder`` (written once per worker from the scattered ``data``)."""
    path = cached_yuv(folder, seq.name, seq.format, seq.fps, seq.key)

    def write(tmp: Path) -> None:
        if hashlib.sha256(data).hexdigest() != sha256:
            raise BenchError(f"sequence {seq.name}: the bytes received differ from the client's (SHA-256)")
        tmp.write_bytes(data)

    make_once(path, write)
    return replace(seq, yuv=path)
