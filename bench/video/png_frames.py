"""Folders of PNG frames (RGB, BT.709, full or limited range), as command-line codecs read and write
them: ``00000.png``, ``00001.png`` … in display order.

The conversion is the harness's own (:mod:`bench.video.color`): limited-range Y'CbCr to RGB with
the BT.709 matrix and chroma repeated, and back with 2x2 chroma averaging. 8-bit frames give 8-bit
PNGs, deeper ones 16-bit PNGs. ``range`` says what the PNG's RGB values mean: ``full`` (0 is black,
255 or 65535 white; the usual) or ``limited`` (16 and 235, scaled by 257 in 16-bit files).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from ..errors import InputError
from .color import rgb_to_yuv420, yuv420_to_rgb
from .frames import Frame

RANGES = ("full", "limited")


def _cv2():
    import cv2

    return cv2


def _to_code(rgb: np.ndarray, maxv: int, range_: str) -> np.ndarray:
    if range_ == "limited":
        rgb = (16.0 + 219.0 * rgb) / 255.0
    return np.clip(np.rint(rgb * maxv), 0, maxv)


def _from_code(code: np.ndarray, maxv: int, range_: str) -> np.ndarray:
    rgb = code.astype(np.float64) / maxv
    if range_ == "limited":
        rgb = (rgb * 255.0 - 16.0) / 219.0
    return np.clip(rgb, 0.0, 1.0)


def write_png_frames(folder: str | Path, frames: Iterable[Frame], range_: str = "full") -> int:
    """Write ``frames`` as ``folder/00000.png`` …; returns the number written."""
    cv2 = _cv2()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    for fr in frames:
        deep = fr.bit_depth > 8
        maxv = 65535 if deep else 255
        code = _to_code(yuv420_to_rgb(fr.y, fr.u, fr.v, fr.bit_depth), maxv, range_)
        bgr = code[..., ::-1].astype(np.uint16 if deep else np.uint8)
        # fast deflate: the frames are a codec's input, read once
        if not cv2.imwrite(str(folder / f"{n:05d}.png"), bgr, [cv2.IMWRITE_PNG_COMPRESSION, 1]):
            raise InputError(f"{folder}: cannot write {n:05d}.png")
        n += 1
    return n


def png_files(folder: str | Path) -> list[Path]:
    """The PNG files of ``folder`` in display order (by name)."""
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() == ".png")


def read_png_frames(folder: str | Path, bit_depth: int = 8, range_: str = "full") -> Iterator[Frame]:
    """The frames of a folder of PNGs (any name, sorted), as YUV 4:2:0 at ``bit_depth``."""
    cv2 = _cv2()
    for p in png_files(folder):
        img = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
        if img is None or img.ndim != 3 or img.shape[2] not in (3, 4):
            raise InputError(f"{p}: not an RGB PNG")
        maxv = 65535 if img.dtype == np.uint16 else 255
        rgb = _from_code(img[..., 2::-1], maxv, range_)
        yield Frame(*rgb_to_yuv420(rgb, bit_depth), bit_depth=bit_depth)
