"""One store location for every command: `--store`, else $BENCH_STORE, else reports/results.sqlite;
kept bitstreams always beside the store, where re-decoding looks for them."""
import re
import shutil
from pathlib import Path

import pytest

from bench.cli import main
from bench.paths import store_location
from bench.results.store import Store


def test_store_location_decides_for_every_command(tmp_path, monkeypatch, workspace):
    assert store_location().path == workspace / "reports" / "results.sqlite"
    assert store_location().bitstreams == workspace / "reports" / "bitstreams"
    monkeypatch.setenv("BENCH_STORE", str(tmp_path / "elsewhere" / "mine.sqlite"))
    assert store_location().path == tmp_path / "elsewhere" / "mine.sqlite"
    assert store_location().bitstreams == tmp_path / "elsewhere" / "bitstreams"
    assert store_location(tmp_path / "given.sqlite").bitstreams == tmp_path / "bitstreams"  # --store wins


@pytest.mark.slow
def test_run_then_report_with_bench_store_elsewhere(tmp_path, monkeypatch, workspace, capsys):
    elsewhere = tmp_path / "elsewhere" / "mine.sqlite"
    monkeypatch.setenv("BENCH_STORE", str(elsewhere))
    assert main(["run", "--suite", "demo", "--sequences", "carphone", "--codecs", "x264", "--bpp", "0.05",
                 "--frames", "3", "--metrics", "psnr", "--jobs", "1", "--no-progress"]) == 0
    assert elsewhere.is_file() and not (workspace / "reports" / "results.sqlite").exists()
    with Store(elsewhere, readonly=True) as s:
        (row,) = s.results()
    kept = Path(row.bitstream)
    assert kept.parent == elsewhere.parent / "bitstreams" and kept.is_file()
    assert not (workspace / "reports" / "bitstreams").exists()
    capsys.readouterr()
    assert main(["report", "--gif-frames", "2"]) == 0
    err = capsys.readouterr().err
    assert re.search(r"report: [1-9]\d* GIFs made, \d+ reused, 0 reconstructions could not be shown", err), err
    assert main(["results", "--format", "csv"]) == 0 and row.key in capsys.readouterr().out
    # the store moved with its bitstreams (another machine): re-decoding finds them beside it
    moved = tmp_path / "moved"
    shutil.copytree(elsewhere.parent, moved)
    shutil.rmtree(elsewhere.parent)
    monkeypatch.setenv("BENCH_STORE", str(moved / "mine.sqlite"))
    assert main(["report", "--gif-frames", "2", "-o", str(tmp_path / "html2")]) == 0
    assert "0 reconstructions could not be shown" in capsys.readouterr().err
