"""DCVC and GLC adapters: one-line errors without a checkout, and (with a checkout: BENCH_DCVC_FM_CHECKOUT,
BENCH_DCVC_DC_CHECKOUT, BENCH_GLC_CHECKOUT or codecs/codecs.toml) the real code path end to end with
RANDOM WEIGHTS, PLUMBING ONLY: checkpoints saved from the checkout's own model classes, randomly
initialised, in the authors' format."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.cli import main
from bench.codecs import create_codec
from bench.codecs.base import Bitstream
from bench.errors import BenchError, CodecUnavailable
from bench.report.reconstruct import prepared_source
from bench.report.text import text_report
from bench.results.store import Store

# the checkout's intra and inter classes, per codec
CLASSES = {"dcvc-fm": ("src.models.image_model", "DMCI", "src.models.video_model", "DMC", ""),
           "dcvc-dc": ("src.models.image_model", "IntraNoAR", "src.models.video_model", "DMC", ""),
           "glc": ("src.models.image_model", "GLC_Image", "src.models.video_model", "GLC_Video", "hyper_K=16")}


def test_missing_checkout_is_one_line_and_the_sweep_goes_on(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BENCH_DCVC_FM_CHECKOUT", str(tmp_path / "no-dcvc"))
    monkeypatch.setenv("BENCH_GLC_CHECKOUT", str(tmp_path / "no-glc"))
    with pytest.raises(CodecUnavailable, match="no checkout of github.com/microsoft/DCVC at .*BENCH_DCVC_FM_CHECKOUT"):
        create_codec("dcvc-fm").check_available()
    store = tmp_path / "r.sqlite"
    rc = main(["run", "--suite", "demo", "--sequences", "carphone", "--codecs", "dcvc-fm,glc,x264", "--bpp", "0.02",
               "--frames", "3", "--jobs", "1", "--no-progress", "--store", str(store)])
    assert rc == 3
    err = capsys.readouterr().err.splitlines()
    assert len([x for x in err if "dcvc-fm" in x]) == 1 and any("BENCH_DCVC_FM_CHECKOUT" in x for x in err)
    assert len([x for x in err if "codec glc" in x]) == 1 and any("github.com/jzyustc/GLC" in x for x in err)
    with Store(store, readonly=True) as st:
        rows = {r["codec"]: r for r in st.results()}
    assert rows["dcvc-fm"]["status"] == "failed" and rows["glc"]["status"] == "failed"
    assert rows["glc"]["bits_source"] == "estimated" and rows["x264"]["status"] in ("ok", "unreachable")


def test_missing_checkpoint_and_unbuilt_entropy_coder(tmp_path, monkeypatch):
    co = tmp_path / "DCVC-DC"
    (co / "src" / "models").mkdir(parents=True)
    (co / "src" / "models" / "video_model.py").write_text("")
    monkeypatch.setenv("BENCH_DCVC_DC_CHECKOUT", str(co))
    with pytest.raises(CodecUnavailable, match="entropy coder .* is not built"):
        create_codec("dcvc-dc").check_available()
    (co / "src" / "models" / "MLCodec_rans.cpython-311-x86_64-linux-gnu.so").write_bytes(b"")
    with pytest.raises(CodecUnavailable, match="checkpoint .*cvpr2023_image_yuv420_psnr.pth.tar is missing"):
        create_codec("dcvc-dc").check_available()


def test_dcvc_rt_needs_cuda(tmp_path, monkeypatch):
    import torch

    co = tmp_path / "DCVC-RT"
    (co / "src" / "models").mkdir(parents=True)
    (co / "src" / "models" / "video_model.py").write_text("")
    (co / "checkpoints").mkdir()
    for name in ("cvpr2025_image.pth.tar", "cvpr2025_video.pth.tar"):
        (co / "checkpoints" / name).write_bytes(b"x")
    monkeypatch.setenv("BENCH_DCVC_RT_CHECKOUT", str(co))
    codec = create_codec("dcvc-rt")
    assert codec.options["device"] == "cuda" and codec.options["precision"] == "fp16"
    cmd = codec.driver_cmd("encode", prepared_like(), [])
    assert cmd[cmd.index("--variant") + 1] == "rt" and cmd[cmd.index("--precision") + 1] == "fp16"
    dec = create_codec("dcvc-rt", intra_period=32).driver_cmd("decode", prepared_like(), [])
    assert dec[dec.index("--intra-period") + 1] == "32"  # a decoder that cannot read frame types needs it
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the error below cannot happen")
    import importlib.util

    if importlib.util.find_spec("MLCodec_extensions_cpp") is None:
        with pytest.raises(CodecUnavailable, match="MLCodec_extensions_cpp"):
            codec.check_available()
    else:
        with pytest.raises(CodecUnavailable, match="dcvc-rt needs CUDA .*no GPU"):
            codec.check_available()


def prepared_like():
    from types import SimpleNamespace

    return SimpleNamespace(width=176, height=144, num_frames=3, format=SimpleNamespace(bit_depth=8))


def _checkout(name: str) -> Path | None:
    try:
        return create_codec(name).checkout()
    except BenchError:
        return None


def _random_checkpoints(name: str, co: Path, folder: Path) -> tuple[Path, Path]:
    i_mod, i_cls, p_mod, p_cls, p_args = CLASSES[name]
    ckpt_i, ckpt_p = folder / f"random_{name}_image.pth.tar", folder / f"random_{name}_video.pth.tar"
    subprocess.run([sys.executable, "-c",
                    "import sys, importlib, torch; sys.path.insert(0, sys.argv[1]); torch.manual_seed(1);"
                    f"I = getattr(importlib.import_module('{i_mod}'), '{i_cls}');"
                    f"P = getattr(importlib.import_module('{p_mod}'), '{p_cls}');"
                    "torch.save({'state_dict': I().state_dict()}, sys.argv[2]);"
                    f"torch.save({{'state_dict': P({p_args}).state_dict()}}, sys.argv[3])",
                    str(co), str(ckpt_i), str(ckpt_p)], check=True, capture_output=True)
    return ckpt_i, ckpt_p


@pytest.mark.slow
@pytest.mark.parametrize("name", ["dcvc-fm", "dcvc-dc", "glc"])
def test_random_weights_plumbing_only(name, tmp_path, monkeypatch):
    co = _checkout(name)
    if co is None:
        pytest.skip(f"no {name} checkout (set BENCH_{name.upper().replace('-', '_')}_CHECKOUT; see docs/codecs.md)")
    ckpt_i, ckpt_p = _random_checkpoints(name, co, tmp_path)
    env = name.upper().replace("-", "_")
    monkeypatch.setenv(f"BENCH_{env}_MODEL_I", str(ckpt_i))
    monkeypatch.setenv(f"BENCH_{env}_MODEL_P", str(ckpt_p))
    store = tmp_path / "r.sqlite"
    assert main(["run", "--suite", "demo", "--sequences", "carphone", "--codecs", name, "--bpp", "0.5",
                 "--frames", "3", "--jobs", "1", "--no-progress", "--store", str(store)]) == 0
    with Store(store, readonly=True) as st:
        (row,) = st.results()
    assert row["status"] in ("ok", "unreachable") and row["bits"] > 0
    if name == "glc":  # no bitstream: the bits are the model's estimate, said so in the row and the tables
        assert row["bits_source"] == "estimated"
        import json

        assert json.loads(Path(row["bitstream"]).read_text())["estimated_bits"] == pytest.approx(row["bits"], abs=1)
        assert "glc [estimated bits]" in text_report(store)
    else:
        assert row["bits"] == Path(row["bitstream"]).stat().st_size * 8 and row["bits_source"] == "file"
        # the decoder made, from the file alone, exactly the frames the encoder made
        assert row["config"]["decoder_check"] == "decoded frames identical to the encoder's reconstruction"
    cfg = row["config"]["codec"]
    assert cfg["checkpoints"]["i"]["sha256"] and cfg["options"]["device"] == "cpu"
    assert cfg["options"]["precision"] == "fp32" and row["config"]["bitstream_meta"]["variant"] == name
    assert np.isfinite(row["metrics"]["psnr_y"])
    # decoding the kept file alone gives the same frames every time
    codec = create_codec(name)
    src = prepared_source(row["config"]["sequence"])
    bs = Bitstream([Path(row["bitstream"])], row["knob"], [], 0.0)
    a = codec.decode(bs, src, tmp_path / "a").path.read_bytes()
    b = codec.decode(bs, src, tmp_path / "b").path.read_bytes()
    assert a == b and len(a) == src.format.frame_bytes * 3


def test_estimated_bits_are_named_in_tables_and_never_the_default_anchor():
    import pandas as pd

    from bench.report.bd_tables import choose_anchor
    from bench.results.row import curve_label
    from bench.results.tables import name_estimated

    df = name_estimated(pd.DataFrame({"codec": ["glc", "x264"], "bits_source": ["estimated", "file"]}))
    assert list(df["codec"]) == ["glc [estimated bits]", "x264"]
    assert curve_label("glc [estimated bits]", "estimated") == "glc [estimated bits]"  # legends: named once
    assert choose_anchor(list(df["codec"]))[0] == "x264"
