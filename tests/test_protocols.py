"""Protocols (bench/protocols): the built-in ones say what their papers fix, `bench run --protocol`
runs exactly that (checked offline on stand-in clips of MCL-JCV's shape: 1920x1080 at 25 and at
30 fps), command-line options override it and say so, and the report follows its ranges and GIFs."""
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from bench.errors import InputError
from bench.protocols import builtin_names, load_protocol
from bench.results.store import Store
from bench.run.protocol_sweep import protocol_sweeps
from bench.run.sweep import SweepConfig
from bench.suites import get_suite
from bench.suites.sequences import SequenceOptions, prepare
from bench.tools import ffmpeg_exe

DEMO_CLIP = "bigbuckbunny"


def bench(*args) -> subprocess.CompletedProcess:
    res = subprocess.run([sys.executable, "-m", "bench.cli", *args], capture_output=True, text=True, timeout=900)
    assert res.returncode in (0, 3), res.stderr[-3000:]
    return res


@pytest.fixture
def mcl_stand_in(tmp_path) -> Path:
    """Two clips shaped like MCL-JCV's sources, made from a demo clip: 1920x1080 at 30 fps (90
    frames) and at 25 fps (75 frames), named as the dataset names them."""
    folder = tmp_path / "mcl"
    folder.mkdir()
    src = get_suite("demo").select([DEMO_CLIP])[0].path
    for name, fps, n in (("videoSRC01_1920x1080_30", 30, 90), ("videoSRC09_1920x1080_25", 25, 75)):
        subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-r", str(fps), "-i", str(src),
                        "-vf", "scale=1920:1080", "-frames:v", str(n), "-c:v", "libx264", "-preset", "ultrafast",
                        "-crf", "18", "-pix_fmt", "yuv420p", str(folder / f"{name}.mp4")], check=True)
    return folder


def test_the_built_in_protocols():
    assert {"gol-2026", "dcvc-ctc", "jvet-lowdelay-b"} <= set(builtin_names())
    gol = load_protocol("gol-2026")
    assert gol.suites == ["mcl-jcv"]
    assert gol.run["sequences"] == ["videoSRC01", "videoSRC09", "videoSRC10", "videoSRC12", "videoSRC13"]
    assert (gol.run["size"], gol.run["resize"], gol.run["frames"], gol.run["fps"]) == ("1280x704", "crop", 15, 5)
    assert gol.run["metrics"] == ["psnr", "ms-ssim", "lpips", "dists", "tlp", "fvd"]
    ranges = gol.report["ranges"]
    assert ranges == [[0.001, 0.003], [0.003, 0.008]]
    assert all(any(lo <= t <= hi for t in gol.run["targets"]) for lo, hi in ranges)
    assert {0.0015, 0.003, 0.006} <= set(gol.run["targets"])
    assert (gol.report["gif_width"], gol.report["gif_fps"]) == (1280, 5)
    dcvc = load_protocol("dcvc-ctc")
    assert dcvc.suites == ["uvg", "mcl-jcv"] and dcvc.run["frames"] == 96 and dcvc.report["anchor"] == "VTM-17.0"
    assert dcvc.run["codec_options"]["vtm"]["intra_period"] == "-1"
    jvet = load_protocol("jvet-lowdelay-b")
    assert jvet.run["codec_options"]["vtm"] == {"config": "lowdelay", "internal_bit_depth": "10", "intra_period": "-1"}
    for name in builtin_names():  # the names they use exist
        p = load_protocol(name)
        for s in p.suites:
            suite = get_suite(s)
            suite.select(p.run.get("sequences"))


@pytest.mark.parametrize("text, message", [
    ('name = "x"\nversion = 1\ntitle = "t"\nsource = "s"\n[run]\nsuite = "demo"\nframez = 3', "run.framez: unknown key"),
    ('name = "x"\nversion = 1\ntitle = "t"\nsource = "s"\n[run]\nsuite = "demo"\nfps = 5\nfps_step = 2',
     "run.fps: give fps or fps_step, not both"),
    ('name = "x"\nversion = 1\ntitle = "t"\nsource = "s"\n[run]\nsuite = "demo"\n[report]\nranges = [[0.003, 0.001]]',
     "report.ranges: must be a list of [low, high] bpp pairs"),
    ('name = "x"\ntitle = "t"\nsource = "s"\n[run]\nsuite = "demo"', "version: missing"),
])
def test_errors_in_a_protocol_file_name_the_key(tmp_path, text, message):
    path = tmp_path / "mine.toml"
    path.write_text(text)
    with pytest.raises(InputError) as exc:
        load_protocol(str(path))
    assert str(exc.value) == f"{path}: {message}" or str(exc.value).startswith(f"{path}: {message}")


def test_command_line_options_override_the_protocol_and_say_so():
    base = SweepConfig(targets=[0.01], codecs=["x264"], codec_options={"vtm": {"params": "--X=1"}})
    (cfg,) = protocol_sweeps(load_protocol("jvet-lowdelay-b"), base, {"targets"})
    assert cfg.targets == [0.01] and cfg.codecs == ["vtm"] and cfg.suite == "hevc-b"
    assert cfg.codec_options["vtm"] == {"config": "lowdelay", "internal_bit_depth": "10", "intra_period": "-1",
                                        "params": "--X=1"}
    assert cfg.protocol["name"] == "jvet-lowdelay-b"
    assert cfg.protocol["overrides"] == ["--bpp given on the command line (the protocol's targets: "
                                         "0.001,0.002,0.004,0.008,0.016)"]
    a, b = protocol_sweeps(load_protocol("dcvc-ctc"), SweepConfig(), set())
    assert (a.suite, b.suite, a.frames, a.fps_step) == ("uvg", "mcl-jcv", 96, 1)


def test_five_fps_from_each_sequences_own_rate(mcl_stand_in, tmp_path):
    """gol-2026's preparation on clips of MCL-JCV's shape: scale and centre-crop 1920x1080 to
    1280x704, every 6th frame of 30 fps and every 5th of 25 fps, 15 frames at 5 fps."""
    suite = get_suite(str(mcl_stand_in))
    opts = SequenceOptions(frames=15, size=(1280, 704), resize="crop", fps=Fraction(5))
    steps = {}
    for seq in suite.select(["videoSRC01", "videoSRC09"]):
        p = prepare(seq, opts, tmp_path / "cache")
        assert (p.width, p.height, p.num_frames, p.fps) == (1280, 704, 15, Fraction(5))
        steps[seq.name] = p.options.fps_step
    assert steps == {"videoSRC01_1920x1080_30": 6, "videoSRC09_1920x1080_25": 5}
    with pytest.raises(InputError, match="not a whole multiple"):
        SequenceOptions(fps=Fraction(7)).for_sequence(suite.sequences[0])


@pytest.mark.slow
def test_bench_run_protocol_gol_2026_and_its_report(mcl_stand_in, tmp_path):
    store = tmp_path / "p.sqlite"
    res = bench("run", "--protocol", "gol-2026", "--suite", str(mcl_stand_in), "--sequences", "videoSRC01,videoSRC09",
                "--codecs", "x264", "--metrics", "psnr", "--bpp", "0.006", "--jobs", "2", "--no-progress",
                "--store", str(store))
    assert "protocol gol-2026 v1" in res.stderr and "--bpp given on the command line" in res.stderr
    with Store(store) as s:
        rows, runs = s.results(), s.runs()
    assert len(rows) == 2
    for r in rows:
        assert (r.width, r.height, r.frames, r.fps) == (1280, 704, 15, 5.0)
        assert r.config["sequence"]["options"]["size"] == "1280x704"
    assert runs[0]["config"]["protocol"]["name"] == "gol-2026"
    out = tmp_path / "html"
    bench("report", "--store", str(store), "-o", str(out), "--no-gifs", "--anchor", "x264")
    index = (out / "index.html").read_text()
    assert "gol-2026 v1" in index and "GIFs: 1280 px wide, 5 fps" in index
    assert "0.001–0.003 bpp" in index and "0.003–0.008 bpp" in index and "0.008–0.02 bpp" not in index
    assert "--sequences given on the command line" in index
    bench("report", "--store", str(store), "-o", str(out), "--no-gifs", "--gif-width", "320")
    index = (out / "index.html").read_text()
    assert "GIFs: 320 px wide, 5 fps" in index and "--gif-width given on the command line" in index
    assert (out / "tables" / "mcl-matched-bpp.tex").read_text().count("\\toprule") == 1


def test_a_folder_of_mcl_jcv_yuv_files_gives_each_its_own_rate(tmp_path):
    """`--suite FOLDER` of the dataset's raw files (videoSRC05_1920x1080_25.yuv: the rate is the
    number after the size): 5 fps is every 5th frame of the 25 fps ones, every 6th of the 30 fps ones."""
    folder = tmp_path / "mcl-jcv-local"
    folder.mkdir()
    for name in ("videoSRC01_192x108_30.yuv", "videoSRC09_192x108_25.yuv"):
        (folder / name).write_bytes(bytes(192 * 108 * 3 // 2 * 4))
    suite = get_suite(str(folder))
    seqs = suite.select(["videoSRC01", "videoSRC09"])
    assert [s.fps for s in seqs] == [30, 25]
    assert [SequenceOptions(fps=Fraction(5)).for_sequence(s).fps_step for s in seqs] == [6, 5]
