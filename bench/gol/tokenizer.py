"""The causal video tokenizer: frames <-> latent frames, 4x in time and 16x in space.

Latent frame t is made from frames 4t..4t+3 only (the four frames stacked as channels, then four
stride-2 stages), so encoding is causal at the latent rate; the decoder makes frames 4t..4t+3 from
latent t and latent t-1 (causal too), which smooths the seams between groups of four frames.
Frames are RGB in [-1, 1], shape (T, 3, H, W) with T a multiple of 4 and H, W multiples of 16.
"""
from __future__ import annotations

import torch
from torch import nn

from .layers import Down, ResBlock, Up, conv

TIME_STRIDE = 4
SPACE_STRIDE = 16


class VideoTokenizer(nn.Module):
    def __init__(self, latent_ch: int = 16, width: int = 64):
        super().__init__()
        w = width
        self.latent_ch = latent_ch
        self.enc = nn.Sequential(conv(3 * TIME_STRIDE, w), Down(w, w), Down(w, 2 * w), Down(2 * w, 2 * w),
                                 Down(2 * w, 2 * w), ResBlock(2 * w), conv(2 * w, latent_ch))
        self.dec = nn.Sequential(conv(2 * latent_ch, 2 * w), ResBlock(2 * w), ResBlock(2 * w), Up(2 * w, 2 * w),
                                 Up(2 * w, 2 * w), Up(2 * w, w), Up(w, w), conv(w, 3 * TIME_STRIDE))
        # per-channel statistics of the latents on the training data, so the codec and the generator
        # work on unit-variance latents
        self.register_buffer("latent_mean", torch.zeros(latent_ch))
        self.register_buffer("latent_std", torch.ones(latent_ch))

    def encode_raw(self, frames: torch.Tensor) -> torch.Tensor:
        """(T, 3, H, W) -> latents before normalisation (T/4, C, H/16, W/16)."""
        t, c, h, w = frames.shape
        return self.enc(frames.reshape(t // TIME_STRIDE, TIME_STRIDE * c, h, w))

    def normalise(self, z: torch.Tensor) -> torch.Tensor:
        return (z - self.latent_mean[:, None, None]) / self.latent_std[:, None, None]

    def denormalise(self, z: torch.Tensor) -> torch.Tensor:
        return z * self.latent_std[:, None, None] + self.latent_mean[:, None, None]

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        """(T, 3, H, W) -> normalised latents (T/4, C, H/16, W/16)."""
        return self.normalise(self.encode_raw(frames))

    def decode(self, latents: torch.Tensor, before: torch.Tensor | None = None) -> torch.Tensor:
        """normalised latents (N, C, h, w) -> frames (4N, 3, 16h, 16w) in [-1, 1]; ``before`` is the
        latent that precedes ``latents[0]`` (None at the start of a sequence)."""
        prev = torch.cat([latents[:1] if before is None else before[None], latents[:-1]], dim=0)
        z, prev = self.denormalise(latents), self.denormalise(prev)
        x = self.dec(torch.cat([z, prev], dim=1))
        n, _, h, w = x.shape
        return x.reshape(n * TIME_STRIDE, 3, h, w).clamp(-1, 1)
