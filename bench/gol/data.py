"""Training data: the pack's clips (:mod:`bench.gol.pack`) sampled as random crops with random flips
and temporal strides (:class:`ClipSampler`, for the tokenizer and the decoder), held on the training
device (a GPU holds them all, so sampling costs no copies); and the same clips encoded once by the
finished tokenizer into latents, sampled as random latent windows and crops (:class:`LatentSampler`,
for the I-latent codec and the generator, which then never run the tokenizer)."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch

from ..errors import InputError
from ..files import atomic_path

class ClipSampler:
    """Random windows of ``frames`` frames (temporal stride from ``strides``), ``crop`` x ``crop``
    crops, random horizontal flips; tensors (B, frames, 3, crop, crop) in [-1, 1] on ``device``.
    Clips smaller than the crop or shorter than the window are not drawn."""

    def __init__(self, clips: dict[str, np.ndarray], strides=(1, 2), seed: int = 0, device: str = "cpu"):
        self.clips = [torch.from_numpy(np.ascontiguousarray(c)).to(device) for c in clips.values()]
        self.strides, self.device = strides, device
        self.rng = np.random.default_rng(seed)

    def sample(self, batch: int, frames: int, crop: int) -> torch.Tensor:
        out = torch.empty((batch, frames, crop, crop, 3), dtype=torch.uint8, device=self.device)
        weights = np.array([len(c) if min(c.shape[1:3]) >= crop and len(c) >= frames else 0 for c in self.clips], float)
        if not weights.any():
            raise InputError(f"no training clip has {frames} frames of at least {crop}x{crop} pixels (lower the crop)")
        for b in range(batch):
            clip = self.clips[self.rng.choice(len(self.clips), p=weights / weights.sum())]
            stride = int(self.rng.choice(self.strides))
            while stride > 1 and (frames - 1) * stride >= len(clip):
                stride -= 1
            t0 = self.rng.integers(0, len(clip) - (frames - 1) * stride)
            y0 = self.rng.integers(0, clip.shape[1] - crop + 1)
            x0 = self.rng.integers(0, clip.shape[2] - crop + 1)
            win = clip[t0:t0 + (frames - 1) * stride + 1:stride, y0:y0 + crop, x0:x0 + crop]
            out[b] = win.flip(2) if self.rng.random() < 0.5 else win
        return out.permute(0, 1, 4, 2, 3).float() / 127.5 - 1


class LatentSampler:
    """Latent sequences (before normalisation) of every training clip, at each temporal stride and
    phase, plain and flipped, made by the tokenizer from whole (padded) frames as at inference time;
    ``sample`` draws random windows of ``length`` latents, ``crop`` x ``crop`` latents:
    (B, length, C, crop, crop)."""

    def __init__(self, seqs: list[torch.Tensor], seed: int = 0):
        self.seqs = seqs
        self.rng = np.random.default_rng(seed)

    @classmethod
    @torch.no_grad()
    def build(cls, tokenizer, clips: dict[str, np.ndarray], strides, device: str, cache: Path | None = None,
              seed: int = 0, max_frames: int = 0, flips: bool = True) -> "LatentSampler":
        """Encode the clips with ``tokenizer.encode_raw`` (or load them from ``cache`` when it was made
        by the same encoder weights from the same clips, strides and options). Every frame is encoded
        once per stride (all its phases) and flip, which on a CPU takes hours for a large training set
        (41 clips of about 200 frames: 66 000 frame encodes); ``max_frames`` (0: all) instead encodes
        one sequence per clip and stride, its first ``max_frames`` frames at that stride, and
        ``flips=False`` leaves out the mirrored copies."""
        h = hashlib.sha256(repr(sorted(strides)).encode() + repr(sorted(clips)).encode()
                           + repr((max_frames, flips)).encode())
        for k, v in sorted(tokenizer.state_dict().items()):
            if k.startswith(("enc.", "lin.enc.")):  # the encoder's weights (normalisation is applied when sampling)
                h.update(k.encode() + v.detach().cpu().numpy().tobytes())
        key = h.hexdigest()[:16]
        if cache is not None and cache.is_file():
            saved = torch.load(cache, weights_only=True)
            if saved.get("key") == key:
                return cls([s.to(device) for s in saved["seqs"]], seed)
        with torch.backends.cudnn.flags(enabled=True, benchmark=False):  # one clip size each: no autotuning
            seqs = cls._encode_all(tokenizer, clips, strides, device, max_frames, flips)
        if cache is not None:
            with atomic_path(cache) as tmp:
                torch.save({"key": key, "seqs": [s.cpu() for s in seqs]}, tmp)
        return cls(seqs, seed)

    @staticmethod
    def _encode_all(tokenizer, clips: dict[str, np.ndarray], strides, device: str, max_frames: int = 0,
                    flips: bool = True) -> list[torch.Tensor]:
        from .tokenizer import TIME_STRIDE

        stride, seqs = tokenizer.space_stride, []
        mirrors = (False, True) if flips else (False,)
        chunk = TIME_STRIDE * (16 if str(device).startswith("cuda") else 2)  # frames per tokenizer call
        for clip in clips.values():
            for s in strides:
                for phase in range(1 if max_frames else s):
                    frames = clip[phase::s][:max_frames or None]
                    n = len(frames) // TIME_STRIDE * TIME_STRIDE
                    for flip in (mirrors if n else ()):
                        lat = []
                        for i in range(0, n, chunk):
                            x = torch.from_numpy(np.array(frames[i:min(n, i + chunk)]))
                            x = x.to(device).permute(0, 3, 1, 2).float() / 127.5 - 1
                            x = x.flip(-1) if flip else x
                            pad = (0, -x.shape[3] % stride, 0, -x.shape[2] % stride)
                            lat.append(tokenizer.encode_raw(torch.nn.functional.pad(x, pad, mode="replicate")))
                        seqs.append(torch.cat(lat))
        return seqs

    def sample(self, batch: int, length: int, crop: int) -> torch.Tensor:
        weights = np.array([max(0, len(s) - length + 1) if min(s.shape[-2:]) >= crop else 0 for s in self.seqs], float)
        if not weights.any():
            raise InputError(f"no training clip has {length} latents of at least {crop}x{crop} (lower the crop)")
        out = []
        for _ in range(batch):
            s = self.seqs[self.rng.choice(len(self.seqs), p=weights / weights.sum())]
            t0 = self.rng.integers(0, len(s) - length + 1)
            y0, x0 = self.rng.integers(0, s.shape[-2] - crop + 1), self.rng.integers(0, s.shape[-1] - crop + 1)
            out.append(s[t0:t0 + length, :, y0:y0 + crop, x0:x0 + crop])
        return torch.stack(out)


NORMALISE_MODES = ("channel", "global")


def latent_statistics(seqs: list[torch.Tensor], mode: str = "channel"):
    """Per-channel means and the scales that normalise latent sequences ``seqs`` (each (N, C, h, w))
    to unit variance: each channel's own std (``"channel"``), or one std for all channels, their root
    mean variance (``"global"``: the channels keep their relative energies); returns (mean, scale,
    each channel's std)."""
    if mode not in NORMALISE_MODES:
        raise InputError(f"[stage_codec] normalise = {mode!r}: use one of {', '.join(NORMALISE_MODES)}")
    z = torch.cat([s.transpose(0, 1).flatten(1) for s in seqs], dim=1)
    channel_std = z.std(1)
    std = channel_std.pow(2).mean().sqrt().expand_as(channel_std) if mode == "global" else channel_std
    return z.mean(1), std.clamp_min(1e-3), channel_std
