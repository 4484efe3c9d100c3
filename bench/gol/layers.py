"""Small convolutional building blocks shared by the GoL networks."""
from __future__ import annotations

import math

import torch
from torch import nn
import torch.nn.functional as F


def conv(cin: int, cout: int, k: int = 3, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, stride, k // 2)


class ResBlock(nn.Module):
    """conv-GELU-conv with a skip; optional per-channel scale/shift from a conditioning vector."""

    def __init__(self, ch: int, cond_dim: int = 0):
        super().__init__()
        self.c1, self.c2 = conv(ch, ch), conv(ch, ch)
        self.norm = nn.GroupNorm(min(8, max(1, ch // 4)), ch)
        self.film = nn.Linear(cond_dim, 2 * ch) if cond_dim else None

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        h = self.norm(x)
        if self.film is not None:
            s, b = self.film(cond)[:, :, None, None].chunk(2, dim=1)
            h = h * (1 + s) + b
        return x + self.c2(F.gelu(self.c1(F.gelu(h))))


class Down(nn.Sequential):
    """Halve the resolution: stride-2 conv then a residual block."""

    def __init__(self, cin: int, cout: int):
        super().__init__(nn.Conv2d(cin, cout, 4, 2, 1), nn.GELU(), ResBlock(cout))


class Up(nn.Sequential):
    """Double the resolution: nearest-neighbour upsampling, conv, and (unless ``res`` is off, for
    the cheap full-resolution stage of a decoder) a residual block. The same cost as a conv to 4x
    channels and a pixel shuffle, without the shuffle's checkerboard artefacts."""

    def __init__(self, cin: int, cout: int, res: bool = True):
        super().__init__(nn.Upsample(scale_factor=2, mode="nearest"), conv(cin, cout), nn.GELU(),
                         *([ResBlock(cout)] if res else []))


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of flow-matching times t in [0, 1], shape (B,) -> (B, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(1000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = 100.0 * t.float()[:, None] * freqs[None]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)
