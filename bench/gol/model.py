"""The GoL codec: tokenizer, I-latent codec and P-latent generator, from frames to a file and back.

``GoLModel.encode`` turns RGB frames into the bytes of a GoL file (header and rANS stream of the
coded I-latents); ``GoLModel.decode`` turns those bytes alone back into frames: it decodes the
I-latents, generates every other latent window by window with seeded noise, and runs the tokenizer's
decoder. Checkpoints are one ``torch.save`` dict: ``config``, ``state`` (fp16 weights), ``ladder``,
``model_id`` and ``card`` (what the model card says, as data).

A model may carry more than one I-latent codec over the same latents (``[model] extra_codecs``, the
``codec_down`` of each: e.g. ``[2]`` beside the main 4x codec): codec 0 is ``codec`` and codec k is
``extra_codecs[k - 1]``; a file's header names the one that coded it, and the encoder's mode decision
chooses among them as among masks (:mod:`bench.gol.mode_decision`). Each is trained as the main codec
of a run of its own on the same tokenizer and generator, and joined by :mod:`bench.gol.combine`.
"""
from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from ..files import atomic_write
from .bitstream import Header
from .generator import ABSENT, GENERATE, KNOWN, WINDOW, LatentGenerator
from .latent_codec import SPATIAL_MULTIPLE, LatentCodec
from .masks import default_ladder, i_positions, ladder_entry
from .tokenizer import CODED, GENERATED, TIME_STRIDE, VideoTokenizer, latent_states

DEFAULT_CONFIG = {"latent_ch": 16, "tok_width": 48, "space_stride": 8, "codec_m": 64, "codec_n": 48, "levels": 6,
                  "gen_width": 64, "sample_steps": 5}
CHUNK_LATENTS = 2  # latents per tokenizer call (memory at 720p)


def _ceil(x: int, m: int) -> int:
    return -(-x // m) * m


class GoLModel(nn.Module):
    def __init__(self, config: dict | None = None):
        super().__init__()
        self.config = {**DEFAULT_CONFIG, **(config or {})}
        c = self.config
        self.tokenizer = VideoTokenizer(c["latent_ch"], c["tok_width"], c["space_stride"], bool(c.get("linear_path", False)),
                                        bool(c.get("decoder_condition", False)), bool(c.get("decoder_look_ahead", False)))
        self.codec = LatentCodec(c["latent_ch"], c["codec_m"], c["codec_n"], c["levels"], int(c.get("codec_down", 4)))
        self.extra_codecs = nn.ModuleList(LatentCodec(c["latent_ch"], c["codec_m"], c["codec_n"], c["levels"], int(d))
                                          for d in c.get("extra_codecs", []))
        self.generator = LatentGenerator(c["latent_ch"], c["gen_width"], temperature=float(c.get("sample_temperature", 1.0)))
        self.ladder: list[tuple[str, float, int]] = default_ladder(c["levels"], self.num_codecs)
        self.card: dict = {}
        self.eval()  # an inference model unless a trainer says otherwise

    # --- checkpoints -----------------------------------------------------------------------------
    def model_id(self) -> bytes:
        """4 bytes that name these weights (written in every file's header)."""
        h = hashlib.sha256()
        for k, v in sorted(self.state_dict().items()):
            h.update(k.encode())
            h.update(v.detach().cpu().to(torch.float16).numpy().tobytes())
        return h.digest()[:4]

    def save(self, path: Path) -> None:
        state = {k: (v.half() if v.is_floating_point() else v).cpu() for k, v in self.state_dict().items()}
        buf = io.BytesIO()
        torch.save({"config": self.config, "state": state, "ladder": [list(x) for x in self.ladder],
                    "model_id": self.model_id().hex(), "card": self.card}, buf)
        atomic_write(path, buf.getvalue())

    @classmethod
    def load(cls, path: Path, device: str = "cpu") -> "GoLModel":
        try:
            ck = torch.load(path, map_location="cpu", weights_only=True)
            model = cls(ck["config"])
            model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ck["state"].items()})
        except Exception as exc:  # noqa: BLE001 - any unreadable checkpoint is one line
            raise ValueError(f"{path}: not a GoL checkpoint ({str(exc).splitlines()[0][:200]})") from None
        model.ladder = [ladder_entry(e) for e in ck.get("ladder") or model.ladder]
        model.card = ck.get("card", {})
        return model.to(device).eval()

    @property
    def device(self) -> torch.device:
        return self.codec.z_mean.device

    @property
    def num_codecs(self) -> int:
        return 1 + len(self.extra_codecs)

    def codec_index(self, down: int) -> int:
        """The index of the codec whose y is ``down`` x smaller than the latent (0 when none is)."""
        return next((i for i in range(self.num_codecs) if self.codec_at(i).down == down), 0)

    def codec_at(self, index: int) -> LatentCodec:
        """I-latent codec ``index`` (0: ``codec``, the main one)."""
        if not 0 <= index < self.num_codecs:
            raise ValueError(f"codec {index}: this GoL model has {self.num_codecs} I-latent codec(s)")
        return self.codec if index == 0 else self.extra_codecs[index - 1]

    @property
    def space_stride(self) -> int:
        return self.tokenizer.space_stride

    def latent_size(self, height: int, width: int) -> tuple[int, int]:
        """The coded latents' (h, w) for frames of ``height`` x ``width``: the tokenizer's grid,
        padded to what the codec and the generator accept."""
        s = self.space_stride
        return _ceil(_ceil(height, s) // s, SPATIAL_MULTIPLE), _ceil(_ceil(width, s) // s, SPATIAL_MULTIPLE)

    # --- frames <-> latents ----------------------------------------------------------------------
    def latents_of(self, frames: np.ndarray) -> torch.Tensor:
        """RGB frames (T, H, W, 3) in [0, 1] -> normalised latents (ceil(T/4), C, h8, w8), padded by
        repetition to whole groups of four frames and to sizes the codec and generator accept."""
        t, h, w, _ = frames.shape
        x = torch.from_numpy(np.ascontiguousarray(frames, dtype=np.float32)).permute(0, 3, 1, 2) * 2 - 1
        x = torch.cat([x, x[-1:].expand(_ceil(t, TIME_STRIDE) - t, -1, -1, -1)])
        s = self.space_stride
        x = F.pad(x, (0, _ceil(w, s) - w, 0, _ceil(h, s) - h), mode="replicate")
        step = CHUNK_LATENTS * TIME_STRIDE
        lat = torch.cat([self.tokenizer.encode(x[i:i + step].to(self.device)) for i in range(0, len(x), step)])
        (lh, lw), (ph, pw) = lat.shape[-2:], self.latent_size(h, w)
        return F.pad(lat, (0, pw - lw, 0, ph - lh), mode="replicate")

    def latent_states(self, coded, q: float, n: int) -> torch.Tensor:
        """What a file's ``n`` latents are, for a conditioned decoder: those in ``coded`` decoded by the
        codec at quality ``q``, the others generated from them."""
        return latent_states([CODED if i in coded else GENERATED for i in range(n)], q, self.codec.levels - 1,
                             self.device)

    def frames_of(self, latents: torch.Tensor, num_frames: int, height: int, width: int,
                  states: torch.Tensor | None = None) -> np.ndarray:
        """Normalised latents -> RGB frames (num_frames, height, width, 3) in [0, 1]; ``states`` says
        what each latent is (:meth:`latent_states`; None: the tokenizer's own, no coding)."""
        s = self.space_stride
        lat = latents[:, :, :_ceil(height, s) // s, :_ceil(width, s) // s]
        out = []
        for i in range(0, len(lat), CHUNK_LATENTS):
            st = None if states is None else states[i:i + CHUNK_LATENTS]
            j = i + CHUNK_LATENTS
            x = self.tokenizer.decode(lat[i:j], None if i == 0 else lat[i - 1], st,
                                      None if states is None or i == 0 else states[i - 1], lat[j] if j < len(lat) else None)
            out.append(((x[:, :, :height, :width] + 1) / 2).permute(0, 2, 3, 1).cpu().numpy())
        return np.concatenate(out)[:num_frames]

    # --- the codec -------------------------------------------------------------------------------
    @torch.no_grad()
    def encode(self, frames: np.ndarray, mask: str, q: float, codec: int = 0) -> bytes:
        t, h, w, _ = frames.shape
        return self.file_of(self.latents_of(frames), Header(self.model_id(), w, h, t, mask, q, codec))

    @torch.no_grad()
    def file_of(self, lat: torch.Tensor, header: Header) -> bytes:
        """The GoL file of a sequence's latents (:meth:`latents_of`) with ``header``'s mask, quality and codec."""
        return header.pack() + self.codec_at(header.codec).compress(lat[i_positions(header.mask, len(lat))], header.q)

    @torch.no_grad()
    def decode(self, data: bytes, name: str = "bitstream") -> np.ndarray:
        hdr, lat, coded = self.decode_latents(data, name)
        return self.frames_of(lat, hdr.frames, hdr.height, hdr.width, self.latent_states(coded, hdr.q, len(lat)))

    @torch.no_grad()
    def decode_latents(self, data: bytes, name: str = "bitstream") -> tuple[Header, torch.Tensor, set[int]]:
        """A file's header, its latents as the decoder has them (the coded ones decoded, the others
        generated with the file's seed) and the indices of the coded ones."""
        hdr = Header.unpack(data, name)
        if hdr.model_id != self.model_id():
            raise ValueError(f"{name}: made by GoL weights {hdr.model_id.hex()}, these are {self.model_id().hex()}")
        n = _ceil(hdr.frames, TIME_STRIDE) // TIME_STRIDE
        lh, lw = self.latent_size(hdr.height, hdr.width)
        coded = i_positions(hdr.mask, n)
        if hdr.codec >= self.num_codecs:
            raise ValueError(f"{name}: coded by I-latent codec {hdr.codec}, these weights have {self.num_codecs}")
        lat = torch.zeros(n, self.config["latent_ch"], lh, lw, device=self.device)
        lat[coded] = self.codec_at(hdr.codec).decompress(data[hdr.size:], len(coded), (lh, lw), hdr.q)
        self.generate(lat, set(coded), hdr.seed)
        return hdr, lat, set(coded)

    def generate(self, lat: torch.Tensor, coded: set[int], seed: int) -> None:
        """Fill the latents not in ``coded`` in place, window by window, each window seeded."""
        n = len(lat)
        for w0 in range(0, n, WINDOW):
            idx = [w0 - 1] + list(range(w0, w0 + WINDOW))
            flags = [KNOWN if w0 > 0 else ABSENT] + [ABSENT if i >= n else KNOWN if i in coded else GENERATE
                                                     for i in idx[1:]]
            if GENERATE not in flags:
                continue
            known = torch.stack([lat[i] if 0 <= i < n else torch.zeros_like(lat[0]) for i in idx])[None]
            f = torch.tensor([flags], device=lat.device)
            x = self.generator.sample(known, f, self.config["sample_steps"], (seed + w0) % (1 << 63))
            for j, i in enumerate(idx):
                if flags[j] == GENERATE:
                    lat[i] = x[0, j]
