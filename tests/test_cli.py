"""The command line: listings, one-line errors with a non-zero exit, fetch offline and from files."""
import os
import re
import subprocess
import sys
import zipfile

import pytest
from conftest import random_frame

from bench.errors import InputError
from bench.suites import get_suite, load_manifest
from bench.suites.fetch import extract_member, fetch_suite
from bench.video import write_video


def bench(*args, env=None):
    e = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "bench.cli", *args], capture_output=True, text=True, env=e,
                          timeout=300)


def one_line_error(res, *words):
    assert res.returncode != 0
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("bench: error:"), res.stderr
    for w in words:
        assert w in lines[0]


def test_list_suites_shows_uvg_and_mcl_jcv():
    res = bench("list", "suites")
    assert res.returncode == 0
    assert re.search(r"^uvg\s+7 sequences, 12.1 GB raw", res.stdout, re.M)
    assert re.search(r"^mcl-jcv\s+30 sequences", res.stdout, re.M)
    assert "ReadySteadyGo" in res.stdout and "videoSRC30" in res.stdout


def test_list_metrics_and_codecs():
    m = bench("list", "metrics")
    assert "psnr_y         higher is better  unit: dB" in m.stdout
    c = bench("list", "codecs")
    blocks = {}
    for line in c.stdout.splitlines():
        if line and not line.startswith(" "):
            name = line.split()[0]
            blocks[name] = line
        else:
            blocks[name] += "\n" + line
    for name in ("x264", "x265", "vvenc", "svt-av1", "aom-av1"):  # the ffmpeg wheel's codecs are always there
        assert "UNAVAILABLE" not in blocks[name]
    for name in ("vtm", "ecm", "dcvc-fm", "dcvc-dc", "dcvc-rt", "glc"):  # external codecs are listed, with how to point bench at them
        assert name in blocks


def test_unknown_suite_codec_metric():
    one_line_error(bench("run", "--suite", "nope"), "unknown suite 'nope'")
    one_line_error(bench("run", "--codecs", "nope"), "unknown codec 'nope'")
    one_line_error(bench("run", "--metrics", "nope"), "unknown metric 'nope'")
    one_line_error(bench("run", "--bpp", "0.01,abc"), "--bpp")
    one_line_error(bench("run", "--size", "1281x720"), "even")


def test_missing_sequences_name_the_file():
    one_line_error(bench("run", "--suite", "uvg"), "Beauty_1920x1080_120fps_420_8bit_YUV.yuv", "bench fetch")


def test_bad_store_file(tmp_path):
    bad = tmp_path / "results.sqlite"
    bad.write_text("not a database")
    one_line_error(bench("results", "--store", str(bad)), "not a bench results store")
    assert bad.read_text() == "not a database"  # untouched


def test_fetch_offline_is_one_clear_line(tmp_path):
    # a proxy on a closed loopback port makes every download fail at once, as offline
    res = bench("fetch", "--suite", "uvg", "--no-progress",
                env={"https_proxy": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9"})
    one_line_error(res, "cannot reach https://ultravideo.fi/video/Beauty_1920x1080_120fps_420_8bit_YUV_RAW.7z",
                   "offline")


def test_truncated_input_in_a_folder_suite(tmp_path):
    folder = tmp_path / "clips"
    folder.mkdir()
    p = folder / "bad_64x48.yuv"
    write_video(p, [random_frame(64, 48)])
    with open(p, "ab") as f:
        f.write(b"x" * 7)
    one_line_error(bench("run", "--suite", str(folder), "--no-progress"), "bad_64x48.yuv", "not a whole number")


def test_extraction_refuses_path_traversal(tmp_path):
    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("../../escape.yuv", b"x")
        f.writestr("a.yuv", b"x")
    with pytest.raises(InputError, match="unsafe member path"):
        extract_member(z, "a.yuv", tmp_path / "out" / "a.yuv")
    assert not (tmp_path / "escape.yuv").exists()


def test_fetch_from_local_archive_verifies_sizes(tmp_path, monkeypatch):
    frames = [random_frame(64, 48, seed=i) for i in range(3)]
    raw = tmp_path / "src_64x48.yuv"
    write_video(raw, frames)
    z = tmp_path / "suite.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.write(raw, "inner/src_64x48.yuv")
    manifest = {"name": "tiny", "folder": "tiny", "sequences": [
        {"name": "src", "file": "src_64x48.yuv", "width": 64, "height": 48, "fps": 30, "frames": 3,
         "bytes": raw.stat().st_size, "download": {"archive": "zip", "member": "src_64x48.yuv"}}]}
    suite = load_manifest(manifest, "test")
    (path,) = fetch_suite(suite, z, progress=False, log=lambda m: None)
    assert path.read_bytes() == raw.read_bytes()
    manifest["sequences"][0]["bytes"] += 1
    path.unlink()
    with pytest.raises(InputError, match="expected"):
        fetch_suite(load_manifest(manifest, "test"), z, progress=False, log=lambda m: None)
    assert not path.exists()  # a bad file is not left behind


@pytest.mark.slow
def test_results_export(tmp_path):
    store = tmp_path / "s.sqlite"
    res = bench("run", "--suite", "demo", "--sequences", "carphone", "--codecs", "x264", "--bpp", "0.05",
                "--frames", "3", "--fps-step", "1", "--metrics", "psnr", "--no-progress", "--store", str(store))
    assert res.returncode == 0, res.stderr
    csv = bench("results", "--format", "csv", "--store", str(store))
    assert csv.returncode == 0 and "psnr_y" in csv.stdout.splitlines()[0]
    out = tmp_path / "r.parquet"
    assert bench("results", "--format", "parquet", "-o", str(out), "--store", str(store)).returncode == 0
    import pandas as pd

    df = pd.read_parquet(out)
    assert len(df) == 1 and len(df["frames.psnr_y"][0]) == 3
    assert "demo/carphone" in bench("report", "--store", str(store)).stdout


def test_demo_suite_defaults():
    s = get_suite("demo")
    assert [q.name for q in s.sequences] == ["bigbuckbunny", "bikes", "carphone"]
    assert s.defaults == {"frames": 15, "fps_step": 5}
    assert all(q.path.exists() for q in s.sequences)
