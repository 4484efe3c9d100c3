"""MS-SSIM (Wang, Simoncelli and Bovik 2003) through piq, on BT.709 RGB and on luma."""
from __future__ import annotations

import math

import numpy as np

from ..video import Frame
from .base import Metric, Output

KERNEL = 11
SCALES = 5
MIN_SIDE = (KERNEL - 1) * 2 ** (SCALES - 1) + 1  # 161: smaller frames cannot be measured at 5 scales


class MSSSIM(Metric):
    """Multi-scale SSIM with the standard 5 scales, 11x11 Gaussian window (sigma 1.5) and the
    original scale weights, computed by ``piq.multi_scale_ssim`` on RGB in [0, 1] and on Y, in
    float32 (12x faster than float64 on CPU; the two agree to about 1e-5).
    Frames with a side under 161 pixels are too small for 5 scales: their value is NaN and the
    result says so (no silent change of the definition)."""

    name = "ms-ssim"
    description = "MS-SSIM on RGB and on Y (piq)"
    outputs = (
        Output("ms_ssim_rgb", "higher", "", "MS-SSIM on BT.709 RGB"),
        Output("ms_ssim_y", "higher", "", "MS-SSIM on luma"),
    )

    def update(self, ref: Frame, dist: Frame) -> None:
        import piq
        import torch

        h, w = ref.y.shape
        if min(h, w) < MIN_SIDE:
            self._notes.append(f"frames of {w}x{h} are smaller than {MIN_SIDE} px: MS-SSIM undefined at 5 scales")
            self._values["ms_ssim_rgb"].append(math.nan)
            self._values["ms_ssim_y"].append(math.nan)
            return
        peak = float((1 << ref.bit_depth) - 1)
        with torch.no_grad():
            a = torch.from_numpy(ref.rgb()).permute(2, 0, 1)[None].to(self.device, torch.float32)
            b = torch.from_numpy(dist.rgb()).permute(2, 0, 1)[None].to(self.device, torch.float32)
            rgb = piq.multi_scale_ssim(a, b, data_range=1.0, kernel_size=KERNEL)
            ya = torch.from_numpy(ref.y.astype(np.float32) / peak)[None, None].to(self.device)
            yb = torch.from_numpy(dist.y.astype(np.float32) / peak)[None, None].to(self.device)
            y = piq.multi_scale_ssim(ya, yb, data_range=1.0, kernel_size=KERNEL)
        self._values["ms_ssim_rgb"].append(float(rgb))
        self._values["ms_ssim_y"].append(float(y))
