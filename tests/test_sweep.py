"""The runner end to end on real codecs and real clips: storing, resuming, failures, Dask."""
import os
import signal
import subprocess
import sys
import time

import pytest

from bench.results.store import Store
from bench.run.sweep import SweepConfig, sweep

pytestmark = pytest.mark.slow


def small(tmp_path, **kw):
    base = dict(suite="demo", sequences=["carphone"], codecs=["x264"], targets=[0.03, 0.06], frames=4,
                fps_step=1, jobs=1, backend="sequential", progress=False, store=tmp_path / "r.sqlite",
                metrics=["psnr"])
    base.update(kw)
    return SweepConfig(**base)


def rows(path):
    with Store(path, readonly=True) as s:
        return s.results()


def test_sweep_stores_full_rows_and_resume_skips(tmp_path):
    cfg = small(tmp_path)
    s1 = sweep(cfg, log=lambda m: None)
    assert s1.skipped == 0 and sum(s1.statuses.values()) == 2
    r = rows(cfg.store)
    assert len(r) == 2
    row = r[0]
    assert row["bits"] == os.path.getsize(row["bitstream"]) * 8  # real file size
    assert row["bpp"] == pytest.approx(row["bits"] / (176 * 144 * 4))
    assert "libx264" in row["encode_cmd"] and row["config"]["codec"]["options"]["preset"] == "medium"
    assert len(row["per_frame"]["psnr_y"]) == 4 and row["metrics"]["psnr_y"] > 10
    assert row["status"] in ("ok", "unreachable") and row["encode_s"] > 0
    s2 = sweep(cfg, log=lambda m: None)
    assert s2.skipped == 2 and not s2.statuses
    cfg3 = small(tmp_path, targets=[0.03, 0.06, 0.045])
    s3 = sweep(cfg3, log=lambda m: None)
    assert s3.skipped == 2 and sum(s3.statuses.values()) == 1
    assert s3.encodes_per_target <= 2  # probes reused from the store


def test_codec_crash_is_recorded_and_sweep_goes_on(tmp_path):
    # a real ffmpeg failure: libx264 refuses an unknown preset
    cfg = small(tmp_path, codecs=["x264", "x265"], codec_options={"x264": {"preset": "no-such-preset"}})
    s = sweep(cfg, log=lambda m: None)
    by = {(r["codec"], r["status"]) for r in rows(cfg.store)}
    assert ("x264", "failed") in by and any(c == "x265" and st != "failed" for c, st in by)
    failed = [r for r in rows(cfg.store) if r["status"] == "failed"]
    assert "x264 encode failed" in failed[0]["error"] and failed[0]["log"]
    assert s.statuses["failed"] == 2


def test_timeout_becomes_failure(tmp_path):
    cfg = small(tmp_path, codecs=["aom-av1"], codec_options={"aom-av1": {"preset": "0"}}, sequences=["bigbuckbunny"],
                frames=15, timeout=0.5, targets=[0.01])
    sweep(cfg, log=lambda m: None)
    (r,) = rows(cfg.store)
    assert r["status"] == "failed" and "timed out" in r["error"]


def test_unavailable_codec_fails_one_line_and_rest_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_FFMPEG", str(tmp_path / "missing-ffmpeg"))
    from bench import tools

    tools.ffmpeg_exe.cache_clear()
    tools.ffmpeg_encoders.cache_clear()
    try:
        with pytest.raises(Exception, match="missing-ffmpeg"):
            sweep(small(tmp_path), log=lambda m: None)
    finally:
        monkeypatch.delenv("BENCH_FFMPEG")
        tools.ffmpeg_exe.cache_clear()
        tools.ffmpeg_encoders.cache_clear()


def _killed_when(cmd, store, rows_stored: int) -> None:
    """Start ``cmd`` in its own process group and kill -9 the whole group once ``rows_stored`` rows
    are stored (0: as soon as the store exists)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if store.exists():
            try:
                with Store(store, readonly=True) as s:
                    n = len(s.results())
            except Exception:  # noqa: BLE001 - the file may be being created
                n = -1
            if n >= rows_stored:
                break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def test_kill_9_loses_nothing_stored(tmp_path):
    """kill -9 of a sweep with two worker processes, early (while it prepares and starts) and later
    (rows stored): the store stays whole, nothing stored is lost, and the same command finishes."""
    store = tmp_path / "k.sqlite"
    cmd = [sys.executable, "-m", "bench.cli", "run", "--suite", "demo", "--sequences", "bigbuckbunny,bikes",
           "--codecs", "vvenc,x265", "--bpp", "0.01,0.02,0.04,0.08", "--frames", "8", "--fps-step", "1",
           "--metrics", "psnr", "--jobs", "2", "--no-progress", "--store", str(store)]
    _killed_when(cmd, store, 0)
    _killed_when(cmd, store, 2)
    with Store(store) as s:
        assert s.integrity_ok()
        kept = {r["key"]: r for r in s.results()}
    assert len(kept) >= 2 and all(r["status"] for r in kept.values())
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode in (0, 3), done.stderr
    assert f"{len(kept)} already stored" in done.stdout
    with Store(store) as s:
        after = {r["key"]: r for r in s.results()}
        assert s.integrity_ok()
    assert len(after) == 16
    for k, r in kept.items():
        assert after[k]["bits"] == r["bits"] and after[k]["created"] == r["created"]


def test_a_hanging_codec_is_ended_with_its_process_group_and_stored_as_failed(tmp_path):
    """A codec whose tool hangs (and has started a child that hangs too) is killed at the target's
    deadline, child included, and its row is `failed`."""
    from bench.codecs.agreement import tiny_clip
    from bench.codecs.base import Codec, Knob
    from bench.run.runner import Job, run_job
    from bench.tools import run_tool

    pids = tmp_path / "pids"

    class Hang(Codec):
        name, knob = "hang", Knob("q", 0, 10, start=5)

        def version(self):
            return "1"

        def check_available(self):
            pass

        def encode(self, seq, knob, workdir, deadline=None):
            child = "import time; time.sleep(600)"
            run_tool([sys.executable, "-c", f"import os, subprocess, sys, time; c = subprocess.Popen([sys.executable, "
                                            f"'-c', {child!r}]); open({str(pids)!r}, 'w').write(f'{{os.getpid()}} "
                                            f"{{c.pid}}'); time.sleep(600)"], deadline=deadline, what="hang encode")

        def decode(self, bitstream, seq, workdir, deadline=None):
            raise AssertionError("never reached")

    codec = Hang()
    t0 = time.monotonic()
    run_job(Job(codec, codec.config(), tiny_clip(tmp_path), [0.01], ["k"], ["psnr"], tmp_path / "s.sqlite", "run",
                3.0, None))
    assert time.monotonic() - t0 < 30
    (row,) = rows(tmp_path / "s.sqlite")
    assert row["status"] == "failed" and "hang encode: timed out" in row["error"]
    for pid in map(int, pids.read_text().split()):
        deadline = time.time() + 5
        while time.time() < deadline and _alive(pid):
            time.sleep(0.05)
        assert not _alive(pid), f"process {pid} of the hanging codec is still running"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"  # a zombie is dead, not yet reaped
    except FileNotFoundError:
        return False


def test_dask_local_cluster_runs_the_same_jobs(tmp_path):
    pytest.importorskip("distributed")
    cfg = small(tmp_path, codecs=["x264", "x265"], backend="dask", jobs=2)
    s = sweep(cfg, log=lambda m: None)
    assert sum(s.statuses.values()) == 4 and "failed" not in s.statuses
    assert {r["codec"] for r in rows(cfg.store)} == {"x264", "x265"}
    assert all(r["config"]["worker"]["pid"] != os.getpid() for r in rows(cfg.store))  # in the workers


def test_loky_processes(tmp_path):
    cfg = small(tmp_path, codecs=["x264", "x265"], backend="loky", jobs=2)
    s = sweep(cfg, log=lambda m: None)
    assert sum(s.statuses.values()) == 4 and "failed" not in s.statuses
