"""MS-SSIM (Wang, Simoncelli and Bovik 2003) on BT.709 RGB and on luma: piq's definition, computed
with separable Gaussian filtering.

``piq.multi_scale_ssim`` filters with a full 11x11 Gaussian window (121 multiply-adds per pixel and
per statistic). The Gaussian is separable, so two 1-D passes of OpenCV's ``sepFilter2D`` (22
multiply-adds, vectorised) give the same numbers; the rest follows piq step by step: "valid"
filtering (no padding), between scales a replicate pad of ``max(H % 2, W % 2)`` pixels at the top
and left and a 2x2 average pool, contrast-structure terms at scales 1-4, SSIM at scale 5, each
clipped at 0 (ReLU), raised to the paper's scale weights, multiplied, then averaged over channels.
A test checks the values against piq to 1e-5; ``benchmarks/metrics_speed.py`` measures the gain.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ..video import Frame
from .base import Metric, Output

KERNEL = 11
SIGMA = 1.5
SCALES = 5
WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)  # Wang et al. 2003 (piq's defaults)
K1, K2 = 0.01, 0.03
MIN_SIDE = (KERNEL - 1) * 2 ** (SCALES - 1) + 1  # 161: smaller frames cannot be measured at 5 scales


@lru_cache(maxsize=None)
def gaussian_1d(size: int = KERNEL, sigma: float = SIGMA) -> np.ndarray:
    """The normalised 1-D Gaussian whose outer product is piq's ``gaussian_filter`` window."""
    c = np.arange(size, dtype=np.float64) - (size - 1) / 2
    g = np.exp(-c ** 2 / (2 * sigma ** 2))
    return (g / g.sum()).astype(np.float32)


def _filter_valid(img: np.ndarray) -> np.ndarray:
    """Gaussian filter of (H, W[, C]) float32 keeping only the "valid" region (as conv2d without padding)."""
    import cv2

    g = gaussian_1d()
    r = KERNEL // 2
    out = cv2.sepFilter2D(img, cv2.CV_32F, g, g, borderType=cv2.BORDER_REFLECT)
    return out[r:-r, r:-r]


def _ssim_cs(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean SSIM and mean contrast-structure term per channel of (H, W, C) images in [0, 1]."""
    import cv2

    c1, c2 = np.float32(K1 ** 2), np.float32(K2 ** 2)
    mu_x, mu_y = _filter_valid(x), _filter_valid(y)
    mu_xx, mu_yy, mu_xy = mu_x * mu_x, mu_y * mu_y, mu_x * mu_y
    s_xx = _filter_valid(x * x)
    s_xx -= mu_xx
    s_yy = _filter_valid(y * y)
    s_yy -= mu_yy
    s_xy = _filter_valid(x * y)
    s_xy -= mu_xy
    cs = s_xy * 2
    cs += c2
    s_xx += s_yy
    s_xx += c2
    cs /= s_xx  # (2 sigma_xy + c2) / (sigma_xx + sigma_yy + c2)
    ss = mu_xy * 2
    ss += c1
    mu_xx += mu_yy
    mu_xx += c1
    ss /= mu_xx
    ss *= cs
    n = x.shape[2]
    return _channel_means(ss, n), _channel_means(cs, n)


def _channel_means(a: np.ndarray, channels: int) -> np.ndarray:
    import cv2

    if channels <= 4:  # cv2.mean sums in float64
        return np.asarray(cv2.mean(a)[:channels])
    return a.mean((0, 1), dtype=np.float64)


def _downsample(x: np.ndarray) -> np.ndarray:
    """piq's step between scales: replicate-pad top and left by max(H % 2, W % 2), 2x2 average pool."""
    p = max(x.shape[0] % 2, x.shape[1] % 2)
    if p:
        x = np.pad(x, ((p, 0), (p, 0), (0, 0)), mode="edge")
    h, w = x.shape[0] // 2 * 2, x.shape[1] // 2 * 2
    x = x[:h, :w]
    return (x[0::2, 0::2] + x[1::2, 0::2] + x[0::2, 1::2] + x[1::2, 1::2]) * np.float32(0.25)


def ms_ssim(x: np.ndarray, y: np.ndarray) -> float:
    """MS-SSIM of two (H, W) or (H, W, C) float32 images in [0, 1] (piq's ``multi_scale_ssim`` with
    its defaults: 5 scales, 11x11 Gaussian window, sigma 1.5, the paper's weights)."""
    x = np.ascontiguousarray(x, np.float32)
    y = np.ascontiguousarray(y, np.float32)
    if x.ndim == 2:
        x, y = x[..., None], y[..., None]
    if min(x.shape[:2]) < MIN_SIDE:
        raise ValueError(f"MS-SSIM needs frames of at least {MIN_SIDE}x{MIN_SIDE}, got {x.shape[1]}x{x.shape[0]}")
    terms = []
    for level in range(SCALES):
        if level:
            x, y = _downsample(x), _downsample(y)
        ssim, cs = _ssim_cs(x, y)
        terms.append(ssim if level == SCALES - 1 else cs)
    stacked = np.maximum(np.stack(terms), 0)  # (scales, channels)
    w = np.asarray(WEIGHTS, np.float64)[:, None]
    return float(np.prod(stacked ** w, axis=0).mean())


class MSSSIM(Metric):
    """Multi-scale SSIM with the standard 5 scales, 11x11 Gaussian window (sigma 1.5) and the
    original scale weights, as ``piq.multi_scale_ssim`` defines it, on RGB in [0, 1] and on Y, in
    float32 (separable filtering, see the module's description).
    Frames with a side under 161 pixels are too small for 5 scales: their value is NaN and the
    result says so (no silent change of the definition)."""

    name = "ms-ssim"
    description = "MS-SSIM on RGB and on Y (piq's definition, separable filtering)"
    outputs = (
        Output("ms_ssim_rgb", "higher", "", "MS-SSIM on BT.709 RGB"),
        Output("ms_ssim_y", "higher", "", "MS-SSIM on luma"),
    )

    def update(self, ref: Frame, dist: Frame) -> None:
        h, w = ref.y.shape
        if min(h, w) < MIN_SIDE:
            self._notes.append(f"frames of {w}x{h} are smaller than {MIN_SIDE} px: MS-SSIM undefined at 5 scales")
            self._values["ms_ssim_rgb"].append(math.nan)
            self._values["ms_ssim_y"].append(math.nan)
            return
        peak = np.float32((1 << ref.bit_depth) - 1)
        self._values["ms_ssim_rgb"].append(ms_ssim(ref.rgb(), dist.rgb()))
        self._values["ms_ssim_y"].append(ms_ssim(ref.y.astype(np.float32) / peak, dist.y.astype(np.float32) / peak))
