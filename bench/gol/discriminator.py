"""A patch discriminator for GoL's perceptual decoder stage (training only; never shipped).

The decoder must make plausible detail from latents that carry almost none at 0.001-0.01 bpp; a
reconstruction loss alone gives blur. As in the GAN-trained decoders of generative image and video
codecs (HiFiC, the GoL paper's second stage), a PatchGAN judges overlapping patches of decoded
frames against real ones, with the hinge loss; spectral normalisation keeps it stable with a small
batch.
"""
from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import spectral_norm


class PatchDiscriminator(nn.Module):
    def __init__(self, width: int = 64, layers: int = 3):
        super().__init__()
        mods: list[nn.Module] = [spectral_norm(nn.Conv2d(3, width, 4, 2, 1)), nn.LeakyReLU(0.2)]
        ch = width
        for i in range(1, layers):
            nxt = min(width * 2 ** i, 8 * width)
            mods += [spectral_norm(nn.Conv2d(ch, nxt, 4, 2 if i < layers - 1 else 1, 1)), nn.LeakyReLU(0.2)]
            ch = nxt
        mods.append(spectral_norm(nn.Conv2d(ch, 1, 3, 1, 1)))
        self.net = nn.Sequential(*mods)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """Frames (N, 3, H, W) in [-1, 1] -> a map of patch logits."""
        return self.net(frames)


def hinge_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return F.relu(1 - real).mean() + F.relu(1 + fake).mean()


def hinge_g(fake: torch.Tensor) -> torch.Tensor:
    return -fake.mean()
