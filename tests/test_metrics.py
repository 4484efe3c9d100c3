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
