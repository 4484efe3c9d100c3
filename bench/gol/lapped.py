"""A linear lapped transform, the tokenizer's optional linear path (``[model] linear_path``).

:class:`LappedLinear` maps ``frames`` frames stacked as channels to latents with one strided
convolution over overlapping windows (kernel = 2 x stride: a lapped transform) and back with its
transposed convolution. Trained for MSE it already reconstructs far better than a thumbnail of the
same size (``benchmarks/gol_tokenizer_bounds.py``), so a tokenizer with this path (latent = nonlinear
encoder + linear encoder, frames = nonlinear decoder + linear decoder) starts from a working
reconstruction and its networks learn the residual. :func:`block_pca` and :func:`pca_init` give its
closed-form start: the PCA of ``frames`` x s x s x RGB blocks in the middle of the kernels.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F


class LappedLinear(nn.Module):
    """(N, 3*frames, H, W) -> (N, channels, H/stride, W/stride) by one strided convolution over
    ``kernel`` x ``kernel`` windows (the input replicate-padded by (kernel - stride) / 2, so H and W
    multiples of ``stride`` give exactly H/stride x W/stride), and back by its transposed
    convolution (cropped by the same padding)."""

    def __init__(self, frames: int, channels: int, stride: int = 8, kernel: int = 16):
        super().__init__()
        if (kernel - stride) % 2 or kernel < stride:
            raise ValueError(f"kernel {kernel} must be stride {stride} plus an even overlap")
        self.stride, self.pad = stride, (kernel - stride) // 2
        self.enc = nn.Conv2d(3 * frames, channels, kernel, stride)
        self.dec = nn.ConvTranspose2d(channels, 3 * frames, kernel, stride, padding=self.pad)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.enc(F.pad(x, (self.pad,) * 4, mode="replicate") if self.pad else x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.dec(z)


def clip_windows(clip: np.ndarray, count: int, length: int) -> list[np.ndarray]:
    """Up to ``count`` windows of ``length`` consecutive frames of ``clip`` (T, H, W, 3), evenly
    spread over it (one shorter window when the clip is shorter): the frames a block PCA is
    computed from."""
    starts = np.unique(np.linspace(0, max(0, len(clip) - length), count).round().astype(int))
    return [np.ascontiguousarray(clip[s:s + length]) for s in starts]


def frame_groups(win: np.ndarray, t: int, device: str | torch.device = "cpu") -> torch.Tensor:
    """uint8 RGB frames (L, H, W, 3) -> groups of ``t`` frames stacked as channels, (L/t, 3t, H, W)
    in [-1, 1] (a last incomplete group is dropped)."""
    x = torch.from_numpy(win).to(device).permute(0, 3, 1, 2).float() / 127.5 - 1
    l, c, h, w = x.shape
    return x[: l // t * t].reshape(l // t, t * c, h, w)


@torch.no_grad()
def block_pca(groups: Iterable[torch.Tensor], channels: int, block: int = 8, per_batch: int = 2000,
              seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Closed-form PCA of ``block`` x ``block`` blocks of groups of stacked frames (G, 3t, H, W) in
    [-1, 1]: (mean (d,), the top ``channels`` eigenvectors (d, channels)), d = 3t * block^2; from at
    most ``per_batch`` random blocks of each tensor on the block grid and as many on the grid shifted
    by half a block (both phases a lapped transform meets)."""
    rng = np.random.default_rng(seed)
    s1 = s2 = None
    n = 0
    for x in groups:
        d = x.shape[1] * block * block
        for off in (0, block // 2):
            b = F.unfold(x[:, :, off:, off:].float(), block, stride=block)  # (G, d, L)
            b = b.transpose(1, 2).reshape(-1, d)
            b = b[torch.from_numpy(rng.permutation(len(b))[:per_batch]).to(b.device)]
            if s1 is None:
                s1 = torch.zeros(d, dtype=torch.float64, device=b.device)
                s2 = torch.zeros(d, d, dtype=torch.float64, device=b.device)
            s1 += b.sum(0).double()
            s2 += (b.T @ b).double()
            n += len(b)
    if not n:
        raise ValueError("block_pca: no blocks")
    mean = s1 / n
    _, evecs = torch.linalg.eigh(s2 / n - torch.outer(mean, mean))
    return mean.float(), evecs[:, -channels:].flip(1).float()


@torch.no_grad()
def pca_init(model: LappedLinear, mean: torch.Tensor, u: torch.Tensor) -> None:
    """Put a block PCA (:func:`block_pca`, blocks of the model's stride) in the middle of the model's
    kernels: a block transform to start from (encoder: projection of the centred block; decoder: the
    same basis, and the mean of each stacked channel as its bias)."""
    t3, c, s, lo = model.enc.in_channels, model.enc.out_channels, model.stride, model.pad
    k = u.T.reshape(c, t3, s, s).to(model.enc.weight)
    model.enc.weight.zero_()
    model.enc.weight[:, :, lo:lo + s, lo:lo + s] = k
    model.enc.bias.copy_(-(u.T @ mean.to(u)))
    model.dec.weight.zero_()
    model.dec.weight[:, :, lo:lo + s, lo:lo + s] = k
    model.dec.bias.copy_(mean.reshape(t3, s * s).mean(1))
