"""A broken learned-codec build must not produce a normal-looking row: where the encoder knows its
reconstruction, the decoded frames must be the same, else the row is `failed` with one line; and
`bench list codecs` runs a tiny coder round trip to name a bad build before a sweep.

DCVC itself cannot run here: ``tests/fakes/dcvc_fm`` stands in for a DCVC-FM checkout (the modules
and calls the real driver uses, a trivial model of our own), and its "entropy coder" can be made to
write streams of the right length and the wrong content (``FAKE_DCVC_BROKEN_CODER``), as DCVC's C++
coder does when built with a pybind11 older than NumPy 2. The real driver, adapter and runner run
on it. GoL runs for real with small random weights; its stream is corrupted after encoding."""
import shutil
from pathlib import Path

import numpy as np
import pytest

from bench.cli import main
from bench.codecs import create_codec
from bench.codecs.agreement import AGREE, MISMATCH, difference, round_trip
from bench.codecs.base import Decoded
from bench.results.store import Store
from bench.run.sweep import SweepConfig, sweep
from bench.video import Frame, VideoFormat, write_video
from bench.video.color import rgb_to_yuv420
from bench.video.yuv import write_yuv

FAKE_FM = Path(__file__).parent / "fakes" / "dcvc_fm"


def _suite(folder: Path, w: int = 64, h: int = 48, frames: int = 3) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    yy, xx = np.mgrid[0:h, 0:w] / max(w, h)
    out = [Frame(*rgb_to_yuv420(np.stack([(xx + yy * c + t / 8) % 1 for c in range(3)], -1)), bit_depth=8)
           for t in range(frames)]
    write_video(folder / "clip.y4m", out, fps=25)
    return folder


@pytest.fixture
def fake_fm(tmp_path, monkeypatch):
    """A built 'checkout' with 'checkpoints', configured for dcvc-fm."""
    import torch

    co = tmp_path / "DCVC-FM"
    shutil.copytree(FAKE_FM, co)
    (co / "src" / "models" / "MLCodec_rans.cpython-311-x86_64-linux-gnu.so").write_bytes(b"")  # "built"
    (co / "checkpoints").mkdir()
    for name in ("cvpr2024_image.pth.tar", "cvpr2024_video.pth.tar"):
        torch.save({"state_dict": {}}, co / "checkpoints" / name)
    monkeypatch.setenv("BENCH_DCVC_FM_CHECKOUT", str(co))
    monkeypatch.delenv("FAKE_DCVC_BROKEN_CODER", raising=False)
    return co


def _sweep(tmp_path: Path, codec: str, **kw) -> list:
    cfg = SweepConfig(suite=str(_suite(tmp_path / "suite")), codecs=[codec], targets=[0.5], metrics=["psnr"],
                      jobs=1, backend="sequential", progress=False, store=tmp_path / "r.sqlite", **kw)
    sweep(cfg, log=lambda m: None)
    with Store(cfg.store, readonly=True) as s:
        return s.results()


def test_difference_says_where_frames_differ(tmp_path):
    fmt = VideoFormat(16, 8)
    frames = [Frame(np.full((8, 16), 100 + i, np.uint8), np.full((4, 8), 128, np.uint8),
                    np.full((4, 8), 128, np.uint8), 8) for i in range(3)]
    write_yuv(tmp_path / "a.yuv", frames)
    write_yuv(tmp_path / "b.yuv", frames)
    a, b = Decoded(tmp_path / "a.yuv", fmt, [], 0), Decoded(tmp_path / "b.yuv", fmt, [], 0)
    assert difference(a, b, 3) is None
    frames[1].y[2, 3] += 4
    write_yuv(tmp_path / "b.yuv", frames)
    assert difference(a, b, 3) == ("1 of 3 frames differ, first frame 1: 1 of 128 luma samples, largest difference 4, "
                                   "PSNR-Y between them 57.16 dB")
    write_yuv(tmp_path / "c.yuv", frames[:2])
    assert difference(Decoded(tmp_path / "c.yuv", fmt, [], 0), b, 3) == "2 frames decoded, 3 from the encoder, 3 expected"


@pytest.mark.slow
def test_dcvc_decode_agreeing_with_its_encoder_is_stored_as_checked(fake_fm, tmp_path):
    (row,) = _sweep(tmp_path, "dcvc-fm")
    assert row.status in ("ok", "unreachable"), row.error
    assert row.config["decoder_check"] == AGREE and row.bits == Path(row.bitstream).stat().st_size * 8


@pytest.mark.slow
def test_dcvc_coder_that_corrupts_its_streams_gives_a_failed_row(fake_fm, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_DCVC_BROKEN_CODER", "1")
    (row,) = _sweep(tmp_path, "dcvc-fm")
    assert row.status == "failed" and row.error.startswith(MISMATCH), row.error
    assert "dcvc-fm's decoder did not make the frames its encoder made" in row.error and "\n" not in row.error
    assert row.metrics is None and row.bits is None  # no result that looks like one


@pytest.mark.slow
def test_list_codecs_runs_a_coder_round_trip(fake_fm, monkeypatch, capsys):
    assert round_trip(create_codec("x264")) is None  # nothing to compare: not run
    monkeypatch.setenv("FAKE_DCVC_BROKEN_CODER", "1")
    assert main(["list", "codecs"]) == 0
    out = capsys.readouterr().out
    block = out[out.index("dcvc-fm "):].split("\n")[:3]
    assert block[2].strip().startswith(f"BROKEN: {MISMATCH}"), block


@pytest.fixture
def random_gol(tmp_path, monkeypatch):
    """Small GoL weights, randomly initialised (PLUMBING ONLY): encoding and decoding are exact all
    the same."""
    import torch

    from bench.gol.model import GoLModel

    torch.manual_seed(0)
    path = tmp_path / "gol-random.pt"
    GoLModel({"latent_ch": 4, "tok_width": 8, "codec_m": 16, "codec_n": 8, "levels": 2, "gen_width": 16,
              "sample_steps": 2}).save(path)
    monkeypatch.setenv("BENCH_GOL_WEIGHTS", str(path))
    return path


@pytest.mark.slow
def test_gol_decode_is_checked_and_a_corrupted_stream_fails(random_gol, tmp_path, monkeypatch):
    from bench.codecs.gol import GoL
    from bench.gol.bitstream import HEADER_BYTES

    (row,) = _sweep(tmp_path / "good", "gol", codec_options={"gol": {"threads": 1}})
    assert row.status in ("ok", "unreachable") and row.config["decoder_check"] == AGREE, row.error
    real_encode = GoL.encode

    def corrupting(self, seq, knob, workdir, deadline=None):  # the coder wrote other bytes than it was given
        bs = real_encode(self, seq, knob, workdir, deadline)
        data = bytearray(bs.files[0].read_bytes())
        data[HEADER_BYTES:] = bytes(b ^ 0x5A for b in data[HEADER_BYTES:])
        bs.files[0].write_bytes(bytes(data))
        return bs

    monkeypatch.setattr(GoL, "encode", corrupting)
    (row,) = _sweep(tmp_path / "bad", "gol", codec_options={"gol": {"threads": 1}})
    assert row.status == "failed" and row.error.startswith(MISMATCH), row.error
    assert "gol's decoder did not make the frames its encoder made" in row.error


def test_the_encoder_reconstruction_is_not_part_of_the_bits(fake_fm, tmp_path):
    from bench.codecs.agreement import tiny_clip

    codec = create_codec("dcvc-fm")
    seq = tiny_clip(tmp_path)
    bs = codec.encode(seq, 40, tmp_path / "enc")
    assert bs.encoder_side.is_file() and bs.files == [tmp_path / "enc" / "dcvc-fm_q40.bin"]
    assert bs.bits == bs.files[0].stat().st_size * 8
