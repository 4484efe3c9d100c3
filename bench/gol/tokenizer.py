"""The causal video tokenizer: frames <-> latent frames, 4x in time and 8x (or 16x) in space.

Latent frame t is made from frames 4t..4t+3 only (the four frames stacked as channels, then one
stride-2 stage per factor of two in space), so encoding is causal at the latent rate; the decoder
makes frames 4t..4t+3 from latent t and latent t-1 (causal too), which smooths the seams between
groups of four frames. Frames are RGB in [-1, 1], shape (T, 3, H, W) with T a multiple of 4 and
H, W multiples of the spatial stride.

The GoL paper's tokenizer is 8x in space; 8x with C channels costs the same number of latent
elements per pixel as 16x with 4C, and reconstructs far better on a small budget (the 16x, 16-channel
tokenizer of the first checkpoints stayed below a bicubic-upscaled 16x thumbnail).

With ``linear_path`` (``[model] linear_path = true``) a linear lapped transform
(:class:`~bench.gol.lapped.LappedLinear`, kernel 2s, stride s over the same four frames) runs beside
the networks: latent = encoder network + linear encoder, frames = decoder network + linear decoder.
The networks' last convolutions start at zero, so a fresh tokenizer is exactly the linear one (which
the trainer starts from the training frames' block PCA, ``[stage_tokenizer] linear_init``) and the
networks learn what the linear transform misses. Off (the default), the model and its weights are
exactly as before.

With ``condition`` (``[model] decoder_condition = true``) the decoder is told what each latent it
decodes is: the tokenizer's own (``CLEAN``), decoded by the I-latent codec at quality q (``CODED``),
or made by the generator from latents coded at q (``GENERATED``); a file's header says which, so a
decoder knows it as well as a trainer does. Four numbers a latent (:func:`latent_states`), for the
latent and the one before it, set a per-channel scale and shift (FiLM) at the decoder's bottleneck
and before each upsampling stage. The layers start at zero, so a decoder that gains them decodes
exactly as before until it trains; one decoder can then be sharp on clean latents and careful with
coded and generated ones, where a single unconditioned decoder must trade one for the other.

With ``look_ahead`` (``[model] decoder_look_ahead = true``) the decoder also sees latent t+1 when it
makes frames 4t..4t+3 (latent t itself at the end of a sequence), through a convolution added to its
first one: a file is decoded whole, so the next latent is there, and the last frames of a group can
lead into the next group instead of jumping to it (most of GoL's flicker on slow content is that
jump, every fourth frame: ``benchmarks/gol_flicker.py``). The convolution starts at zero, so a
decoder that gains it decodes exactly as before until it trains.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .lapped import LappedLinear
from .layers import Down, ResBlock, Up, conv

TIME_STRIDE = 4
CLEAN, CODED, GENERATED = 0, 1, 2
STATE_DIM = 4  # one-hot of CLEAN / CODED / GENERATED, then q / the codec's top quality


def latent_states(kinds, q: float | torch.Tensor = 0.0, top: float = 5.0, device=None) -> torch.Tensor:
    """(N, STATE_DIM) state vectors of N latents: ``kinds`` (CLEAN, CODED or GENERATED each) and the
    codec quality ``q`` they were coded at (or their neighbours were, for generated ones)."""
    k = torch.as_tensor(kinds, dtype=torch.long, device=device).reshape(-1)
    q = torch.as_tensor(q, dtype=torch.float32, device=k.device).expand(k.shape) / top
    q = torch.where(k == CLEAN, torch.zeros_like(q), q)
    return torch.cat([torch.nn.functional.one_hot(k, 3).float(), q[:, None]], dim=1)


class VideoTokenizer(nn.Module):
    def __init__(self, latent_ch: int = 16, width: int = 64, space_stride: int = 8, linear_path: bool = False,
                 condition: bool = False, look_ahead: bool = False):
        super().__init__()
        if space_stride not in (8, 16):
            raise ValueError(f"space_stride must be 8 or 16, not {space_stride}")
        self.latent_ch, self.space_stride = latent_ch, space_stride
        # widths per resolution level, full resolution first: w, 2w, 4w, 6w, 6w (the decoder must make
        # 16 frames of 1280x704 in well under a minute on two CPU cores: thin at full resolution)
        levels = int(math.log2(space_stride))
        ws = [width * (1, 2, 4, 6, 6)[i] for i in range(levels + 1)]
        enc: list[nn.Module] = [conv(3 * TIME_STRIDE, ws[0])]
        enc += [Down(ws[i], ws[i + 1]) for i in range(levels)]
        enc += [ResBlock(ws[-1]), ResBlock(ws[-1]), conv(ws[-1], latent_ch)]
        self.enc = nn.Sequential(*enc)
        dec: list[nn.Module] = [conv(2 * latent_ch, ws[-1]), ResBlock(ws[-1]), ResBlock(ws[-1]), ResBlock(ws[-1])]
        dec += [Up(ws[i + 1], ws[i], res=i > 0) for i in reversed(range(levels))]
        dec += [conv(ws[0], 3 * TIME_STRIDE)]
        self.dec = nn.Sequential(*dec)
        # the optional linear path (no module at all when off: the default model's weights are unchanged)
        self.lin = LappedLinear(TIME_STRIDE, latent_ch, space_stride, 2 * space_stride) if linear_path else None
        if self.lin is not None:
            for layer in (self.enc[-1], self.dec[-1]):
                nn.init.zeros_(layer.weight)
                nn.init.zeros_(layer.bias)
        # the optional decoder conditioning (none at all when off): FiLM before the decoder module
        # after the bottleneck's first conv and before each upsampling stage, from the states of the
        # latent and the one before it; film_before maps a module's index to its layer in dec_film
        before = [1] + [i for i, m in enumerate(self.dec) if isinstance(m, Up)] if condition else []
        self.film_before = {i: k for k, i in enumerate(before)}
        self.dec_film = nn.ModuleList(nn.Linear(2 * STATE_DIM, 2 * self._channels_after(i - 1))
                                      for i in before) if condition else None
        # the optional look-ahead (no module when off): the next latent, added after the first conv
        self.dec_next = conv(latent_ch, ws[-1]) if look_ahead else None
        for layer in [*(self.dec_film or []), *([self.dec_next] if look_ahead else [])]:
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)
        # per-channel statistics of the latents on the training data, so the codec and the generator
        # work on unit-variance latents
        self.register_buffer("latent_mean", torch.zeros(latent_ch))
        self.register_buffer("latent_std", torch.ones(latent_ch))

    def _channels_after(self, i: int) -> int:
        """The channels that decoder module ``i`` puts out."""
        convs = [m for m in self.dec[i].modules() if isinstance(m, nn.Conv2d)]
        return convs[-1].out_channels

    def encode_raw(self, frames: torch.Tensor) -> torch.Tensor:
        """(T, 3, H, W) -> latents before normalisation (T/4, C, H/s, W/s)."""
        t, c, h, w = frames.shape
        x = frames.reshape(t // TIME_STRIDE, TIME_STRIDE * c, h, w)
        z = self.enc(x)
        return z if self.lin is None else z + self.lin.encode(x)

    def decoder_parameters(self):
        """The parameters that make frames from latents (the decoder stage trains these alone)."""
        yield from self.dec.parameters()
        if self.dec_film is not None:
            yield from self.dec_film.parameters()
        if self.dec_next is not None:
            yield from self.dec_next.parameters()
        if self.lin is not None:
            yield from self.lin.dec.parameters()

    def normalise(self, z: torch.Tensor) -> torch.Tensor:
        return (z - self.latent_mean[:, None, None]) / self.latent_std[:, None, None]

    def denormalise(self, z: torch.Tensor) -> torch.Tensor:
        return z * self.latent_std[:, None, None] + self.latent_mean[:, None, None]

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        """(T, 3, H, W) -> normalised latents (T/4, C, H/s, W/s)."""
        return self.normalise(self.encode_raw(frames))

    def decode_raw(self, z: torch.Tensor, prev: torch.Tensor, states: torch.Tensor | None = None,
                   nxt: torch.Tensor | None = None) -> torch.Tensor:
        """Raw latents (N, C, h, w) and each one's previous latent -> frames (N, 4, 3, s*h, s*w),
        not clamped (training uses this). ``states`` (N, 2 * STATE_DIM): each latent's and its previous
        one's :func:`latent_states` (None: both clean); only a conditioned decoder reads them. ``nxt``:
        each one's next latent (None: itself); only a look-ahead decoder reads it."""
        x = torch.cat([z, prev], dim=1)
        if self.dec_film is not None and states is None:
            states = latent_states([CLEAN] * (2 * len(z)), device=z.device).reshape(len(z), 2 * STATE_DIM)
        for i, m in enumerate(self.dec):
            if i in self.film_before:
                x = self._film(x, self.dec_film[self.film_before[i]], states)
            x = m(x)
            if i == 0 and self.dec_next is not None:
                x = x + self.dec_next(z if nxt is None else nxt)
        if self.lin is not None:
            x = x + self.lin.decode(z)
        n, _, h, w = x.shape
        return x.reshape(n, TIME_STRIDE, 3, h, w)

    @staticmethod
    def _film(x: torch.Tensor, layer: nn.Linear, states: torch.Tensor) -> torch.Tensor:
        s, b = layer(states.to(x.dtype))[:, :, None, None].chunk(2, dim=1)
        return x * (1 + s) + b

    def decode(self, latents: torch.Tensor, before: torch.Tensor | None = None, states: torch.Tensor | None = None,
               before_state: torch.Tensor | None = None, after: torch.Tensor | None = None) -> torch.Tensor:
        """normalised latents (N, C, h, w) -> frames (4N, 3, s*h, s*w) in [-1, 1]; ``before`` is the
        latent that precedes ``latents[0]`` (None at the start of a sequence), ``after`` the one that
        follows ``latents[-1]`` (None at its end). ``states`` (N, STATE_DIM) and ``before_state`` say
        what each latent is (:func:`latent_states`; None: clean)."""
        prev = torch.cat([latents[:1] if before is None else before[None], latents[:-1]], dim=0)
        nxt = None
        if self.dec_next is not None:
            nxt = self.denormalise(torch.cat([latents[1:], latents[-1:] if after is None else after[None]], dim=0))
        pair_states = None
        if states is not None:
            first = states[:1] if before_state is None else before_state[None]
            pair_states = torch.cat([states, torch.cat([first, states[:-1]], dim=0)], dim=1)
        x = self.decode_raw(self.denormalise(latents), self.denormalise(prev), pair_states, nxt)
        return x.flatten(0, 1).clamp(-1, 1)
