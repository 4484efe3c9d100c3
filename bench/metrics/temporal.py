"""Temporal consistency: tLP and tOF (Chu, Xie, Mayer, Leal-Taixé and Thuerey, "Learning Temporal
Coherence via Self-Supervision for GAN-based Video Generation" (TecoGAN), ACM ToG 2020, section 5).

Both compare how the reconstruction changes from frame t-1 to t with how the ground truth changes,
so a codec whose texture flickers or whose motion stalls scores badly even when every single
frame looks plausible. Frame 0 has no value (NaN); the summary is the mean over frames 1..N-1.

* **tLP** = 100 * |LPIPS(g[t-1], g[t]) - LPIPS(b[t-1], b[t])|, LPIPS v0.1 AlexNet, g ground
  truth, b reconstruction (the x100 scale of the paper's tables). Shares AlexNet features with
  the ``lpips`` metric.
* **tOF** = mean over pixels of ||OF(g[t-1], g[t]) - OF(b[t-1], b[t])||_2, with OpenCV's Farneback
  flow on 8-bit grey (``cv2.COLOR_RGB2GRAY``) using the paper's parameters (0.5, 3, 15, 3, 5, 1.2),
  after TecoGAN's ``crop_8x8`` border crop of the flow fields. In pixels.

The ground truth's terms, LPIPS(g[t-1], g[t]) and OF(g[t-1], g[t]), are computed once per prepared
sequence (:mod:`bench.metrics.reference`).

Differences from the paper's script: it drops the first and last two frames of each clip and crops
frames before LPIPS; here every frame pair is used and LPIPS sees the whole frame.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .base import FrameBatch, Metric, Output
from .lpips import lpips_distance, linear_layers
from .nets import features, lpips_features

FARNEBACK = (0.5, 3, 15, 3, 5, 1.2, 0)


class TemporalLPIPS(Metric):
    name = "tlp"
    description = "tLP: temporal LPIPS difference x100 (TecoGAN, Chu et al. 2020)"
    outputs = (Output("tlp", "lower", "LPIPSx100", "100 |LPIPS(g[t-1],g[t]) - LPIPS(b[t-1],b[t])|, AlexNet"),)

    def reset(self) -> None:
        super().reset()
        self._prev = None  # last frame's features (ref, dist), kept across batches
        self._g: list[torch.Tensor] = []  # LPIPS(g[t-1], g[t]) for t = 1, 2 ...
        self._cached = None  # the same, from the reference cache

    def weights(self) -> list[dict]:
        return [features("alexnet", self.device)[1].record(), linear_layers("alexnet", self.device)[1]]

    def begin(self, workdir=None) -> None:
        cached = self.stored_reference()
        self._cached = None if cached is None else torch.from_numpy(cached["ground_truth_lpips"])

    def update_batch(self, batch: FrameBatch) -> None:
        sides = ("dist",) if self._cached is not None else ("ref", "dist")
        feats = {side: lpips_features(batch, side, "alexnet") for side in sides}
        prev, cur = {}, {}
        for side, f in feats.items():
            if self._prev is None:
                prev[side], cur[side] = [x[:-1] for x in f], [x[1:] for x in f]
            else:
                prev[side] = [torch.cat([p, x[:-1]]) for p, x in zip(self._prev[side], f)]
                cur[side] = f
        if self._prev is None:
            self._values["tlp"].append(math.nan)
        first = batch.start + (1 if self._prev is None else 0)  # frame number of the first pair's t
        if len(cur["dist"][0]):
            with torch.no_grad():
                if self._cached is not None:
                    g = self._cached[first - 1:first - 1 + len(cur["dist"][0])].to(self.device)
                else:
                    g = lpips_distance(prev["ref"], cur["ref"], "alexnet")
                    self._g.append(g.cpu())
                b = lpips_distance(prev["dist"], cur["dist"], "alexnet")
            self._values["tlp"].extend((100 * (g - b).abs()).double().cpu().tolist())
        self._prev = {side: [x[-1:] for x in f] for side, f in feats.items()}

    def result(self):
        if self._cached is None and self._g:
            self.store_reference({"ground_truth_lpips": torch.cat(self._g).numpy()})
        return super().result()


def crop_8x8(a: np.ndarray) -> np.ndarray:
    """TecoGAN's border crop: the largest centred multiple of 32 that leaves at least 8 px each side."""
    h, w = a.shape[:2]
    ch, cw = (h // 32) * 32, (w // 32) * 32
    while ch > h - 16:
        ch -= 32
    while cw > w - 16:
        cw -= 32
    if ch <= 0 or cw <= 0:
        return a
    y, x = (h - ch) // 2, (w - cw) // 2
    return a[y:y + ch, x:x + cw]


class TemporalOpticalFlow(Metric):
    name = "tof"
    description = "tOF: optical-flow difference (TecoGAN, Chu et al. 2020), Farneback"
    outputs = (Output("tof", "lower", "px", "mean ||OF(g[t-1],g[t]) - OF(b[t-1],b[t])||, Farneback"),)

    def reset(self) -> None:
        super().reset()
        self._prev = None  # last frame's grey images (ref, dist)
        self._flows: list[np.ndarray] = []  # OF(g[t-1], g[t]) for t = 1, 2 ..., cropped
        self._cached = None  # the same, from the reference cache
        self._t = 0

    def begin(self, workdir=None) -> None:
        import cv2

        cached = self.stored_reference(opencv=cv2.__version__)
        self._cached = None if cached is None else cached["ground_truth_flow"]

    def update(self, ref, dist) -> None:
        import cv2

        sides = (dist,) if self._cached is not None else (ref, dist)
        grey = [cv2.cvtColor(np.clip(np.rint(f.rgb() * 255), 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)
                for f in sides]
        if self._prev is None:
            self._values["tof"].append(math.nan)
        else:
            if self._cached is not None:
                of_g = self._cached[self._t - 1]
            else:
                of_g = crop_8x8(cv2.calcOpticalFlowFarneback(self._prev[0], grey[0], None, *FARNEBACK))
                self._flows.append(of_g)
            of_b = cv2.calcOpticalFlowFarneback(self._prev[-1], grey[-1], None, *FARNEBACK)
            diff = of_g - crop_8x8(of_b)
            self._values["tof"].append(float(np.sqrt((diff.astype(np.float64) ** 2).sum(-1)).mean()))
        self._prev = grey
        self._t += 1

    def result(self):
        if self._cached is None and self._flows:
            import cv2

            self.store_reference({"ground_truth_flow": np.stack(self._flows)}, opencv=cv2.__version__)
        return super().result()
