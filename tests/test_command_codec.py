"""Codecs defined only by command lines in codecs.toml ([command.NAME], bench/codecs/command.py),
driven for real: x265 through the ffmpeg of the imageio-ffmpeg wheel against the built-in x265
adapter, a lossless PNG-frames codec, an estimated-bits codec, VTM where a build is configured."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.codecs import CODECS, create_codec
from bench.codecs.agreement import tiny_clip
from bench.errors import CodecUnavailable, InputError
from bench.results.store import Store
from bench.video import open_video
from bench.video.png_frames import read_png_frames, write_png_frames

FFMPEG_ARGS = '"{ffmpeg}", "-hide_banner", "-nostdin", "-loglevel", "error", "-y"'
# the x265 adapter's exact settings (bench/codecs/ffmpeg_codecs.py: X265 with preset medium, 1 thread)
X265_CLI = f'''
[command.x265-cli]
description = "x265 through ffmpeg's command line, with the x265 adapter's settings"
encode = [{FFMPEG_ARGS}, "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", "{{width}}x{{height}}", "-r", "{{fps}}",
          "-i", "{{input}}", "-frames:v", "{{frames}}", "-an", "-c:v", "libx265", "-preset", "{{preset}}",
          "-x265-params", "qp={{knob}}:info=0:keyint=-1:scenecut=0:bframes=0:open-gop=0:pools=1:frame-threads=1:log-level=error",
          "-f", "hevc", "{{bitstream}}"]
decode = [{FFMPEG_ARGS}, "-f", "hevc", "-i", "{{bitstream}}", "-f", "rawvideo", "-pix_fmt", "yuv420p", "{{output}}"]
version = ["{{ffmpeg}}", "-version"]
options = {{ preset = "medium" }}
knob = {{ name = "qp", lo = 0, hi = 51, start = 40, integer = true, more_bits = "lower" }}
'''
PNG_FFV1 = f'''
[command.png-ffv1]
description = "lossless FFV1 of PNG frames, decoded to PNG frames"
input = "png"
output = "png"
encode = [{FFMPEG_ARGS}, "-framerate", "{{fps}}", "-i", "{{input}}/%05d.png", "-c:v", "ffv1", "-f", "matroska",
          "{{bitstream}}"]
decode = [{FFMPEG_ARGS}, "-i", "{{bitstream}}", "{{output}}/%05d.png"]
knob = {{ name = "level", lo = 0, hi = 1, integer = true, more_bits = "higher" }}
'''
COPY = "import shutil, sys; shutil.copy(sys.argv[1], sys.argv[2])"
ESTIMATED = f'''
[command.copy-estimated]
encode = ["{sys.executable}", "-c", "import json, shutil, sys; shutil.copy(sys.argv[1], sys.argv[2]); json.dump({{{{'bits': 1234}}}}, open(sys.argv[3], 'w'))",
          "{{input}}", "{{bitstream}}", "{{workdir}}/bits.json"]
decode = ["{sys.executable}", "-c", "{COPY}", "{{bitstream}}", "{{output}}"]
bits = "estimated"
inputs = ["weights.bin"]
knob = {{ name = "lambda", lo = 0.01, hi = 1.0, start = 0.1, integer = false, more_bits = "higher" }}
'''


def configure(tmp_path, monkeypatch, text: str) -> Path:
    path = tmp_path / "codecs.toml"
    path.write_text(text)
    monkeypatch.setenv("BENCH_CODECS_CONFIG", str(path))
    return path


def bench(*args, check=True) -> subprocess.CompletedProcess:
    res = subprocess.run([sys.executable, "-m", "bench.cli", *args], capture_output=True, text=True, timeout=900)
    assert not check or res.returncode in (0, 3), res.stderr[-3000:]
    return res


def test_a_toml_codec_is_registered_beside_the_built_in_ones(tmp_path, monkeypatch):
    path = configure(tmp_path, monkeypatch, X265_CLI)
    assert "x265-cli" in CODECS.names() and "x265" in CODECS.names()
    assert CODECS.origin("x265-cli") == f"command in {path}"
    codec = create_codec("x265-cli", preset="slow")
    assert codec.knob.name == "qp" and codec.knob.more_bits == -1 and codec.options == {"preset": "slow"}
    assert codec.version().startswith("ffmpeg version")
    assert codec.config()["command"] == create_codec("x265-cli").spec.identity()


@pytest.mark.slow
def test_x265_through_its_command_line_gives_the_built_in_adapters_bits_and_psnr(tmp_path, monkeypatch):
    """`bench run` with the built-in x265 and the TOML x265-cli (two worker processes, so the TOML
    codec is sent to a worker): every target gets the same QP, bits and PSNR; `bench report` shows
    its GIFs, re-decoded through its decode command."""
    configure(tmp_path, monkeypatch, X265_CLI)
    store = tmp_path / "r.sqlite"
    bench("run", "--suite", "demo", "--sequences", "bigbuckbunny", "--codecs", "x265,x265-cli",
          "--bpp", "0.01,0.03", "--frames", "6", "--metrics", "psnr", "--jobs", "2", "--no-progress",
          "--store", str(store))
    with Store(store) as s:
        rows = {(r.codec, r.target_bpp): r for r in s.results()}
    assert len(rows) == 4
    for t in (0.01, 0.03):
        a, b = rows[("x265", t)], rows[("x265-cli", t)]
        assert a.status in ("ok", "unreachable") and b.status == a.status
        assert (b.knob, b.bits, b.bits_source) == (a.knob, a.bits, "file")
        for out in ("psnr_y", "psnr_u", "psnr_v", "psnr_yuv"):
            assert b.metrics[out] == a.metrics[out]
    out = tmp_path / "html"
    res = bench("report", "--store", str(store), "-o", str(out), "--gif-width", "64", "--gif-frames", "3")
    assert "0 reconstructions could not be shown" in res.stderr
    shown = {p.name.split("-")[0]: json.loads(p.read_text()) for p in (out / "media" / "gif").glob("*.json")}
    assert {r.codec for r in rows.values() if r.key in shown} == {"x265", "x265-cli"}
    assert all(info["error"] is None and info["matches"] is True for info in shown.values())
    assert "x265-cli" in (out / "index.html").read_text()


def test_a_decoder_writing_png_frames_round_trips_exactly(tmp_path, monkeypatch):
    """PNG frames in (bench writes them), lossless FFV1, PNG frames out (bench reads them): the
    decoded frames are exactly the source through bench's own RGB conversion."""
    configure(tmp_path, monkeypatch, PNG_FFV1)
    seq = tiny_clip(tmp_path, 64, 48, 5)
    codec = create_codec("png-ffv1")
    codec.check_available()
    bs = codec.encode(seq, 0, tmp_path / "enc")
    dec = codec.decode(bs, seq, tmp_path / "dec")
    assert (dec.format.width, dec.format.height, dec.format.bit_depth) == (64, 48, 8)
    write_png_frames(tmp_path / "expected", seq.reader().frames())
    expected = list(read_png_frames(tmp_path / "expected"))
    got = list(open_video(dec.path, width=64, height=48).frames())
    assert len(got) == len(expected) == 5
    for g, e in zip(got, expected):
        for p, q in zip(g.planes, e.planes):
            np.testing.assert_array_equal(p, q)
    # and the round trip through RGB is close to the source (BT.709, chroma averaged back)
    src = list(seq.reader().frames())
    assert np.abs(got[2].y.astype(int) - src[2].y.astype(int)).max() <= 2


def test_estimated_bits_and_checkpoint_hashes(tmp_path, monkeypatch):
    configure(tmp_path, monkeypatch, ESTIMATED)
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"one")
    codec = create_codec("copy-estimated")
    codec.check_available()
    assert codec.bits_source == "estimated" and not codec.knob.integer
    seq = tiny_clip(tmp_path)
    bs = codec.encode(seq, 0.25, tmp_path / "enc")
    assert bs.bits == 1234 and bs.bits_source == "estimated"
    dec = codec.decode(bs, seq, tmp_path / "dec")
    assert dec.path.read_bytes() == Path(seq.yuv).read_bytes()
    key = codec.config_key()
    weights.write_bytes(b"two")
    assert create_codec("copy-estimated").config_key() != key  # new weights never reuse old rows


@pytest.mark.parametrize("table, message", [
    ('encode = "x265 {input} {bitstream}"\ndecode = ["d", "{bitstream}", "{output}"]',
     "[command.bad] encode: must be a list of arguments, not a shell string"),
    ('encode = ["e", "{input}", "{bitstream}", "{colour}"]\ndecode = ["d", "{bitstream}", "{output}"]',
     "[command.bad] encode: '{colour}': unknown placeholder {colour}"),
    ('encode = ["e", "{input}", "{bitstream}"]\ndecode = ["d", "{bitstream}", "{output}"]\ninput = "mp4"',
     "[command.bad] input: 'mp4': expected one of yuv, y4m, png"),
    ('encode = ["e", "{input}", "{bitstream}"]\ndecode = ["d", "{bitstream}"]', "[command.bad] decode: must name {output}"),
    ('encode = ["e", "{input}", "{bitstream}"]\ndecode = ["d", "{bitstream}", "{output}"]\nknob = { name = "q", lo = 1, hi = 9 }',
     "[command.bad] knob.more_bits: missing"),
    ('encode = ["e", "{input}", "{bitstream}"]\ndecode = ["d", "{bitstream}", "{output}"]\ncolour = 1',
     "[command.bad] colour: unknown key"),
])
def test_errors_in_a_definition_are_one_line_naming_the_key(tmp_path, monkeypatch, table, message):
    if "knob" not in table:
        table += '\nknob = { name = "q", lo = 1, hi = 9, more_bits = "higher" }'
    path = configure(tmp_path, monkeypatch, f"[command.bad]\n{table}\n")
    with pytest.raises(InputError) as exc:
        create_codec("bad")
    assert str(exc.value).startswith(f"{path}: ") and message in str(exc.value)
    assert "\n" not in str(exc.value)


def test_a_toml_codec_cannot_take_a_built_in_name(tmp_path, monkeypatch):
    configure(tmp_path, monkeypatch, X265_CLI.replace("[command.x265-cli]", "[command.x265]"))
    with pytest.raises(InputError, match=r"\[command.x265\] takes the name of a codec already registered"):
        create_codec("x264")


def test_a_missing_program_makes_the_codec_unavailable(tmp_path, monkeypatch):
    configure(tmp_path, monkeypatch, X265_CLI.replace('"{ffmpeg}", "-hide_banner"', '"no-such-encoder", "-x"', 1))
    with pytest.raises(CodecUnavailable, match="encode program 'no-such-encoder' not found"):
        create_codec("x265-cli").check_available()


@pytest.mark.slow
def test_a_toml_codec_wrapping_vtm_gives_the_vtm_adapters_results(tmp_path, monkeypatch):
    vtm = create_codec("vtm")
    try:
        vtm.check_available()
    except CodecUnavailable as exc:
        pytest.skip(f"no VTM build configured here ({exc})")
    enc, dec, cfg = vtm._binary("encoder").resolve(), vtm._binary("decoder").resolve(), vtm.config_file().resolve()
    configure(tmp_path, monkeypatch, f'''
[command.vtm-cli]
encode = ["{enc}", "-c", "{cfg}", "-i", "{{input}}", "-b", "{{bitstream}}", "-o", "/dev/null",
          "--SourceWidth={{width}}", "--SourceHeight={{height}}", "--FrameRate={{fps_int}}",
          "--FramesToBeEncoded={{frames}}", "--InputChromaFormat=420", "--InputBitDepth={{bit_depth}}",
          "--OutputBitDepth={{bit_depth}}", "--InternalBitDepth=10", "--QP={{knob}}", "--IntraPeriod=-1",
          "--ConformanceWindowMode=1", "--DecodingRefreshType=2"]
decode = ["{dec}", "-b", "{{bitstream}}", "-o", "{{output}}", "-d", "{{bit_depth}}"]
knob = {{ name = "qp", lo = 0, hi = 63, start = 42, integer = true, more_bits = "lower" }}
''')
    seq = tiny_clip(tmp_path, 64, 64, 3)
    cli = create_codec("vtm-cli")
    a, b = vtm.encode(seq, 37, tmp_path / "a"), cli.encode(seq, 37, tmp_path / "b")
    assert a.bits == b.bits
    da, db = vtm.decode(a, seq, tmp_path / "da"), cli.decode(b, seq, tmp_path / "db")
    assert da.path.read_bytes() == db.path.read_bytes()
