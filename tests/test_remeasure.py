"""Adding a metric to stored results: the same `bench run` with one more metric encodes nothing,
re-decodes the kept bitstreams and adds the metric to every stored row."""
import os
import stat
import subprocess
import sys

import pytest

from bench.results.store import Store
from bench.run.sweep import SweepConfig, sweep
from bench.tools import ffmpeg_exe

pytestmark = pytest.mark.slow

ARGS = ["--suite", "demo", "--sequences", "carphone", "--codecs", "x264,x265", "--bpp", "0.03,0.06",
        "--frames", "4", "--jobs", "1", "--no-progress"]


def rows(path):
    with Store(path, readonly=True) as s:
        return {(r.codec, r.target_bpp): r for r in s.results()}


def logging_ffmpeg(tmp_path):
    """An ffmpeg that writes each command line to a log, then runs the real one."""
    log = tmp_path / "ffmpeg.log"
    script = tmp_path / "ffmpeg"
    script.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec {ffmpeg_exe()} "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script, log


def test_one_more_metric_encodes_nothing_and_equals_a_fresh_run(tmp_path):
    store, fresh = tmp_path / "r.sqlite", tmp_path / "fresh.sqlite"
    bench = [sys.executable, "-m", "bench.cli", "run", *ARGS]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    first = subprocess.run([*bench, "--metrics", "psnr", "--store", str(store)], env=env, capture_output=True,
                           text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    before = rows(store)
    with Store(store, readonly=True) as s:
        probes = s._conn.execute("SELECT COUNT(*) FROM probes").fetchone()[0]
    ffmpeg, log = logging_ffmpeg(tmp_path)
    again = subprocess.run([*bench, "--metrics", "psnr,lpips,tlp", "--store", str(store)], capture_output=True,
                           text=True, timeout=600, env={**env, "BENCH_FFMPEG": str(ffmpeg)})
    assert again.returncode == 0, again.stderr
    assert "4 of 4 results already stored: skipped" in again.stderr
    assert "4 stored results lack lpips, tlp: measuring them from their kept bitstreams" in again.stderr
    calls = log.read_text().splitlines()
    assert calls and not [c for c in calls if "libx264" in c or "libx265" in c]  # decodes only, no encoder
    with Store(store, readonly=True) as s:
        assert s._conn.execute("SELECT COUNT(*) FROM probes").fetchone()[0] == probes
    after = rows(store)
    sweep(SweepConfig(suite="demo", sequences=["carphone"], codecs=["x264", "x265"], targets=[0.03, 0.06],
                      frames=4, backend="sequential", progress=False, store=fresh, metrics=["psnr", "lpips", "tlp"]),
          log=lambda m: None)
    ref = rows(fresh)
    assert after.keys() == ref.keys() == before.keys()
    for k, row in after.items():
        old = before[k]
        # the other values are untouched, the new ones are a fresh run's
        for col in ("key", "bits", "bpp", "knob", "encode_s", "metrics_s", "bitstream", "created", "run_id"):
            assert getattr(row, col) == getattr(old, col)
        assert row.metrics["psnr_y"] == old.metrics["psnr_y"]
        for out in ("lpips", "tlp"):
            assert row.metrics[out] == pytest.approx(ref[k].metrics[out], abs=1e-6)
            assert row.per_frame[out][1:] == pytest.approx(ref[k].per_frame[out][1:], abs=1e-6)
        assert row.config["metrics"] == ["psnr", "lpips", "tlp"] and "lpips" in row.config["metric_info"]
        assert row.config["remeasured"][0]["metrics"] == ["lpips", "tlp"]
    third = subprocess.run([*bench, "--metrics", "psnr,lpips", "--store", str(store)], env=env,
                           capture_output=True, text=True, timeout=600)
    assert third.returncode == 0 and "lack" not in third.stderr


def test_a_result_without_its_bitstream_keeps_its_row_and_says_why(tmp_path):
    cfg = SweepConfig(suite="demo", sequences=["carphone"], codecs=["x264"], targets=[0.03], frames=4,
                      backend="sequential", progress=False, store=tmp_path / "r.sqlite", metrics=["psnr"],
                      keep_bitstreams=False)
    sweep(cfg, log=lambda m: None)
    cfg.metrics = ["psnr", "lpips"]
    lines = []
    sweep(cfg, log=lines.append)
    assert any("kept without the new metrics: no bitstream kept for this result" in ln for ln in lines)
    (row,) = rows(cfg.store).values()
    assert "lpips" not in row.metrics


def test_the_report_says_which_command_adds_a_metric_some_results_lack(tmp_path):
    from bench.report.text import text_report

    cfg = SweepConfig(suite="demo", sequences=["carphone"], codecs=["x264"], targets=[0.03, 0.06], frames=4,
                      backend="sequential", progress=False, store=tmp_path / "r.sqlite", metrics=["psnr"])
    sweep(cfg, log=lambda m: None)
    assert "lack" not in text_report(cfg.store)
    first = next(iter(rows(cfg.store).values()))
    with Store(cfg.store) as s:
        s.add_metrics(first.key, {"lpips": 0.25}, {"lpips": [0.25] * 4}, {"lpips": {}}, {"metrics": ["lpips"]})
    assert ("note: 1 of 2 results lack lpips: run their sweep again with `--metrics lpips,psnr`"
            in text_report(cfg.store))
