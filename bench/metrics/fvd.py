"""FVD (Unterthiner et al. 2018, "Towards Accurate Generative Models of Video: A New Metric &
Challenges"): the Fréchet distance between I3D (Kinetics-400) logits of ground-truth and
reconstructed clips of one sequence at one rate point.

As in the reference code, each frame is resized to 224x224 with TensorFlow 1's bilinear resize
(no antialiasing, aspect ratio not kept) and scaled to [-1, 1]; clips are 16 frames. A sequence
gives the clips starting every 8 frames; a sequence of 9 to 15 frames gives one clip of all its
frames; fewer than 9 frames cannot be measured (NaN). With a single clip per side the covariance
term is undefined and FVD reduces to the squared distance of the logits (stored with a note). FVD
over one sequence is a coarse, high-variance number: compare codecs on the same sequences. The
ground truth's logits are computed once per prepared sequence (:mod:`bench.metrics.reference`).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from .base import FrameBatch, Metric, MetricResult, Output
from .distribution import frechet_distance
from .i3d import MIN_FRAMES, load_i3d, resize_bilinear_tf1

CLIP = 16
STRIDE = 8


@lru_cache(maxsize=None)
def _model(device: str):
    model, wf = load_i3d(device)
    return model, wf.record()


class FVD(Metric):
    name = "fvd"
    scope = "set"
    description = "FVD: Fréchet distance of I3D Kinetics-400 logits over 16-frame clips"
    outputs = (Output("fvd", "lower", "", "Fréchet video distance (I3D logits, 16-frame clips, stride 8)"),)

    def __init__(self, device: str | None = None, clip: int = CLIP, stride: int = STRIDE):
        self.clip, self.stride = clip, stride
        super().__init__(device)

    def reset(self) -> None:
        super().reset()
        self._frames = {"ref": [], "dist": []}  # resized frames not yet needed by a later clip
        self._first = 0  # frame number of self._frames[...][0]
        self._seen = 0
        self._logits = {"ref": [], "dist": []}
        self._ref = None  # the ground truth's logits from the reference cache

    def begin(self, workdir=None) -> None:
        cached = self.stored_reference(clip=self.clip, stride=self.stride)
        self._ref = None if cached is None else cached["logits"]

    def _sides(self) -> tuple[str, ...]:
        return ("dist",) if self._ref is not None else ("ref", "dist")

    def weights(self) -> list[dict]:
        return [_model(self.device)[1]]

    def update_batch(self, batch: FrameBatch) -> None:
        for side in self._sides():
            x = resize_bilinear_tf1(batch.rgb(side), (224, 224)) * 2 - 1
            self._frames[side].extend(x.unbind(0))
        self._seen += len(batch)
        while self._next_start() + self.clip <= self._seen:
            s = self._next_start() - self._first
            for side in self._sides():
                self._logits[side].append(self._run(self._frames[side][s:s + self.clip]))
            drop = min(self.stride, len(self._frames["dist"]))
            for side in self._sides():
                del self._frames[side][:drop]
            self._first += drop

    def _next_start(self) -> int:
        return len(self._logits["dist"]) * self.stride

    def _run(self, frames: list[torch.Tensor]) -> np.ndarray:
        model, _ = _model(self.device)
        clip = torch.stack(frames, dim=1)[None]  # (1, 3, T, 224, 224)
        with torch.no_grad():
            return model(clip).cpu().numpy()

    def result(self) -> MetricResult:
        notes = []
        if not self._logits["dist"]:
            if self._seen < MIN_FRAMES:
                return MetricResult({"fvd": float("nan")}, {}, {"notes": [f"{self._seen} frames: I3D needs at least {MIN_FRAMES}"]})
            for side in self._sides():
                self._logits[side].append(self._run(self._frames[side]))
            notes.append(f"one clip of {self._seen} frames (fewer than {self.clip})")
        b = np.concatenate(self._logits["dist"])
        if self._ref is not None:
            a = self._ref
        else:
            a = np.concatenate(self._logits["ref"])
            self.store_reference({"logits": a}, clip=self.clip, stride=self.stride)
        fvd, note = frechet_distance(a, b)
        notes += [note] if note else []
        info = {"clips": len(a), "clip_frames": min(self.clip, self._seen), "stride": self.stride}
        return MetricResult({"fvd": fvd}, {}, {**info, **({"notes": notes} if notes else {})})
