"""Several bench processes on one store and one dataset cache at the same time: no corruption, no
lost row, no traceback.

The failure this guards against: ``bench run`` holds an SQLite connection to the store while each
job opens one of its own; opening a store used to read the file's header with ``open()`` and
``close()``, which drops every POSIX lock the process holds on the file, so another process closing
its last connection deleted the WAL under the first (rows lost, "disk I/O error", "database disk
image is malformed")."""
import os
import re
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from bench.files import make_once
from bench.results.row import ResultRow
from bench.results.store import Store
from bench.suites import get_suite
from bench.suites.sequences import SequenceOptions, prepare
from bench.video import Frame, write_video
from bench.video.color import rgb_to_yuv420

ROOT = Path(__file__).resolve().parents[1]


def _row(key: str) -> ResultRow:
    return ResultRow(key=key, status="ok", codec="c", sequence="s", target_bpp=0.01, bits=8, bpp=0.01,
                     metrics={"psnr_y": 30.0})


def _other_process(code: str, store: Path) -> None:
    """Run ``code`` (with ``store`` and ``Store``, ``_row`` in scope) in another Python process."""
    prog = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(Path(__file__).parent)!r})
        from pathlib import Path
        from bench.results.store import Store
        from test_concurrency import _row
        store = Path({str(store)!r})
    """) + textwrap.dedent(code)
    subprocess.run([sys.executable, "-c", prog], check=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_a_second_connection_in_a_process_keeps_the_first_ones_locks(tmp_path):
    """What ``bench run --jobs 1`` does: the sweep's connection stays open while a job opens the store
    again in the same process. Another process then closes its last connection: it must not take
    itself for the last user (checkpoint, delete the WAL) while this process still writes."""
    path = tmp_path / "results.sqlite"
    sweep = Store(path)
    sweep.put_result(_row("first"))
    job = Store(path)  # the job's own connection, same process
    _other_process("s = Store(store); s.put_result(_row('other-1')); s.close()", path)
    assert path.with_name(path.name + "-wal").exists(), "another process deleted the WAL this process uses"
    job.put_result(_row("job"))
    _other_process("s = Store(store); s.put_result(_row('other-2')); s.close()", path)
    job.put_result(_row("job-2"))
    job.close()
    sweep.close()
    with Store(path, readonly=True) as s:
        assert s.integrity_ok()
        assert sorted(r.key for r in s.results()) == ["first", "job", "job-2", "other-1", "other-2"]


def test_the_store_file_is_opened_through_sqlite_only(tmp_path, monkeypatch):
    """No ``open()`` of the store's file by Python while a connection may be held."""
    import builtins

    path = tmp_path / "results.sqlite"
    Store(path).close()
    real_open, opened = builtins.open, []

    def spy(file, *args, **kwargs):
        if Path(str(file)).resolve() == path.resolve():
            opened.append(file)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy)
    with Store(path) as a, Store(path) as b, Store(path, readonly=True) as c:
        a.put_result(_row("x"))
        assert [r.key for r in b.results()] == ["x"] and [r.key for r in c.results()] == ["x"]
    assert not opened


def test_a_reader_before_the_first_writer_sees_an_empty_store(tmp_path):
    path = tmp_path / "results.sqlite"
    path.touch()  # what a reader may find while the first `bench run` creates the store
    with Store(path, readonly=True) as s:
        assert s.results() == [] and s.runs() == []


def _clips(folder: Path, n: int, w: int = 64, h: int = 48, frames: int = 3) -> None:
    """``n`` small synthetic clips (moving gradients), each its own sequence of a folder suite."""
    folder.mkdir(parents=True, exist_ok=True)
    yy, xx = np.mgrid[0:h, 0:w] / max(w, h)
    for k in range(n):
        out = []
        for t in range(frames):
            rgb = np.stack([(xx * (k + 1) + yy * c + t / 10) % 1 for c in range(3)], -1)
            out.append(Frame(*rgb_to_yuv420(rgb), bit_depth=8))
        write_video(folder / f"clip{k}.y4m", out, fps=25)


def test_concurrent_preparers_make_one_file(tmp_path):
    """Several threads preparing the same sequence into the same cache: one conversion, one file."""
    _clips(tmp_path / "suite", 1, frames=5)
    (seq,) = get_suite(str(tmp_path / "suite")).sequences
    cache = tmp_path / "cache"
    results, errors = [], []

    def worker():
        try:
            results.append(prepare(seq, SequenceOptions(frames=4), cache))
        except Exception as exc:  # noqa: BLE001 - collected and failed below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len({r.yuv for r in results}) == 1 and results[0].num_frames == 4
    assert [p.name for p in cache.iterdir() if not p.name.startswith(".")] == [results[0].yuv.name]


def test_make_once_waits_for_the_first_maker(tmp_path):
    dest, calls = tmp_path / "out.bin", []

    def slow(tmp: Path) -> None:
        calls.append(1)
        time.sleep(0.3)
        tmp.write_bytes(b"made")

    threads = [threading.Thread(target=make_once, args=(dest, slow)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert dest.read_bytes() == b"made" and len(calls) == 1
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == ["out.bin"]


CODECS = ["x264", "x265", "vvenc", "svt-av1", "aom-av1"]
TARGETS = ["0.1", "0.3"]


def _bench(args: list[str], env: dict, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bench.cli", *args], env=env, cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _stored(store: Path) -> int:
    try:
        with Store(store, readonly=True) as s:
            return len(s.results())
    except Exception:  # noqa: BLE001 - not there yet
        return 0


def _env(root: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BENCH_DATA_DIR": str(root / "datasets"),
           "BENCH_REPORTS_DIR": str(root / "reports")}
    env.pop("BENCH_STORE", None)
    return env


def _finished(procs: dict[str, subprocess.Popen], where: str) -> None:
    """Every process ended with 0 or 3 and printed no traceback."""
    for name, p in procs.items():
        out, err = p.communicate(timeout=600)
        assert p.returncode in (0, 3), f"{where}, {name}: exit {p.returncode}\n{err[-3000:]}"
        assert "Traceback" not in err, f"{where}, {name}:\n{err[-3000:]}"


@pytest.mark.slow
def test_parallel_runs_and_reports_on_one_store(tmp_path):
    """Five `bench run`s (one codec each, same suite, same store, same dataset cache), started a
    little apart, and a `bench report` and a `bench results` while they write; three rounds (it is a
    race). Every process ends with 0 or 3 and no traceback, the store passes PRAGMA integrity_check,
    and every planned row is there once."""
    n_clips = 3
    _clips(tmp_path / "suite", n_clips)
    for attempt in range(3):
        root = tmp_path / f"round{attempt}"
        root.mkdir()
        env, store = _env(root), root / "reports" / "results.sqlite"
        procs = {}
        for i, codec in enumerate(CODECS):
            procs[codec] = _bench(["run", "--suite", str(tmp_path / "suite"), "--codecs", codec, "--bpp",
                                   ",".join(TARGETS), "--metrics", "psnr", "--jobs", "1", "--no-progress"], env, root)
            time.sleep(0.3 * i)
        while any(p.poll() is None for p in procs.values()) and "report" not in procs:
            if _stored(store):  # a report while the runs write
                procs["report"] = _bench(["report", "--no-gifs"], env, root)
                procs["results"] = _bench(["results", "--format", "csv"], env, root)
            time.sleep(0.3)
        _finished(procs, f"round {attempt}")
        con = sqlite3.connect(store)
        try:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            got = con.execute("SELECT codec, sequence, target_bpp, count(*) FROM results "
                              "GROUP BY codec, sequence, target_bpp").fetchall()
        finally:
            con.close()
        want = {(c, f"clip{k}", float(t)) for c in CODECS for k in range(n_clips) for t in TARGETS}
        assert {g[:3] for g in got} == want and all(g[3] == 1 for g in got), f"round {attempt}"


@pytest.mark.slow
def test_same_codec_twice_at_once_does_each_target_once_and_reports_share_gifs(tmp_path):
    """Two identical `bench run`s at once: one does each (codec, sequence) job, the other waits for
    it and finds its targets stored. Then two `bench report`s into one folder at once: each GIF is
    made once (the second report waits for it and reuses it), every file whole."""
    _clips(tmp_path / "suite", 1)
    env, store = _env(tmp_path), tmp_path / "reports" / "results.sqlite"
    run = ["run", "--suite", str(tmp_path / "suite"), "--codecs", "x264", "--bpp", "0.1,0.3", "--metrics", "psnr",
           "--jobs", "1", "--no-progress"]
    procs = {"first": _bench(run, env, tmp_path), "second": _bench(run, env, tmp_path)}
    outs = {name: p.communicate(timeout=600) for name, p in procs.items()}
    for name, p in procs.items():
        assert p.returncode == 0 and "Traceback" not in outs[name][1], outs[name][1]
    with Store(store, readonly=True) as s:
        rows = s.results()
    assert len(rows) == 2 and len({r.run_id for r in rows}) == 1  # one run did both targets
    assert sum("2 already stored" in out for out, _ in outs.values()) == 1
    html = tmp_path / "html"
    reports = {f"report {i}": _bench(["report", "-o", str(html), "--gif-frames", "2"], env, tmp_path)
               for i in range(2)}
    errs = {name: p.communicate(timeout=600)[1] for name, p in reports.items()}
    made = 0
    for name, p in reports.items():
        assert p.returncode == 0 and "Traceback" not in errs[name], errs[name]
        made += int(re.search(r"report: (\d+) GIFs made", errs[name]).group(1))
    assert made == len(list((html / "media" / "gif").glob("*.gif"))) == 4  # each made by one report only
    assert not [p for p in html.rglob("*") if ".part" in p.name]
