"""Frame losses for training: LPIPS v0.1 (AlexNet) made differentiable.

It is the metric's own network (:mod:`bench.metrics.nets`, real weights from an offline source) and
its own calibrated linear layers (:func:`bench.metrics.lpips.lpips_distance`), run with gradients to
the input. Training on it, as the GoL paper's second stage does, means LPIPS-AlexNet scores of a
model trained with it are partly optimised for; DISTS and LPIPS-VGG are independent checks.
"""
from __future__ import annotations

import torch

from ..metrics.lpips import lpips_distance
from ..metrics.nets import IMAGENET_MEAN, IMAGENET_STD, LPIPS_SLICES, features


def lpips_loss(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean LPIPS-AlexNet between frames ``a`` and ``b`` (N, 3, H, W) in [-1, 1]; ``b`` is the target."""
    net, _ = features("alexnet", str(a.device))
    mean = torch.tensor(IMAGENET_MEAN, device=a.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=a.device).view(1, 3, 1, 1)

    def feats(x: torch.Tensor) -> list[torch.Tensor]:
        h, out = ((x + 1) / 2 - mean) / std, []
        for lo, hi in LPIPS_SLICES["alexnet"]:
            h = net[lo:hi](h)
            out.append(h)
        return out

    with torch.no_grad():
        target = feats(b)
    return lpips_distance(feats(a), target, "alexnet").mean()
