"""The harness's in-memory frame: three YUV 4:2:0 planes at 8 or 10 bit."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class VideoFormat:
    """Geometry and sample format of a YUV 4:2:0 stream."""

    width: int
    height: int
    bit_depth: int = 8

    def __post_init__(self):
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"bad frame size {self.width}x{self.height}")
        if self.bit_depth not in (8, 10, 12, 16):
            raise ValueError(f"unsupported bit depth {self.bit_depth}")

    @property
    def chroma_size(self) -> tuple[int, int]:
        """(width, height) of a chroma plane; odd sizes round up as in ffmpeg and the HM/VTM tools."""
        return (self.width + 1) // 2, (self.height + 1) // 2

    @property
    def bytes_per_sample(self) -> int:
        return 1 if self.bit_depth == 8 else 2

    @property
    def dtype(self):
        return np.uint8 if self.bit_depth == 8 else np.dtype("<u2")

    @property
    def frame_bytes(self) -> int:
        cw, ch = self.chroma_size
        return (self.width * self.height + 2 * cw * ch) * self.bytes_per_sample

    @property
    def pix_fmt(self) -> str:
        """ffmpeg's name of this format (little-endian for more than 8 bits)."""
        return "yuv420p" if self.bit_depth == 8 else f"yuv420p{self.bit_depth}le"

    @property
    def pixels(self) -> int:
        return self.width * self.height


@dataclass
class Frame:
    """One YUV 4:2:0 frame. Planes are 2-D arrays (uint8 for 8 bit, uint16 above)."""

    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    bit_depth: int = 8
    _rgb: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def format(self) -> VideoFormat:
        return VideoFormat(self.y.shape[1], self.y.shape[0], self.bit_depth)

    @property
    def planes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.y, self.u, self.v

    def to_bytes(self) -> bytes:
        dt = VideoFormat(1, 1, self.bit_depth).dtype
        return b"".join(np.ascontiguousarray(p, dtype=dt).tobytes() for p in self.planes)

    @classmethod
    def from_bytes(cls, buf: bytes | memoryview, fmt: VideoFormat) -> "Frame":
        data = np.frombuffer(buf, dtype=fmt.dtype, count=fmt.frame_bytes // fmt.bytes_per_sample)
        w, h = fmt.width, fmt.height
        cw, ch = fmt.chroma_size
        y = data[: w * h].reshape(h, w)
        u = data[w * h: w * h + cw * ch].reshape(ch, cw)
        v = data[w * h + cw * ch:].reshape(ch, cw)
        return cls(y, u, v, fmt.bit_depth)

    def to_bit_depth(self, bit_depth: int) -> "Frame":
        """Requantise to another bit depth: left shift up; round-half-up right shift down
        (the same rule VTM and HM use for their output bit depth)."""
        if bit_depth == self.bit_depth:
            return self
        shift = bit_depth - self.bit_depth
        if shift > 0:
            conv = [(p.astype(np.uint16) << shift) for p in self.planes]
        else:
            s = -shift
            maxv = (1 << bit_depth) - 1
            conv = [np.minimum((p.astype(np.uint32) + (1 << (s - 1))) >> s, maxv) for p in self.planes]
            conv = [c.astype(np.uint8 if bit_depth == 8 else np.uint16) for c in conv]
        return Frame(*conv, bit_depth=bit_depth)

    def rgb(self) -> np.ndarray:
        """BT.709 limited-range RGB as float32 in [0, 1], shape (H, W, 3); computed once per frame
        and shared by every metric that needs RGB."""
        if self._rgb is None:
            from .color import yuv420_to_rgb

            self._rgb = yuv420_to_rgb(self.y, self.u, self.v, self.bit_depth)
        return self._rgb
