"""PSNR on the Y, U and V planes, their 6:1:1 weighted average, and on BT.709 RGB."""
from __future__ import annotations

import numpy as np

from ..video import Frame
from .base import Metric, Output

# PSNR of identical planes: reported as this value instead of infinity, so that means stay finite.
PSNR_CAP = 100.0


def mse(a: np.ndarray, b: np.ndarray) -> float:
    d = a.astype(np.float64) - b.astype(np.float64)
    return float(np.mean(d * d))


def psnr_from_mse(m: float, peak: float) -> float:
    if m <= 0:
        return PSNR_CAP
    return min(PSNR_CAP, 10.0 * np.log10(peak * peak / m))


class PSNR(Metric):
    """Peak signal-to-noise ratio per frame, peak = 2**bits - 1 of the source (255 at 8 bit, 1023 at 10).

    ``psnr_yuv`` = (6*PSNR_Y + PSNR_U + PSNR_V) / 8, the weighting of the JVET/DCVC test scripts.
    ``psnr_rgb`` is computed on BT.709 limited-range RGB (see ``bench.video.color``), peak 1.0.
    The summary of each output is the mean of its per-frame values (``ave_all_frame_psnr``)."""

    name = "psnr"
    description = "PSNR of Y, U, V, YUV (6:1:1) and RGB"
    outputs = (
        Output("psnr_y", "higher", "dB", "luma PSNR"),
        Output("psnr_u", "higher", "dB", "Cb PSNR"),
        Output("psnr_v", "higher", "dB", "Cr PSNR"),
        Output("psnr_yuv", "higher", "dB", "(6 Y + U + V) / 8"),
        Output("psnr_rgb", "higher", "dB", "PSNR on BT.709 RGB"),
    )

    def update(self, ref: Frame, dist: Frame) -> None:
        peak = float((1 << ref.bit_depth) - 1)
        py, pu, pv = (psnr_from_mse(mse(a, b), peak) for a, b in zip(ref.planes, dist.planes))
        self._values["psnr_y"].append(py)
        self._values["psnr_u"].append(pu)
        self._values["psnr_v"].append(pv)
        self._values["psnr_yuv"].append((6 * py + pu + pv) / 8)
        self._values["psnr_rgb"].append(psnr_from_mse(mse(ref.rgb(), dist.rgb()), 1.0))
