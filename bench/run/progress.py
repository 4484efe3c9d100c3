"""A sweep's progress bar, by target, whatever runs the jobs (in-process, local processes, Dask).

The bar does not wait for a whole (codec, sequence) job to end: a thread of the main process polls
the store (read-only, which never blocks the writers) for the rows of the sweep's targets, and the
bar moves as each target is stored. Each job says what it is working on in a one-line file beside
its lock file (:func:`announce`; the lock folder is beside the store, so Dask workers that share the
store share it too), and the bar shows the latest: ``x265/bikes 0.004 bpp``.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

from ..files import atomic_write
from ..results.store import Store

POLL_S = 0.5  # seconds between polls of the store; BENCH_PROGRESS_POLL_S overrides it


def poll_interval() -> float:
    try:
        return max(0.01, float(os.environ.get("BENCH_PROGRESS_POLL_S", POLL_S)))
    except ValueError:
        return POLL_S


def announcement(lock: Path) -> Path:
    return lock.with_suffix(".now")


def announce(lock: Path | None, what: str | None) -> None:
    """Say that the job holding ``lock`` works on ``what`` now (None: it has ended)."""
    if lock is None:
        return
    try:
        if what is None:
            announcement(lock).unlink(missing_ok=True)
        else:
            atomic_write(announcement(lock), what)
    except OSError:  # progress is never worth a failed job
        pass


class TargetProgress:
    """Moves ``bar`` as the targets of ``jobs`` are stored (by this run, or found done), from a
    polling thread (:meth:`start`, :meth:`stop`)."""

    def __init__(self, jobs: list, bar, interval: float | None = None):
        self.jobs, self.bar = jobs, bar
        self.interval = poll_interval() if interval is None else interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-progress", daemon=True)

    def start(self) -> "TargetProgress":
        if self.jobs and not self.bar.disable:
            self._thread.start()
        return self

    def stop(self) -> None:
        """A last poll, then the thread ends."""
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join()

    def _run(self) -> None:
        store = None
        try:
            while True:
                stopping = self._stop.wait(self.interval)
                if store is None and Path(self.jobs[0].store_path).exists():
                    store = Store(self.jobs[0].store_path, readonly=True)
                if store is not None:
                    self.poll(store)
                if stopping:
                    return
        except Exception:  # noqa: BLE001 - a broken progress bar must not stop the sweep
            return
        finally:
            if store is not None:
                store.close()

    def poll(self, store: Store) -> None:
        finished = 0
        for job in self.jobs:
            have = store.rows_of(job.keys)
            finished += sum(1 for run_id, status in have.values() if run_id == job.run_id or status in job.done)
        if finished != self.bar.n:
            self.bar.update(finished - self.bar.n)
        now = self._latest()
        if now:
            self.bar.set_postfix_str(now, refresh=False)
        self.bar.refresh()

    def _latest(self) -> str | None:
        files = []
        for job in self.jobs:
            if job.lock is not None:
                try:
                    p = announcement(job.lock)
                    files.append((p.stat().st_mtime, p))
                except OSError:
                    continue
        for _, p in sorted(files, reverse=True):
            try:
                return p.read_text()
            except OSError:
                continue
        return None
