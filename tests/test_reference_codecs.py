"""VTM and ECM adapters: configuration lookup and command lines, parsing of a real VTM log, the
missing-build path, and (with a build: BENCH_VTM_ROOT / BENCH_ECM_ROOT or codecs/codecs.toml)
real sweeps whose decoded-frame PSNR-Y must agree with the encoder's own report."""
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from bench.cli import main
from bench.codecs import create_codec
from bench.codecs.reference import parse_encoder_log
from bench.errors import BenchError, CodecFailed, CodecUnavailable, InputError
from bench.results.store import Store
from bench.video import VideoFormat

DATA = Path(__file__).parent / "data"
VTM_LOG = DATA / "vtm-23.13_carphone_176x144_9f_qp47.log"  # recorded from VTM-23.13, encoder_lowdelay_vtm.cfg


def fake_checkout(root: Path, family: str, cfg_suffix: str | None = None) -> Path:
    """A checkout's layout (binaries are never run here; the cfg files hold only what is read)."""
    (root / "bin").mkdir(parents=True)
    (root / "cfg").mkdir()
    for app in ("EncoderAppStatic", "DecoderAppStatic"):
        (root / "bin" / app).write_bytes(b"")
    sfx = cfg_suffix or family
    (root / "cfg" / f"encoder_lowdelay_{sfx}.cfg").write_text("GOPSize : 8\n")
    (root / "cfg" / f"encoder_randomaccess_{sfx}.cfg").write_text("GOPSize                       : 32\n")
    return root


def seq(fps=30.0, w=176, h=144, n=9):
    return SimpleNamespace(yuv=Path("/data/clip.yuv"), width=w, height=h, fps=Fraction(fps).limit_denominator(1001),
                           num_frames=n, format=VideoFormat(w, h, 8))


def test_real_vtm_log_is_parsed():
    log = parse_encoder_log(VTM_LOG.read_text())
    assert len(log["frames"]) == 9
    first = log["frames"][0]
    assert first == {"poc": 0, "nal": "IDR_N_LP", "type": "I", "qp": 46, "bits": 3648, "psnr_y": 26.792,
                     "psnr_u": 35.865, "psnr_v": 35.9087}
    assert {f["type"] for f in log["frames"][1:]} == {"B"}
    assert log["summary"] == {"frames": 9, "kbps": 3.7333, "psnr_y": 25.4353, "psnr_u": 35.5895, "psnr_v": 35.6525,
                              "psnr_yuv": 26.9256}
    assert log["total_s"] == 6.454
    assert np.mean([f["psnr_y"] for f in log["frames"]]) == pytest.approx(log["summary"]["psnr_y"], abs=1e-3)


def test_real_ecm_log_is_parsed():
    text = (DATA / "ecm-1.0_carphone_176x144_3f_qp50.log").read_text()  # recorded from ECM-1.0, low delay
    log = parse_encoder_log(text)
    assert [(f["poc"], f["type"], f["qp"], f["bits"]) for f in log["frames"]] == [
        (0, "I", 49, 2496), (1, "B", 58, 128), (2, "B", 57, 168)]
    assert log["summary"]["frames"] == 3 and log["summary"]["psnr_y"] == 24.3777
    assert log["total_s"] == 32.723


def test_command_line_follows_the_test_conditions(tmp_path, monkeypatch):
    root = fake_checkout(tmp_path / "vtm", "vtm")
    monkeypatch.setenv("BENCH_VTM_ROOT", str(root))
    vtm = create_codec("vtm")
    vtm.check_available()
    args = vtm.encoder_args(seq(), 55, tmp_path / "out.bin")
    assert args[0] == str(root / "bin" / "EncoderAppStatic")
    assert args[1:3] == ["-c", str(root / "cfg" / "encoder_lowdelay_vtm.cfg")]
    assert args[args.index("-o") + 1] == "/dev/null"  # no reconstruction file
    for a in ("--SourceWidth=176", "--SourceHeight=144", "--FrameRate=30", "--FramesToBeEncoded=9", "--QP=55",
              "--InputBitDepth=8", "--OutputBitDepth=8", "--InternalBitDepth=10", "--IntraPeriod=-1",
              "--DecodingRefreshType=2", "--ConformanceWindowMode=1"):
        assert a in args
    # random access: IntraPeriod about a second, a multiple of the configuration's GOP size
    ra = create_codec("vtm", config="randomaccess")
    for fps, ip in ((30, 32), (60, 64), (120, 128), (5.994, 32), (50, 64)):
        a = ra.encoder_args(seq(fps), 40, tmp_path / "o.bin")
        assert f"--IntraPeriod={ip}" in a and "--DecodingRefreshType=2" not in a
    assert "--IntraPeriod=16" in create_codec("vtm", intra_period="16").encoder_args(seq(), 40, tmp_path / "o.bin")
    extra = create_codec("vtm", params="--TemporalFilter=0 --SEIDecodedPictureHash=1").encoder_args(seq(), 40, tmp_path / "o.bin")
    assert extra[-2:] == ["--TemporalFilter=0", "--SEIDecodedPictureHash=1"]


def test_ecm_uses_its_own_config_names_and_early_releases_vtm_names(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_ECM_ROOT", str(fake_checkout(tmp_path / "ecm", "ecm")))
    assert create_codec("ecm").config_file().name == "encoder_lowdelay_ecm.cfg"
    monkeypatch.setenv("BENCH_ECM_ROOT", str(fake_checkout(tmp_path / "ecm1", "ecm", cfg_suffix="vtm")))
    assert create_codec("ecm").config_file().name == "encoder_lowdelay_vtm.cfg"


def test_configuration_file_and_binaries_from_codecs_toml(tmp_path, monkeypatch):
    root = fake_checkout(tmp_path / "builds" / "vtm", "vtm")
    toml = tmp_path / "codecs.toml"
    toml.write_text('[vtm]\nroot = "builds/vtm"\n')  # relative to the file
    monkeypatch.delenv("BENCH_VTM_ROOT", raising=False)
    monkeypatch.setenv("BENCH_CODECS_CONFIG", str(toml))
    assert create_codec("vtm")._binary("encoder") == root / "bin" / "EncoderAppStatic"
    monkeypatch.setenv("BENCH_VTM_DECODER", str(tmp_path / "nope"))
    with pytest.raises(CodecUnavailable, match="BENCH_VTM_DECODER"):
        create_codec("vtm").check_available()
    toml.write_text("[vtm\n")
    monkeypatch.delenv("BENCH_VTM_DECODER")
    with pytest.raises(BenchError, match="codecs.toml: not valid TOML"):
        create_codec("vtm").check_available()


def test_relative_paths_are_taken_from_where_they_were_written(tmp_path, monkeypatch):
    from bench.codecs.config import codec_setting

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BENCH_VTM_ROOT", "builds/vtm")
    assert codec_setting("vtm", "root") == tmp_path / "builds/vtm"
    monkeypatch.delenv("BENCH_VTM_ROOT")
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf/codecs.toml").write_text('[vtm]\nroot = "vtm-23"\n')
    monkeypatch.setenv("BENCH_CODECS_CONFIG", "conf/codecs.toml")
    assert codec_setting("vtm", "root") == tmp_path / "conf/vtm-23"


def test_missing_build_is_one_line_and_the_sweep_goes_on(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BENCH_VTM_ROOT", str(tmp_path / "no-vtm-here"))
    store = tmp_path / "r.sqlite"
    rc = main(["run", "--suite", "demo", "--sequences", "carphone", "--codecs", "vtm,x264", "--bpp", "0.02",
               "--frames", "3", "--jobs", "1", "--no-progress", "--store", str(store)])
    assert rc == 3
    err = [line for line in capsys.readouterr().err.splitlines() if "vtm" in line]
    assert len(err) == 1 and "no EncoderApp or EncoderAppStatic under" in err[0] and "BENCH_VTM_ROOT" in err[0]
    with Store(store, readonly=True) as st:
        rows = {r["codec"]: r for r in st.results()}
    assert rows["vtm"]["status"] == "failed" and "BENCH_VTM_ROOT" in rows["vtm"]["error"]
    assert rows["x264"]["status"] in ("ok", "unreachable") and rows["x264"]["bits"] > 0


def _available(name: str) -> bool:
    try:
        create_codec(name).check_available()
        return True
    except BenchError:
        return False


def _sweep_and_check(codec: str, tmp_path, args: list[str], frames: int, tol_db: float) -> list[dict]:
    store = tmp_path / f"{codec}-{len(list(tmp_path.glob('*.sqlite')))}.sqlite"  # one store per sweep
    rc = main(["run", "--suite", "demo", "--codecs", codec, *args, "--frames", str(frames), "--jobs", "1",
               "--no-progress", "--store", str(store)])
    assert rc == 0
    with Store(store, readonly=True) as st:
        rows = st.results()
    assert rows
    for r in rows:
        assert r["status"] in ("ok", "unreachable") and r["bits_source"] == "file"
        assert r["bits"] == Path(r["bitstream"]).stat().st_size * 8
        assert r["bpp"] == pytest.approx(r["bits"] / (r["width"] * r["height"] * r["frames"]))
        meta = r["config"]["bitstream_meta"]
        log = meta["encoder_log"]
        assert len(log["frames"]) == frames and meta["encode_s_per_frame"] > 0
        # the harness's Y-PSNR of the decoded frames agrees with the encoder's own (it computes at its
        # internal bit depth, 10, against the 8-bit source scaled by 4: a few thousandths of a dB apart)
        ours = np.array(r["per_frame"]["psnr_y"])
        theirs = np.array([f["psnr_y"] for f in sorted(log["frames"], key=lambda f: f["poc"])])
        assert np.abs(ours - theirs).max() < tol_db, (ours, theirs)
        assert r["metrics"]["psnr_yuv"] > 0
    return rows


@pytest.mark.slow
@pytest.mark.skipif(not _available("vtm"),
                    reason="no VTM build (set BENCH_VTM_ROOT or codecs/codecs.toml; see docs/codecs.md)")
def test_vtm_for_real(tmp_path):
    rows = _sweep_and_check("vtm", tmp_path, ["--sequences", "carphone", "--bpp", "0.002,0.05"], 9, 0.02)
    assert rows[0]["codec_version"].startswith("VTM ")
    # a size that is not a multiple of 8: padded by the conformance window, decoded at the source's size
    _sweep_and_check("vtm", tmp_path, ["--sequences", "bikes", "--bpp", "0.05", "--size", "180x100"], 3, 0.02)


@pytest.mark.slow
@pytest.mark.skipif(not _available("ecm"),
                    reason="no ECM build (set BENCH_ECM_ROOT or codecs/codecs.toml; see docs/codecs.md)")
def test_ecm_for_real(tmp_path):
    rows = _sweep_and_check("ecm", tmp_path, ["--sequences", "carphone", "--bpp", "0.05"], 3, 0.02)
    assert rows[0]["codec_version"].startswith("ECM ")


def _intra_checkout(tmp_path, monkeypatch, family="ecm"):
    root = fake_checkout(tmp_path / family, family)
    # what ECM 19.0's and VTM's encoder_intra_*.cfg say: all intra, and the CTC's one frame in 8
    (root / "cfg" / f"encoder_intra_{family}.cfg").write_text(
        "IntraPeriod                   : 1\nDecodingRefreshType           : 1\nGOPSize                       : 1\n"
        "TemporalSubsampleRatio        : 8\n")
    monkeypatch.setenv(f"BENCH_{family.upper()}_ROOT", str(root))
    return root


@pytest.mark.parametrize("family", ["vtm", "ecm"])
def test_all_intra_codes_every_frame_as_an_intra_frame(tmp_path, monkeypatch, family):
    root = _intra_checkout(tmp_path, monkeypatch, family)
    cfg_path = root / "cfg" / f"encoder_intra_{family}.cfg"
    for config in ("intra", str(cfg_path)):  # by name, or the file itself
        codec = create_codec(family, config=config)
        codec.check_available()
        args = codec.encoder_args(seq(n=27), 40, tmp_path / "o.bin")
        assert args[2] == str(cfg_path)
        assert "--IntraPeriod=1" in args and "--TemporalSubsampleRatio=1" in args and "--FramesToBeEncoded=27" in args
        assert not any(a.startswith("--DecodingRefreshType") for a in args)  # "Invalid GOP structure" otherwise
    low_delay = create_codec(family).encoder_args(seq(), 40, tmp_path / "o.bin")
    assert "--IntraPeriod=-1" in low_delay and "--DecodingRefreshType=2" in low_delay
    assert not any(a.startswith("--TemporalSubsampleRatio") for a in low_delay)  # its cfg has none


def test_frame_skipping_options_are_refused_before_any_encode(tmp_path, monkeypatch, capsys):
    _intra_checkout(tmp_path, monkeypatch)
    for params, key in (("--TemporalSubsampleRatio=8", "TemporalSubsampleRatio=8"), ("--FrameSkip=2", "FrameSkip=2"),
                        ("--QP=30 --FramesToBeEncoded=5", "FramesToBeEncoded=5")):
        with pytest.raises(InputError, match=f"params sets {key}: the encoder would code fewer frames"):
            create_codec("ecm", config="intra", params=params).check_available()
    store = tmp_path / "r.sqlite"
    rc = main(["run", "--suite", "demo", "--sequences", "carphone", "--codecs", "ecm", "--codec-opt",
               "ecm.params=--FrameSkip=2", "--bpp", "0.02", "--frames", "3", "--no-progress", "--store", str(store)])
    err = [ln for ln in capsys.readouterr().err.splitlines() if "error" in ln]
    assert rc == 2 and len(err) == 1 and "FrameSkip=2" in err[0]
    with Store(store, readonly=True) as st:
        assert st.results() == []


def test_an_encode_that_codes_fewer_frames_fails(tmp_path, monkeypatch):
    """A stand-in EncoderApp (no build here) that prints a real VTM log of 9 frames when given 27."""
    root = _intra_checkout(tmp_path, monkeypatch, "vtm")
    enc = root / "bin" / "EncoderAppStatic"
    enc.write_text(f'#!/bin/sh\nwhile [ $# -gt 0 ]; do [ "$1" = "-b" ] && out="$2"; shift; done\n'
                   f'printf x > "$out"\ncat "{VTM_LOG}"\n')
    enc.chmod(0o755)
    codec = create_codec("vtm", config="intra")
    with pytest.raises(CodecFailed, match="vtm coded 9 of the sequence's 27 frames"):
        codec.encode(seq(n=27), 40, tmp_path / "work")
    assert codec.encode(seq(n=9), 40, tmp_path / "work").meta["encoder_log"]["summary"]["frames"] == 9
