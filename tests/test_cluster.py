"""Sweeps on a real Dask scheduler and real workers (``dask scheduler`` / ``dask worker`` processes on
127.0.0.1): the jobs run in the workers, which cannot read the client's folders; the client stores
every row and kept bitstream; a worker killed with -9 mid-job loses nothing that came back."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import bench
from bench.results.store import Store
from bench.run import cluster as cluster_module
from bench.run.sweep import SweepConfig, sweep

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.slow
PROJECT = Path(bench.__file__).resolve().parents[1]
START_S = 60


def _can_hide_folders(folder: Path) -> bool:
    """Whether a process may get its own mount namespace here (root, or unprivileged user namespaces)."""
    for cmd in (["unshare", "-m"], ["unshare", "-rm"]):
        try:
            done = subprocess.run(cmd + ["sh", "-c", f"mount -t tmpfs none {folder}"], capture_output=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:
            return True
    return False


class Cluster:
    """A scheduler and workers in processes of their own; ``hidden`` folders a worker cannot read."""

    def __init__(self, root: Path):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.file = root / "scheduler.json"
        self.procs = []
        self.logs = []
        self._start(["dask", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                     "--scheduler-file", str(self.file)], "scheduler", env=client_env())  # it unpickles jobs
        deadline = time.time() + START_S
        while not self.file.exists() and time.time() < deadline:
            time.sleep(0.1)
        self.address = json.loads(self.file.read_text())["address"]

    def _start(self, cmd, name, **kw):
        log = open(self.root / f"{name}-{len(self.procs)}.log", "w")
        self.logs.append(log)
        self.procs.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **kw))

    def add_worker(self, hidden: tuple[Path, ...] = (), env: dict | None = None, path: Path | None = None) -> None:
        """A single-threaded worker whose working directory, data folders and copy of bench are its
        own; the ``hidden`` folders are empty to it (a mount namespace of its own), or, where this
        machine allows no mount namespace, an audit hook refuses every open of a path under them."""
        home = self.root / f"worker{len(self.procs)}"
        shutil.copytree(PROJECT / "bench", home / "site" / "bench", ignore=shutil.ignore_patterns("__pycache__"))
        site = str(home / "site") + (f"{os.pathsep}{path}" if path else "")
        env = {**os.environ, "PYTHONPATH": site, "BENCH_DATA_DIR": str(home / "datasets"),
               "BENCH_REPORTS_DIR": str(home / "reports"), "BENCH_CACHE_DIR": str(home / "cache"), **(env or {})}
        cmd = ["dask", "worker", "--scheduler-file", str(self.file), "--nthreads", "1", "--no-dashboard",
               "--host", "127.0.0.1", "--local-directory", str(home / "dask")]
        if hidden and _can_hide_folders(self.root):
            mounts = " && ".join(f"mount -t tmpfs none {h}" for h in hidden)
            cmd = ["unshare", "-m", "sh", "-c", f"{mounts} && cd {home} && exec {' '.join(cmd)}"]
        elif hidden:
            guard = home / "deny_client_folders.py"
            guard.write_text(GUARD.format(hidden=[str(h) for h in hidden]))
            cmd += ["--preload", str(guard)]
        home.mkdir(exist_ok=True)
        self._start(cmd, "worker", env=env, cwd=home)

    def client(self, workers: int):
        c = distributed.Client(self.address, timeout=START_S)
        c.wait_for_workers(workers, timeout=START_S)
        return c

    def close(self):
        for p in reversed(self.procs):
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
        for log in self.logs:
            log.close()


GUARD = '''import sys
HIDDEN = {hidden!r}
def _deny(event, args):
    path = args[0] if event in ("open", "os.listdir", "os.scandir") and args else None
    if isinstance(path, str) and any(path.startswith(h) for h in HIDDEN):
        raise PermissionError("the client's folder: " + path)
sys.addaudithook(_deny)
'''


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(tmp_path / "cluster")
    yield c
    c.close()


def client_env() -> dict:
    return {**os.environ, "PYTHONPATH": str(PROJECT)}


def rows(path):
    with Store(path, readonly=True) as s:
        return s.results()


def test_a_sweep_runs_in_workers_that_cannot_read_the_clients_folders(tmp_path, cluster):
    client_dirs = (tmp_path / "datasets", tmp_path / "reports")  # the client's, from conftest's workspace
    for d in client_dirs:
        d.mkdir(parents=True, exist_ok=True)
    cluster.add_worker(hidden=(PROJECT, *client_dirs))
    store = tmp_path / "reports" / "results.sqlite"
    with cluster.client(1) as c:  # what the worker sees: not the store's folder, not the project's
        seen = c.run(lambda: (os.getpid(), os.path.exists(str(tmp_path / "reports")) and
                              len(os.listdir(str(tmp_path / "reports"))), __import__("bench").__file__))
    ((worker_pid, sees_reports, bench_file),) = seen.values()
    assert not sees_reports and not bench_file.startswith(str(PROJECT))

    cmd = [sys.executable, "-m", "bench.cli", "run", "--suite", "demo", "--sequences", "carphone",
           "--codecs", "x264", "--bpp", "0.05,0.1", "--frames", "3", "--metrics", "psnr", "--backend", "dask",
           "--scheduler", cluster.address, "--no-progress"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=client_env())
    assert proc.returncode == 0, proc.stderr[-2000:] + proc.stdout[-2000:]
    got = rows(store)
    assert len(got) == 2 and {r["status"] for r in got} <= {"ok", "unreachable"}
    from bench.report.reconstruct import prepared_source, redecode

    for r in got:
        assert r["config"]["worker"]["pid"] == worker_pid  # ran in the worker, not in `bench run`
        kept = Path(r["bitstream"])
        assert kept.parent == store.parent / "bitstreams" and kept.stat().st_size * 8 == r["bits"]
        back = redecode(r, prepared_source(r["config"]["sequence"]), store, tmp_path / "redecode")
        assert back.matches, (back.psnr_y, back.stored_psnr_y)
    with Store(store) as s:
        assert s.probes(got[0]["codec_key"], got[0]["sequence_key"])  # probes stored by the client
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=client_env())
    assert again.returncode == 0 and "2 already stored" in again.stdout


def test_a_client_killed_mid_sweep_keeps_what_came_back_and_the_rerun_does_the_rest(tmp_path, cluster):
    from test_sweep import _killed_when

    cluster.add_worker()
    with cluster.client(1):
        pass
    store = tmp_path / "c.sqlite"
    cmd = [sys.executable, "-m", "bench.cli", "run", "--suite", "demo", "--sequences", "carphone,bikes",
           "--codecs", "x264,x265", "--bpp", "0.02,0.04,0.08", "--frames", "3", "--metrics", "psnr",
           "--backend", "dask", "--scheduler", cluster.address, "--no-progress", "--store", str(store)]
    _killed_when(cmd, store, 2)
    with Store(store) as s:
        assert s.integrity_ok()
        kept = {r["key"]: r for r in s.results()}
    assert 2 <= len(kept) < 12
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=client_env())
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"{len(kept)} already stored" in done.stdout
    after = {r["key"]: r for r in rows(store)}
    assert len(after) == 12 and all(after[k]["created"] == r["created"] for k, r in kept.items())
    assert all(Path(r["bitstream"]).is_file() for r in after.values() if r["status"] != "failed")


SLOW_CODEC = '''import os, time
from pathlib import Path
from bench.codecs.ffmpeg_codecs import X264


class SlowX264(X264):
    """x264 whose first encode (on any worker) hangs until its worker is killed."""

    def encode(self, seq, knob, workdir, deadline=None):
        if not os.path.exists({marker!r}):
            Path({marker!r}).write_text(str(os.getpid()))
            time.sleep(120)
        return super().encode(seq, knob, workdir, deadline)
'''


def _sweep_killing_the_worker(tmp_path, cluster, monkeypatch):
    marker = tmp_path / "started"
    plugin = tmp_path / "plugin"  # a codec the client and the worker import (as an installed plugin)
    plugin.mkdir()
    (plugin / "bench_slow_codec.py").write_text(SLOW_CODEC.format(marker=str(marker)))
    monkeypatch.syspath_prepend(str(plugin))
    from bench_slow_codec import SlowX264

    monkeypatch.setattr("bench.run.sweep.create_codec", lambda name, **options: SlowX264(**options))
    cluster.add_worker(path=plugin)
    with cluster.client(1):
        pass
    cfg = SweepConfig(suite="demo", sequences=["carphone"], codecs=["x264"], targets=[0.05, 0.1], frames=3,
                      metrics=["psnr"], backend="dask", scheduler=cluster.address, progress=False,
                      store=tmp_path / "k.sqlite")
    import threading

    def kill():
        deadline = time.time() + START_S
        while not marker.exists() and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        os.kill(int(marker.read_text()), signal.SIGKILL)

    killer = threading.Thread(target=kill)
    killer.start()
    summary = sweep(cfg, log=lambda m: None)
    killer.join()
    with Store(cfg.store) as s:
        assert s.integrity_ok()
    return summary, rows(cfg.store), int(marker.read_text())


def test_a_worker_killed_mid_job_has_its_job_run_again(tmp_path, cluster, monkeypatch):
    _, got, killed = _sweep_killing_the_worker(tmp_path, cluster, monkeypatch)
    assert len(got) == 2 and {r["status"] for r in got} <= {"ok", "unreachable"}, [r["error"] for r in got]
    assert all(r["config"]["worker"]["pid"] != killed for r in got)  # the nanny's new worker process


def test_a_worker_killed_on_the_last_attempt_leaves_failed_rows_with_the_reason(tmp_path, cluster, monkeypatch):
    monkeypatch.setattr(cluster_module, "ATTEMPTS", 1)
    summary, got, _ = _sweep_killing_the_worker(tmp_path, cluster, monkeypatch)
    assert len(got) == 2 and {r["status"] for r in got} == {"failed"}
    assert all(r["error"].startswith("worker lost (1 attempts)") for r in got)
    assert summary.statuses == {"failed": 2}


def test_an_unreachable_scheduler_is_one_line_at_start(tmp_path):
    cmd = [sys.executable, "-m", "bench.cli", "run", "--suite", "demo", "--codecs", "x264", "--backend", "dask",
           "--scheduler", "tcp://127.0.0.1:9", "--store", str(tmp_path / "s.sqlite")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=client_env())
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("bench: error: --scheduler tcp://127.0.0.1:9: no Dask scheduler answers there")
    assert not (tmp_path / "s.sqlite").exists()


def test_a_codec_missing_on_the_worker_fails_its_targets_naming_the_worker(tmp_path, cluster):
    """The worker's ffmpeg is missing: its targets are `failed` with one line naming it and the worker."""
    cluster.add_worker(env={"BENCH_FFMPEG": str(tmp_path / "no-ffmpeg-here")})
    with cluster.client(1) as c:
        (worker_pid,) = c.run(os.getpid).values()
    cfg = SweepConfig(suite="demo", sequences=["carphone"], codecs=["x264"], targets=[0.05], frames=3,
                      metrics=["psnr"], backend="dask", scheduler=cluster.address, progress=False,
                      store=tmp_path / "m.sqlite")
    summary = sweep(cfg, log=lambda m: None)
    (row,) = rows(cfg.store)
    assert row["status"] == "failed" and "no-ffmpeg-here" in row["error"] and "\n" not in row["error"]
    assert row["error"].endswith(f", pid {worker_pid})") and "(on worker " in row["error"]
    assert summary.errors and "no-ffmpeg-here" in summary.errors[0]
