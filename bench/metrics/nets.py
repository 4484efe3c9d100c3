"""ImageNet backbones with real weights (see :mod:`bench.metrics.weights`), loaded once per device.

LPIPS and DISTS both normalise RGB in [0, 1] by the ImageNet mean and standard deviation (LPIPS's
``ScalingLayer`` on [-1, 1] input is the same affine map) and both start with VGG16's first stage
(conv1_1, conv1_2 and their ReLUs), so :func:`vgg16_stage1` is computed once per frame per batch
and shared. After that the two differ: LPIPS max-pools, DISTS uses an L2 (Hanning) pooling, so the
deeper features are not the same tensors.
"""
from __future__ import annotations

from functools import lru_cache

import torch

from .base import FrameBatch
from .weights import WeightFile, backbone

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# torchvision ``features`` slices giving LPIPS's five feature maps (relu1..relu5 / relu*_2|3)
LPIPS_SLICES = {"alexnet": ((0, 2), (2, 5), (5, 8), (8, 10), (10, 12)),
                "vgg16": ((0, 4), (4, 9), (9, 16), (16, 23), (23, 30))}


@lru_cache(maxsize=None)
def features(net: str, device: str) -> tuple[torch.nn.Sequential, WeightFile]:
    """``torchvision.models.<net>(weights=None).features`` with real weights, in eval mode."""
    import torchvision

    state, wf = backbone(net)
    model = getattr(torchvision.models, net)(weights=None).features
    model.load_state_dict(state)
    for p in model.parameters():
        p.requires_grad_(False)
    return model.eval().to(device), wf


def imagenet_normalised(batch: FrameBatch, side: str) -> torch.Tensor:
    def compute():
        mean = torch.tensor(IMAGENET_MEAN, device=batch.device).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD, device=batch.device).view(1, 3, 1, 1)
        return (batch.rgb(side) - mean) / std
    return batch.shared(("imagenet", side), compute)


def vgg16_stage1(batch: FrameBatch, side: str) -> torch.Tensor:
    """relu1_2 of VGG16 for the batch's ``side`` frames, shared by LPIPS-VGG and DISTS."""
    def compute():
        net, _ = features("vgg16", batch.device)
        with torch.no_grad():
            return net[0:4](imagenet_normalised(batch, side))
    return batch.shared(("vgg16.stage1", side), compute)


def lpips_features(batch: FrameBatch, side: str, net: str) -> list[torch.Tensor]:
    """LPIPS's five feature maps of ``net`` ('alexnet' or 'vgg16') for the batch's frames."""
    def compute():
        model, _ = features(net, batch.device)
        out = []
        with torch.no_grad():
            if net == "vgg16":
                h = vgg16_stage1(batch, side)
                slices = LPIPS_SLICES[net][1:]
                out.append(h)
            else:
                h = imagenet_normalised(batch, side)
                slices = LPIPS_SLICES[net]
            for a, b in slices:
                h = model[a:b](h)
                out.append(h)
        return out
    return batch.shared(("lpips", net, side), compute)
