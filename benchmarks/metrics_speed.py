"""Benchmark: frames per second of every metric at 1280x720, and the gain over pyiqa's per-image loop.

Source: the first frames of the demo suite's ``bigbuckbunny`` (real 1280x720 footage), encoded by
x265 and decoded, so the metrics see a real reconstruction. For each metric, ``bench.run.measure.measure``
runs alone over the decoded file (YUV reading, BT.709 conversion, batching and device transfers
included); then all metrics together (shared features). For LPIPS (AlexNet, VGG16), DISTS and
MS-SSIM the same numbers are computed with pyiqa's architectures, called one frame pair at a time
(pyiqa's usage), with the same weights (pyiqa would download torchvision's; here its torchvision
constructors are handed ours), and the values are compared. Figures go to
``reports/benchmarks/metrics_speed_<device>.json``.

    python benchmarks/metrics_speed.py [--frames 8] [--device cpu|cuda] [--batch 4]
"""
from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from x265_decoded import x265_decoded  # the module beside this script

from bench.metrics import metric_class
from bench.paths import write_benchmark_figures
from bench.run.measure import measure

METRICS = ["psnr", "ms-ssim", "lpips", "lpips-vgg", "dists", "vmaf", "fid", "fvd", "tlp", "tof"]


def pyiqa_models(device: str) -> dict:
    """pyiqa's LPIPS and DISTS modules with bench's offline weights, and its MS-SSIM."""
    import pyiqa.archs.dists_arch as dists_arch
    import pyiqa.archs.lpips_arch as lpips_arch
    import pyiqa.archs.ssim_arch as ssim_arch
    import torchvision

    from bench.metrics.weights import backbone, dists_alpha_beta, lpips_linear

    constructors = {"alexnet": torchvision.models.alexnet, "vgg16": torchvision.models.vgg16}

    def offline(name):
        def build(*a, **k):
            m = constructors[name](weights=None)
            m.features.load_state_dict(backbone(name)[0])
            return m
        return build

    torchvision.models.alexnet, torchvision.models.vgg16 = offline("alexnet"), offline("vgg16")
    out = {}
    for name, net in (("lpips", "alex"), ("lpips-vgg", "vgg")):
        m = lpips_arch.LPIPS(pretrained=False, net=net)
        missing = m.load_state_dict(lpips_linear(net)[0], strict=False)
        assert not [k for k in missing.missing_keys if k[:3] == "lin" and k[3].isdigit()]  # lins.* alias lin0-4
        out[name] = m.eval().to(device)
    d = dists_arch.DISTS(pretrained=False)
    ab = dists_alpha_beta()[0]
    d.alpha.data, d.beta.data = ab["alpha"], ab["beta"]
    out["dists"] = d.eval().to(device)
    out["ms-ssim"] = ssim_arch.MS_SSIM(channels=3, test_y_channel=False).eval().to(device)
    return out


def time_pyiqa(models: dict, ref: torch.Tensor, dist: torch.Tensor, device: str) -> dict:
    out = {}
    for name, model in models.items():
        vals = []
        sync(device)
        t0 = time.perf_counter()
        with torch.no_grad():
            for i in range(len(ref)):  # pyiqa's loop: one image pair per call
                a, b = ref[i:i + 1].to(device), dist[i:i + 1].to(device)
                if name in ("lpips", "lpips-vgg"):
                    v = model(b, a, normalize=True)
                else:
                    v = model(b, a)
                vals.append(float(v))
        sync(device)
        out[name] = {"seconds": time.perf_counter() - t0, "values": vals}
    return out


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--metrics", default=",".join(METRICS))
    ap.add_argument("--output", type=Path)
    a = ap.parse_args()
    os.environ["BENCH_METRIC_BATCH"] = str(a.batch)
    # both sides every time: the reference cache's gain is benchmarks/reference_once.py's figure
    os.environ.setdefault("BENCH_REFERENCE_CACHE_MB", "0")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("BENCH_DATA_DIR", str(Path(tmp) / "datasets"))
        p, dec = x265_decoded(Path(tmp), a.frames)
        n = p.num_frames
        measure(p, dec, ["lpips", "lpips-vgg", "dists", "fid", "fvd"], device=a.device)  # warm-up: load weights
        ours, values = {}, {}
        names = a.metrics.split(",")
        for name in names:
            sync(a.device)
            m = measure(p, dec, [name], device=a.device)
            ours[name] = {"seconds": m.seconds, "fps": n / m.seconds, "scope": metric_class(name).scope}
            values[name] = m.per_frame
        together = measure(p, dec, names, device=a.device)
        pair = measure(p, dec, [k for k in ("lpips-vgg", "dists") if k in names], device=a.device)
        from bench.video import open_video

        def rgb(frames):
            return torch.from_numpy(np.stack([f.rgb() for f in frames])).permute(0, 3, 1, 2)

        ref_rgb = rgb(p.reader().frames())
        dist_rgb = rgb(f.to_bit_depth(p.format.bit_depth) for f in open_video(
            dec.path, width=p.width, height=p.height, bit_depth=dec.format.bit_depth).frames())
        theirs = time_pyiqa({k: v for k, v in pyiqa_models(a.device).items() if k in names}, ref_rgb, dist_rgb,
                            a.device)
    key = {"lpips": "lpips", "lpips-vgg": "lpips_vgg", "dists": "dists", "ms-ssim": "ms_ssim_rgb"}
    comparison = {}
    for name, t in theirs.items():
        ours_vals = values[name][key[name]]
        comparison[name] = {
            "bench_fps": ours[name]["fps"], "pyiqa_fps": n / t["seconds"],
            "speedup": t["seconds"] / ours[name]["seconds"],
            "max_abs_difference": float(np.max(np.abs(np.asarray(ours_vals) - np.asarray(t["values"])))),
        }
    sum_separate = sum(ours[k]["seconds"] for k in ("lpips-vgg", "dists") if k in ours)
    result = {
        "device": a.device, "gpu": torch.cuda.get_device_name() if a.device.startswith("cuda") else None,
        "cpu": platform.processor() or platform.machine(), "threads": torch.get_num_threads(),
        "frames": n, "size": f"{p.width}x{p.height}", "batch": a.batch,
        "metrics": ours,
        "all_metrics_together": {"seconds": together.seconds, "fps": n / together.seconds,
                                 "sum_of_separate_seconds": sum(v["seconds"] for v in ours.values())},
        "lpips_vgg_plus_dists": {"together_seconds": pair.seconds, "separate_seconds": sum_separate},
        "pyiqa_per_image_loop": comparison,
        "command": f"python benchmarks/metrics_speed.py --frames {a.frames} --device {a.device} --batch {a.batch}"
                   f" --metrics {a.metrics}",
    }
    write_benchmark_figures(result, f"metrics_speed_{a.device.split(':')[0]}", a.output)


if __name__ == "__main__":
    main()
