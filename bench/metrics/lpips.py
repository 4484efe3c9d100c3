"""LPIPS (Zhang et al., CVPR 2018, "The Unreasonable Effectiveness of Deep Features as a Perceptual
Metric"), version 0.1, with the AlexNet and VGG16 backbones.

The calibrated linear layers are the ``lpips`` package's own files and the feature normalisation is
its ``normalize_tensor``; the backbone weights are torchvision's ImageNet weights from an offline
source (:mod:`bench.metrics.weights`). Input is BT.709 RGB; frames are batched and run on the GPU
when there is one. Checked against the official values of pyiqa's calibration table (tests).
"""
from __future__ import annotations

from functools import lru_cache

import torch

from .base import FrameBatch, Metric, Output
from .nets import features, lpips_features
from .weights import lpips_linear

LINEAR_NAME = {"alexnet": "alex", "vgg16": "vgg"}


@lru_cache(maxsize=None)
def linear_layers(net: str, device: str) -> tuple[list[torch.Tensor], dict]:
    state, wf = lpips_linear(LINEAR_NAME[net])
    ws = [state[f"lin{i}.model.1.weight"].to(device) for i in range(5)]
    return ws, wf.record()


def lpips_distance(fa: list[torch.Tensor], fb: list[torch.Tensor], net: str) -> torch.Tensor:
    """LPIPS between feature lists ``fa`` and ``fb`` (as from :func:`lpips_features`), shape (N,)."""
    from lpips import normalize_tensor

    ws, _ = linear_layers(net, str(fa[0].device))
    total = 0
    for a, b, w in zip(fa, fb, ws):
        d = (normalize_tensor(a) - normalize_tensor(b)) ** 2
        total = total + torch.nn.functional.conv2d(d, w).mean(dim=(2, 3))
    return total.flatten()


class LPIPS(Metric):
    net = "alexnet"

    def weights(self) -> list[dict]:
        return [features(self.net, self.device)[1].record(), linear_layers(self.net, self.device)[1]]

    def update_batch(self, batch: FrameBatch) -> None:
        with torch.no_grad():
            d = lpips_distance(lpips_features(batch, "ref", self.net), lpips_features(batch, "dist", self.net), self.net)
        self._values[self.outputs[0].name].extend(d.double().cpu().tolist())


class LPIPSAlex(LPIPS):
    """LPIPS v0.1 with AlexNet, the variant papers mean by "LPIPS"."""

    name = "lpips"
    net = "alexnet"
    description = "LPIPS v0.1, AlexNet (Zhang et al. 2018)"
    outputs = (Output("lpips", "lower", "", "LPIPS v0.1 AlexNet on BT.709 RGB"),)


class LPIPSVgg(LPIPS):
    name = "lpips-vgg"
    net = "vgg16"
    description = "LPIPS v0.1, VGG16 (Zhang et al. 2018)"
    outputs = (Output("lpips_vgg", "lower", "", "LPIPS v0.1 VGG16 on BT.709 RGB"),)
