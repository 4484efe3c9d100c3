import math
import re
import subprocess

import numpy as np
import pytest
from conftest import random_frame

from bench.codecs import create_codec
from bench.metrics import create_metric, metric_names
from bench.metrics.psnr import PSNR_CAP
from bench.suites import get_suite
from bench.suites.sequences import SequenceOptions, prepare
from bench.tools import ffmpeg_exe
from bench.video import open_video


def test_registry_has_directions():
    assert {"psnr", "ms-ssim"} <= set(metric_names())
    for n in metric_names():
        m = create_metric(n)
        for o in m.outputs:
            assert o.direction in ("higher", "lower")


def test_psnr_identical_is_capped():
    m = create_metric("psnr")
    f = random_frame(32, 32)
    m.update(f, f)
    assert m.result().summary["psnr_y"] == PSNR_CAP


def test_psnr_known_value():
    a = random_frame(16, 16)
    b = random_frame(16, 16)
    b.y[:] = np.clip(a.y.astype(int) + 4, 0, 255).astype(np.uint8)
    a.y[:] = np.clip(a.y, 0, 251)
    b.y[:] = a.y + 4
    m = create_metric("psnr")
    m.update(a, b)
    assert m.result().summary["psnr_y"] == pytest.approx(10 * math.log10(255 ** 2 / 16))


@pytest.mark.slow
def test_psnr_matches_ffmpeg_psnr_filter(tmp_path):
    """Per-frame Y/U/V PSNR of a real x265 decode agrees with ffmpeg's psnr filter."""
    seq = prepare(get_suite("demo").select(["bikes"])[0], SequenceOptions(frames=6, fps_step=5), tmp_path)
    codec = create_codec("x265")
    bs = codec.encode(seq, 38, tmp_path)
    dec = codec.decode(bs, seq, tmp_path)
    stats = tmp_path / "psnr.log"
    raw = ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{seq.width}x{seq.height}"]
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", *raw, "-i", str(dec.path), *raw, "-i",
                    str(seq.yuv), "-lavfi", f"psnr=stats_file={stats}", "-f", "null", "-"], check=True)
    theirs = [dict(re.findall(r"(psnr_[yuv]):([\d.]+)", line)) for line in stats.read_text().splitlines()]
    m = create_metric("psnr")
    for a, b in zip(seq.reader(), open_video(dec.path, width=seq.width, height=seq.height)):
        m.update(a, b)
    ours = m.result().per_frame
    assert len(theirs) == len(ours["psnr_y"]) == 6
    for i, t in enumerate(theirs):
        for p in "yuv":
            assert ours[f"psnr_{p}"][i] == pytest.approx(float(t[f"psnr_{p}"]), abs=0.01)


def test_ms_ssim_identical_and_degraded():
    m = create_metric("ms-ssim", device="cpu")
    f = random_frame(192, 176)
    g = random_frame(192, 176, seed=5)
    m.update(f, f)
    m.update(f, g)
    v = m.result().per_frame["ms_ssim_rgb"]
    assert v[0] == pytest.approx(1.0, abs=1e-5) and v[1] < 0.9


def test_ms_ssim_small_frames_are_nan_with_a_note():
    m = create_metric("ms-ssim", device="cpu")
    f = random_frame(176, 144)
    m.update(f, f)
    r = m.result()
    assert math.isnan(r.summary["ms_ssim_rgb"]) and "161" in r.info["notes"][0]


def _piq_ms_ssim(a: np.ndarray, b: np.ndarray) -> float:
    import piq
    import torch

    if a.ndim == 2:
        a, b = a[..., None], b[..., None]
    ta, tb = (torch.from_numpy(np.ascontiguousarray(x, np.float32)).permute(2, 0, 1)[None] for x in (a, b))
    return float(piq.multi_scale_ssim(ta, tb, data_range=1.0, kernel_size=11))


@pytest.mark.parametrize("w,h", [(1280, 720), (203, 175), (161, 161)])
def test_ms_ssim_agrees_with_piq(w, h):
    """The separable implementation gives piq's values (RGB and Y) to 1e-5, odd sizes included
    (piq's replicate pad between scales)."""
    from bench.metrics.msssim import ms_ssim

    rng = np.random.default_rng(w)
    ramp = np.linspace(0, 0.7, w, dtype=np.float32)[None, :, None]
    a = rng.random((h, w, 3), dtype=np.float32) * 0.3 + ramp
    b = np.clip(a + rng.normal(0, 0.05, a.shape).astype(np.float32), 0, 1)
    assert ms_ssim(a, b) == pytest.approx(_piq_ms_ssim(a, b), abs=1e-5)
    assert ms_ssim(a[..., 0], b[..., 0]) == pytest.approx(_piq_ms_ssim(a[..., 0], b[..., 0]), abs=1e-5)


@pytest.mark.slow
def test_ms_ssim_of_a_real_decode_agrees_with_piq(tmp_path):
    seq = prepare(get_suite("demo").select(["bikes"])[0], SequenceOptions(frames=3, fps_step=5), tmp_path)
    codec = create_codec("x265")
    dec = codec.decode(codec.encode(seq, 45, tmp_path), seq, tmp_path)
    m = create_metric("ms-ssim", device="cpu")
    pairs = list(zip(seq.reader(), open_video(dec.path, width=seq.width, height=seq.height)))
    for a, b in pairs:
        m.update(a, b)
    r = m.result().per_frame
    for i, (a, b) in enumerate(pairs):
        assert r["ms_ssim_rgb"][i] == pytest.approx(_piq_ms_ssim(a.rgb(), b.rgb()), abs=1e-5)
        ya, yb = (f.y.astype(np.float32) / 255 for f in (a, b))
        assert r["ms_ssim_y"][i] == pytest.approx(_piq_ms_ssim(ya, yb), abs=1e-5)
