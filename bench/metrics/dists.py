"""DISTS (Ding, Ma, Wang and Simoncelli, TPAMI 2020, "Image Quality Assessment: Unifying Structure
and Texture Similarity").

The official formulation (``DISTS_pytorch``): VGG16 with max pooling replaced by L2 (Hanning)
pooling, structure and texture terms per channel at six levels (the image and five stages),
weighted by the official alpha/beta from the ``DISTS_pytorch`` wheel. Images are not resized (the
official script's default). The first VGG stage is shared with LPIPS-VGG
(:func:`bench.metrics.nets.vgg16_stage1`). Checked against the official values in pyiqa's
calibration table (tests).
"""
from __future__ import annotations

from functools import lru_cache

import torch

from .base import FrameBatch, Metric, Output
from .nets import features, vgg16_stage1
from .weights import dists_alpha_beta

CHANNELS = (3, 64, 128, 256, 512, 512)
STAGES = ((5, 9), (10, 16), (17, 23), (24, 30))  # VGG16 conv/relu ranges after each pooling


@lru_cache(maxsize=None)
def _model(device: str):
    from DISTS_pytorch.DISTS_pt import L2pooling

    state, wf = dists_alpha_beta()
    w_sum = state["alpha"].sum() + state["beta"].sum()
    alpha = torch.split((state["alpha"] / w_sum).to(device), CHANNELS, dim=1)
    beta = torch.split((state["beta"] / w_sum).to(device), CHANNELS, dim=1)
    pools = [L2pooling(channels=c).to(device) for c in CHANNELS[1:5]]
    return alpha, beta, pools, wf.record()


def _features(batch: FrameBatch, side: str) -> list[torch.Tensor]:
    def compute():
        net, _ = features("vgg16", batch.device)
        _, _, pools, _ = _model(batch.device)
        h = vgg16_stage1(batch, side)
        out = [batch.rgb(side), h]
        with torch.no_grad():
            for pool, (a, b) in zip(pools, STAGES):
                h = net[a:b](pool(h))
                out.append(h)
        return out
    return batch.shared(("dists", side), compute)


class DISTS(Metric):
    name = "dists"
    description = "DISTS (Ding et al. 2020), official weights"
    outputs = (Output("dists", "lower", "", "DISTS on BT.709 RGB"),)

    def weights(self) -> list[dict]:
        return [features("vgg16", self.device)[1].record(), _model(self.device)[3]]

    def update_batch(self, batch: FrameBatch) -> None:
        alpha, beta, _, _ = _model(self.device)
        fx, fy = _features(batch, "ref"), _features(batch, "dist")
        c1 = c2 = 1e-6
        d1 = d2 = 0
        with torch.no_grad():
            for k in range(len(CHANNELS)):
                xm, ym = fx[k].mean((2, 3), keepdim=True), fy[k].mean((2, 3), keepdim=True)
                s1 = (2 * xm * ym + c1) / (xm ** 2 + ym ** 2 + c1)
                d1 = d1 + (alpha[k] * s1).sum(1, keepdim=True)
                xv = ((fx[k] - xm) ** 2).mean((2, 3), keepdim=True)
                yv = ((fy[k] - ym) ** 2).mean((2, 3), keepdim=True)
                cov = (fx[k] * fy[k]).mean((2, 3), keepdim=True) - xm * ym
                s2 = (2 * cov + c2) / (xv + yv + c2)
                d2 = d2 + (beta[k] * s2).sum(1, keepdim=True)
            score = 1 - (d1 + d2).flatten()
        self._values["dists"].extend(score.double().cpu().tolist())
