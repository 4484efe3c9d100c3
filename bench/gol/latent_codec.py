"""The I-latent codec: a mean-scale hyperprior over the tokenizer's latents, with a real rANS coder.

Analysis ``g_a`` (``down``: 4x, or 2x) gives y; the hyper-analysis ``h_a`` (2x down) gives z,
coded with a learned per-channel Gaussian; the hyper-synthesis ``h_s`` predicts each element of
y's mean and scale; y is coded as integers around that mean with a quantised Gaussian. Entropy
coding is ``constriction``'s ANS coder (``constriction.stream.stack.AnsCoder`` with
``QuantizedGaussian``); scales are snapped to a fixed log-spaced table so encoder and decoder use
identical models.

Rate control inside one network: per-level gain vectors on y (Cui et al., "Asymmetric gained deep
image compression with continuous rate adaptation", CVPR 2021), trained at ``levels`` lambdas and
interpolated geometrically between them, so the quality ``q`` is continuous in [0, levels - 1].
"""
from __future__ import annotations

import copy
import math

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from .layers import Down, ResBlock, Up, conv

SYMBOL_RANGE = 255  # symbols are clipped to [-R, R]
SCALE_TABLE = torch.exp(torch.linspace(math.log(0.11), math.log(64.0), 64))
SPATIAL_MULTIPLE = 8  # y is ``down`` x (4 or 2) and z 2 x ``down`` smaller than the latent
FIRST_RESAMPLING = 2  # g_a and g_s: a conv, a ResBlock, then one resampling layer per halving


def _resamplings(down: int) -> int:
    """How many 2x resampling layers g_a (and g_s) have for a codec of ``down``."""
    return down.bit_length() - 1


def _gauss_mass(x: torch.Tensor, mean: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Probability of the unit interval around x under N(mean, scale) (the training-time model)."""
    scale = scale.clamp_min(0.11)
    upper = 0.5 * torch.erfc(-(x - mean + 0.5) / (scale * math.sqrt(2)))
    lower = 0.5 * torch.erfc(-(x - mean - 0.5) / (scale * math.sqrt(2)))
    return (upper - lower).clamp_min(1e-9)


def snap_scale(scale: torch.Tensor) -> torch.Tensor:
    """The nearest entry of SCALE_TABLE in log scale (what the entropy coder uses)."""
    table = SCALE_TABLE.to(scale.device, scale.dtype)
    idx = torch.bucketize(scale.clamp(table[0], table[-1]).log(), ((table[1:].log() + table[:-1].log()) / 2))
    return table[idx]


class LatentCodec(nn.Module):
    """``down``: how much smaller y is than the latent (4, or 2). At 4 with m = 96, y holds 96 values
    for every 256 of the latent: even unquantised, ``g_s(g_a(x))`` misses a third to a half of the
    latents' variance on held-out clips, a ceiling no rate can lift (docs/gol.md, tenth session)."""

    def __init__(self, latent_ch: int = 16, m: int = 64, n: int = 48, levels: int = 6, down: int = 4):
        super().__init__()
        if down not in (2, 4):
            raise ValueError(f"the codec's down must be 2 or 4, not {down}")
        self.levels, self.down = levels, down
        k = _resamplings(down)
        self.g_a = nn.Sequential(conv(latent_ch, m), ResBlock(m), *[Down(m, m) for _ in range(k)], conv(m, m))
        self.g_s = nn.Sequential(conv(m, m), ResBlock(m), *[Up(m, m) for _ in range(k)], ResBlock(m), conv(m, latent_ch))
        self.h_a = nn.Sequential(conv(m, n), nn.GELU(), Down(n, n), conv(n, n))
        self.h_s = nn.Sequential(conv(n, n), nn.GELU(), Up(n, m), conv(m, 2 * m))
        # gains start log-spaced over a 16x range (about four bits per element from lowest to highest
        # quality), so every level begins at a different rate and training refines them
        start = torch.linspace(math.log(0.25), math.log(4.0), levels)[:, None].repeat(1, m)
        self.log_gain = nn.Parameter(start.clone())
        self.log_inv_gain = nn.Parameter(-start.clone())
        self.z_mean = nn.Parameter(torch.zeros(n))
        self.z_log_scale = nn.Parameter(torch.zeros(n))

    # --- rate control ------------------------------------------------------------------------
    def gains(self, q: float | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(gain, inverse gain) for quality q in [0, levels-1], shape (B or 1, M, 1, 1)."""
        q = torch.as_tensor(q, dtype=torch.float32, device=self.log_gain.device).reshape(-1)
        q = q.clamp(0, self.levels - 1)
        lo = q.floor().long().clamp(max=self.levels - 2)
        frac = (q - lo.float())[:, None]
        g = self.log_gain[lo] * (1 - frac) + self.log_gain[lo + 1] * frac
        ig = self.log_inv_gain[lo] * (1 - frac) + self.log_inv_gain[lo + 1] * frac
        return g.exp()[:, :, None, None], ig.exp()[:, :, None, None]

    def _params(self, z_hat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, scale = self.h_s(z_hat).chunk(2, dim=1)
        return mean, F.softplus(scale) + 0.11

    def _coding_params(self, h_s64: nn.Module, z_hat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """y's means and snapped scales for real coding, computed in float64 on the CPU: the entropy
        coder's model must be the same bits in encoder and decoder, whatever their devices and thread
        counts (a scale on the other side of a table boundary would derail the decoder)."""
        mean, scale = h_s64(z_hat.detach().cpu().double()).chunk(2, dim=1)
        return mean, snap_scale(F.softplus(scale) + 0.11)

    def _h_s64(self) -> nn.Module:
        return copy.deepcopy(self.h_s).cpu().double().eval()

    # --- training ----------------------------------------------------------------------------
    def forward(self, x: torch.Tensor, q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(reconstruction, bits per sample) with noise for the rate and rounding for the synthesis."""
        gain, inv_gain = self.gains(q)
        y = self.g_a(x) * gain
        z = self.h_a(y)
        zm = self.z_mean[None, :, None, None]
        z_noisy = z + torch.empty_like(z).uniform_(-0.5, 0.5)
        z_hat = zm + (torch.round(z - zm) - (z - zm)).detach() + (z - zm)
        z_bits = -torch.log2(_gauss_mass(z_noisy, zm, self.z_log_scale.exp()[None, :, None, None])).sum((1, 2, 3))
        mean, scale = self._params(z_hat)
        y_noisy = y + torch.empty_like(y).uniform_(-0.5, 0.5)
        y_bits = -torch.log2(_gauss_mass(y_noisy, mean, scale)).sum((1, 2, 3))
        y_hat = mean + (torch.round(y - mean) - (y - mean)).detach() + (y - mean)
        return self.g_s(y_hat * inv_gain), y_bits + z_bits

    # --- real coding -------------------------------------------------------------------------
    @torch.no_grad()
    def compress(self, latents: torch.Tensor, q: float) -> bytes:
        """Code latents (K, C, h, w) (h, w multiples of 8) one by one into one rANS stream."""
        import constriction

        gain, _ = self.gains(q)
        family = constriction.stream.model.QuantizedGaussian(-SYMBOL_RANGE, SYMBOL_RANGE)
        h_s64, parts = self._h_s64(), []
        for k in range(latents.shape[0]):
            y = self.g_a(latents[k:k + 1]) * gain
            z_sym, z_hat = self._quantise_z(self.h_a(y))
            mean, y_scale = self._coding_params(h_s64, z_hat)
            y_sym = torch.round(y.cpu().double() - mean).clamp(-SYMBOL_RANGE, SYMBOL_RANGE)
            parts.append((z_sym, self._z_scales(z_sym), y_sym, y_scale))
        coder = constriction.stream.stack.AnsCoder()
        for z_sym, z_scale, y_sym, y_scale in reversed(parts):  # a stack: the last encoded is decoded first
            for sym, sc in ((y_sym, y_scale), (z_sym, z_scale)):
                coder.encode_reverse(_ints(sym), family, np.zeros(sym.numel()), _f64(sc))
        return coder.get_compressed().astype("<u4").tobytes()

    @torch.no_grad()
    def decompress(self, data: bytes, count: int, shape: tuple[int, int], q: float) -> torch.Tensor:
        """The latents (count, C, h, w) that ``compress`` coded into ``data``."""
        import constriction

        _, inv_gain = self.gains(q)
        family = constriction.stream.model.QuantizedGaussian(-SYMBOL_RANGE, SYMBOL_RANGE)
        words = np.frombuffer(data, dtype="<u4").astype(np.uint32)
        coder = constriction.stream.stack.AnsCoder(words)
        dev = self.z_mean.device
        n, m = self.z_mean.numel(), self.log_gain.shape[1]
        d = self.down
        zshape, yshape = (1, n, shape[0] // (2 * d), shape[1] // (2 * d)), (1, m, shape[0] // d, shape[1] // d)
        h_s64, out = self._h_s64(), []
        for _ in range(count):
            z_scale = self._z_scales(torch.zeros(zshape, device=dev))
            z_sym = torch.from_numpy(coder.decode(family, np.zeros(z_scale.numel()), _f64(z_scale)).astype(np.float32))
            z_sym = z_sym.reshape(zshape).to(dev)
            mean, y_scale = self._coding_params(h_s64, z_sym + self.z_mean[None, :, None, None])
            y_sym = torch.from_numpy(coder.decode(family, np.zeros(y_scale.numel()), _f64(y_scale)))
            y_hat = (y_sym.reshape(yshape) + mean).float().to(dev)
            out.append(self.g_s(y_hat * inv_gain))
        return torch.cat(out)

    def _quantise_z(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        zm = self.z_mean[None, :, None, None]
        sym = torch.round(z - zm).clamp(-SYMBOL_RANGE, SYMBOL_RANGE)
        return sym, sym + zm

    def _z_scales(self, like: torch.Tensor) -> torch.Tensor:
        return snap_scale(self.z_log_scale.exp())[None, :, None, None].expand_as(like)


def adapt_state(state: dict, src_down: int, dst_down: int, prefix: str = "codec.") -> dict:
    """A codec's weights (keys under ``prefix``) made at ``src_down`` renamed for ``dst_down``: the
    resampling layers they share are kept (the first ones), the layers after them move up or down
    (a warm start for a codec of another ``down``; the others keep their names)."""
    ks, kd, first = _resamplings(src_down), _resamplings(dst_down), FIRST_RESAMPLING
    out = {}
    for key, v in state.items():
        if not key.startswith((prefix + "g_a.", prefix + "g_s.")):
            out[key] = v
            continue
        head, idx, tail = key[len(prefix):].split(".", 2)
        i = int(idx)
        if first <= i < first + ks:  # a resampling layer
            if i < first + kd:
                out[key] = v
        else:
            out[f"{prefix}{head}.{i if i < first else i - ks + kd}.{tail}"] = v
    return out


def _ints(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy().astype(np.int32).ravel()


def _f64(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy().astype(np.float64).ravel()
