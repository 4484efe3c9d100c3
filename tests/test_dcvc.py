"""DCVC adapter: one-line errors without a checkout, and (with a checkout: BENCH_DCVC_FM_CHECKOUT or
codecs/codecs.toml) the real code path end to end with RANDOM WEIGHTS, PLUMBING ONLY: checkpoints
saved from the checkout's own model classes, randomly initialised, in the authors' format."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.cli import main
from bench.codecs import create_codec
from bench.errors import BenchError, CodecUnavailable
from bench.store import Store


def test_missing_checkout_is_one_line_and_the_sweep_goes_on(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BENCH_DCVC_FM_CHECKOUT", str(tmp_path / "no-dcvc"))
    with pytest.raises(CodecUnavailable, match="no DCVC checkout at .*BENCH_DCVC_FM_CHECKOUT"):
        create_codec("dcvc-fm").check_available()
    store = tmp_path / "r.sqlite"
    rc = main(["run", "--suite", "demo", "--sequences", "carphone", "--codecs", "dcvc-fm,x264", "--bpp", "0.02",
               "--frames", "3", "--jobs", "1", "--no-progress", "--store", str(store)])
    assert rc == 3
    err = [line for line in capsys.readouterr().err.splitlines() if "dcvc" in line]
    assert len(err) == 1 and "BENCH_DCVC_FM_CHECKOUT" in err[0]
    with Store(store, readonly=True) as st:
        rows = {r["codec"]: r for r in st.results()}
    assert rows["dcvc-fm"]["status"] == "failed" and rows["x264"]["status"] in ("ok", "unreachable")


def test_missing_checkpoint_and_unbuilt_entropy_coder(tmp_path, monkeypatch):
    co = tmp_path / "DCVC-FM"
    (co / "src" / "models").mkdir(parents=True)
    (co / "src" / "models" / "video_model.py").write_text("")
    monkeypatch.setenv("BENCH_DCVC_FM_CHECKOUT", str(co))
    with pytest.raises(CodecUnavailable, match="entropy coder .* is not built"):
        create_codec("dcvc-fm").check_available()
    (co / "src" / "models" / "MLCodec_rans.cpython-311-x86_64-linux-gnu.so").write_bytes(b"")
    with pytest.raises(CodecUnavailable, match="checkpoint .*cvpr2024_image.pth.tar is missing"):
        create_codec("dcvc-fm").check_available()


def _checkout() -> Path | None:
    try:
        return create_codec("dcvc-fm").checkout()
    except BenchError:
        return None


@pytest.mark.slow
@pytest.mark.skipif(_checkout() is None, reason="no DCVC checkout (set BENCH_DCVC_FM_CHECKOUT; see README)")
def test_dcvc_fm_random_weights_plumbing_only(tmp_path, monkeypatch):
    co = _checkout()
    ckpt_i, ckpt_p = tmp_path / "random_image.pth.tar", tmp_path / "random_video.pth.tar"
    subprocess.run([sys.executable, "-c",
                    "import sys, torch; sys.path.insert(0, sys.argv[1]);"
                    "from src.models.image_model import DMCI; from src.models.video_model import DMC;"
                    "torch.manual_seed(1);"
                    "torch.save({'state_dict': DMCI().state_dict()}, sys.argv[2]);"
                    "torch.save({'state_dict': DMC().state_dict()}, sys.argv[3])",
                    str(co), str(ckpt_i), str(ckpt_p)], check=True, capture_output=True)
    monkeypatch.setenv("BENCH_DCVC_FM_MODEL_I", str(ckpt_i))
    monkeypatch.setenv("BENCH_DCVC_FM_MODEL_P", str(ckpt_p))
    store = tmp_path / "r.sqlite"
    assert main(["run", "--suite", "demo", "--sequences", "carphone", "--codecs", "dcvc-fm", "--bpp", "0.5",
                 "--frames", "3", "--jobs", "1", "--no-progress", "--store", str(store)]) == 0
    with Store(store, readonly=True) as st:
        (row,) = st.results()
    assert row["bits"] == Path(row["bitstream"]).stat().st_size * 8 and row["bits_source"] == "file"
    assert row["config"]["codec"]["checkpoints"]["i"]["sha256"] and row["config"]["codec"]["options"]["device"] == "cpu"
    assert np.isfinite(row["metrics"]["psnr_y"])
    # decoding the file alone gives the same frames every time
    codec = create_codec("dcvc-fm")
    from bench.codecs.base import Bitstream
    from bench.reconstruct import prepared_source

    src = prepared_source(row["config"]["sequence"])
    bs = Bitstream([Path(row["bitstream"])], row["knob"], [], 0.0)
    a = codec.decode(bs, src, tmp_path / "a").path.read_bytes()
    b = codec.decode(bs, src, tmp_path / "b").path.read_bytes()
    assert a == b and len(a) == src.format.frame_bytes * 3
