"""BT.709 YUV <-> RGB, the one place the harness converts colour.

Conventions (those of the learned-video-coding test scripts, e.g. DCVC's):
* limited ("TV") range: Y in [16, 235] and Cb/Cr in [16, 240] at 8 bit, scaled by 2**(bits-8) above;
* BT.709 matrix (Kr = 0.2126, Kb = 0.0722);
* 4:2:0 chroma is upsampled by sample repetition (nearest neighbour), and RGB -> 4:2:0 averages
  each 2x2 block, so that a round trip does not shift chroma;
* RGB is float in [0, 1], clipped.
Anything else (RGB sources such as GIFs or PNG folders) is converted by ffmpeg with the same
matrix and range (see ``bench.video.ffmpeg_io``).
"""
from __future__ import annotations

import numpy as np

KR, KB = 0.2126, 0.0722
KG = 1.0 - KR - KB


def _norm(y, u, v, bit_depth):
    scale = float(1 << (bit_depth - 8))
    yf = (y.astype(np.float32) / scale - 16.0) / 219.0
    uf = (u.astype(np.float32) / scale - 128.0) / 224.0
    vf = (v.astype(np.float32) / scale - 128.0) / 224.0
    return yf, uf, vf


def upsample420(plane: np.ndarray, height: int, width: int) -> np.ndarray:
    return np.repeat(np.repeat(plane, 2, axis=0), 2, axis=1)[:height, :width]


def yuv420_to_rgb(y: np.ndarray, u: np.ndarray, v: np.ndarray, bit_depth: int = 8) -> np.ndarray:
    h, w = y.shape
    yf, uf, vf = _norm(y, upsample420(u, h, w), upsample420(v, h, w), bit_depth)
    r = yf + 2.0 * (1.0 - KR) * vf
    b = yf + 2.0 * (1.0 - KB) * uf
    g = (yf - KR * r - KB * b) / KG
    return np.clip(np.stack([r, g, b], axis=-1), 0.0, 1.0)


def rgb_to_yuv420(rgb: np.ndarray, bit_depth: int = 8):
    """float RGB in [0, 1], shape (H, W, 3) -> (y, u, v) integer planes, 4:2:0 by 2x2 averaging."""
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    yf = KR * r + KG * g + KB * b
    uf = (b - yf) / (2.0 * (1.0 - KB))
    vf = (r - yf) / (2.0 * (1.0 - KR))
    h, w = yf.shape
    uf, vf = _down2(uf), _down2(vf)
    scale = float(1 << (bit_depth - 8))
    maxv = (1 << bit_depth) - 1
    dt = np.uint8 if bit_depth == 8 else np.uint16

    def q(x, off, rng):
        return np.clip(np.rint((x * rng + off) * scale), 0, maxv).astype(dt)

    return q(yf, 16.0, 219.0), q(uf, 128.0, 224.0), q(vf, 128.0, 224.0)


def _down2(p: np.ndarray) -> np.ndarray:
    h, w = p.shape
    ph, pw = h + (h & 1), w + (w & 1)
    p = np.pad(p, ((0, ph - h), (0, pw - w)), mode="edge")
    return p.reshape(ph // 2, 2, pw // 2, 2).mean(axis=(1, 3))
