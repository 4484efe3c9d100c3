"""The P-latent generator: conditional flow matching over a window of latent frames.

A window holds a context slot (the latent before the window, already decoded or generated) and
``WINDOW`` slots. Each slot is *known* (a decoded I-latent, or the context), *to generate*, or
*absent* (past the end of the sequence, or no context at the start). The network predicts the
velocity of a rectified flow from Gaussian noise to the P-latents given the known ones; sampling takes
a fixed number of Euler steps from noise drawn with a seed the bitstream header determines, so any
decoder draws the same noise and makes the same frames.

``temperature`` (``[model] sample_temperature``, default 1) scales the noise sampling starts from:
below 1 the Euler steps start nearer the middle of the noise distribution and end nearer the most
likely P-latents, trading sample diversity (which a decoder of fixed frames does not need) for
fidelity; at 0 sampling is deterministic from zero noise. Another value is another decoder, so it is
a buffer of the weights (part of the model id); at 1 there is no buffer and the model is as before.
"""
from __future__ import annotations

import torch
from torch import nn

from .layers import Down, ResBlock, Up, conv, timestep_embedding

WINDOW = 4
KNOWN, GENERATE, ABSENT = 1.0, 0.0, -1.0


class LatentGenerator(nn.Module):
    def __init__(self, latent_ch: int = 16, width: int = 64, temb: int = 64, temperature: float = 1.0):
        super().__init__()
        slots = WINDOW + 1
        self.latent_ch, self.temb = latent_ch, temb
        self.t_mlp = nn.Sequential(nn.Linear(temb, temb), nn.GELU(), nn.Linear(temb, temb))
        self.inp = conv(slots * (latent_ch + 1), width)
        self.b1 = nn.ModuleList([ResBlock(width, temb), ResBlock(width, temb)])
        self.down = Down(width, 2 * width)
        self.b2 = nn.ModuleList([ResBlock(2 * width, temb), ResBlock(2 * width, temb), ResBlock(2 * width, temb)])
        self.up = Up(2 * width, width)
        self.b3 = nn.ModuleList([ResBlock(width, temb), ResBlock(width, temb)])
        self.out = conv(2 * width, WINDOW * latent_ch)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        if float(temperature) != 1.0:
            self.register_buffer("temperature", torch.tensor(float(temperature)))
        else:
            self.temperature = None

    def forward(self, x: torch.Tensor, flags: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """x (B, 1+WINDOW, C, h, w) with known values and noisy ones in place; flags (B, 1+WINDOW);
        t (B,) -> velocity (B, WINDOW, C, h, w). h and w must be even."""
        b, s, c, h, w = x.shape
        f = flags[:, :, None, None, None].expand(b, s, 1, h, w)
        x = torch.where(flags[:, :, None, None, None] == ABSENT, torch.zeros_like(x), x)
        e = self.t_mlp(timestep_embedding(t, self.temb))
        h0 = self.inp(torch.cat([x, f], dim=2).reshape(b, s * (c + 1), h, w))
        h1 = h0
        for blk in self.b1:
            h1 = blk(h1, e)
        h2 = self.down(h1)
        for blk in self.b2:
            h2 = blk(h2, e)
        h3 = self.up(h2) + h1
        for blk in self.b3:
            h3 = blk(h3, e)
        return self.out(torch.cat([h3, h0], dim=1)).reshape(b, WINDOW, c, h, w)

    @staticmethod
    def _generated_mean(sq_err: torch.Tensor, flags: torch.Tensor) -> torch.Tensor:
        """The mean of ``sq_err`` (B, WINDOW, C, h, w) over the window's GENERATE slots."""
        w = (flags == GENERATE)[:, 1:, None, None, None].float().expand_as(sq_err)
        return (sq_err * w).sum() / w.sum().clamp_min(1)

    def loss(self, target: torch.Tensor, known: torch.Tensor, flags: torch.Tensor) -> torch.Tensor:
        """Flow-matching loss: target (B, 1+WINDOW, C, h, w) the true latents, known the same with
        the values the decoder will have (decoded I-latents), flags as in ``forward``."""
        b = target.shape[0]
        t = torch.rand(b, device=target.device)
        noise = torch.randn_like(target)
        tt = t[:, None, None, None, None]
        xt = (1 - tt) * noise + tt * target
        x = torch.where((flags == GENERATE)[:, :, None, None, None], xt, known)
        v = self(x, flags, t)
        return self._generated_mean((v - (target - noise)[:, 1:]) ** 2, flags)

    def integrate(self, noise: torch.Tensor, known: torch.Tensor, flags: torch.Tensor, steps: int) -> torch.Tensor:
        """``steps`` Euler steps of the flow from ``noise`` scaled by the sampling temperature in the
        GENERATE slots, the known values elsewhere (differentiable: :meth:`regression_loss` trains
        through it)."""
        if self.temperature is not None:
            noise = noise * self.temperature.to(noise.device)
        is_gen = (flags == GENERATE)[:, :, None, None, None]
        x = torch.where(is_gen, noise, known)
        for i in range(steps):
            t = torch.full((known.shape[0],), i / steps, device=known.device)
            v = self(x, flags, t)
            step = torch.cat([torch.zeros_like(v[:, :1]), v], dim=1) / steps
            x = torch.where(is_gen, x + step, x)
        return x

    def regression_loss(self, target: torch.Tensor, known: torch.Tensor, flags: torch.Tensor, steps: int) -> torch.Tensor:
        """Mean squared error of the P-latents as the decoder makes them (``steps`` Euler steps at the
        sampling temperature) against the true ones, over the GENERATE slots: trains the sampler's
        output itself, which at temperature 0 is then the most likely P-latent given the known ones."""
        noise = torch.randn_like(target)  # on the training device: no decoder has to draw the same
        x = self.integrate(noise, known, flags, steps)
        return self._generated_mean((x[:, 1:] - target[:, 1:]) ** 2, flags)

    @torch.no_grad()
    def sample(self, known: torch.Tensor, flags: torch.Tensor, steps: int, seed: int) -> torch.Tensor:
        """Fill the GENERATE slots of known (1, 1+WINDOW, C, h, w) by ``steps`` Euler steps from
        noise seeded by ``seed`` (drawn on the CPU, so the same on every device)."""
        gen = torch.Generator().manual_seed(seed)
        noise = torch.randn(known.shape, generator=gen, dtype=torch.float32).to(known.device)
        return self.integrate(noise, known, flags, steps)
