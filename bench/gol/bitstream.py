"""The GoL file: a 16-byte header, then one rANS stream (32-bit little-endian words) with the
hyper-latent and latent symbols of every coded I-latent, in order.

Header (little-endian): magic ``GoL``, format version (1), the model id (4 bytes: the first bytes of
the weights' hash, so a decoder refuses a file made by other weights), width, height and frame count
(uint16 each), mask index into :data:`bench.gol.masks.MASKS` (uint8), quality ``q`` in 1/16 steps
(uint8). The generator's noise seed is the CRC-32 of the header.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from .masks import MASKS

MAGIC, VERSION = b"GoL", 1
Q_STEPS = 16  # quality steps per level in the header
_HEADER = struct.Struct("<3sB4sHHHBB")
HEADER_BYTES = _HEADER.size


@dataclass(frozen=True)
class Header:
    model_id: bytes
    width: int
    height: int
    frames: int
    mask: str
    q: float

    def __post_init__(self):  # the quality as the file holds it, so encoder and decoder use the same
        object.__setattr__(self, "q", round(self.q * Q_STEPS) / Q_STEPS)

    def pack(self) -> bytes:
        return _HEADER.pack(MAGIC, VERSION, self.model_id, self.width, self.height, self.frames,
                            MASKS.index(self.mask), round(self.q * Q_STEPS))

    @property
    def seed(self) -> int:
        return zlib.crc32(self.pack())

    @classmethod
    def unpack(cls, data: bytes, name: str = "bitstream") -> "Header":
        if len(data) < HEADER_BYTES:
            raise ValueError(f"{name}: {len(data)} bytes, shorter than a GoL header ({HEADER_BYTES})")
        magic, version, model_id, w, h, n, mask, q16 = _HEADER.unpack_from(data)
        if magic != MAGIC:
            raise ValueError(f"{name}: not a GoL bitstream (magic {magic!r})")
        if version != VERSION:
            raise ValueError(f"{name}: GoL format version {version}, this decoder reads {VERSION}")
        if mask >= len(MASKS) or w == 0 or h == 0 or n == 0:
            raise ValueError(f"{name}: corrupt GoL header (mask {mask}, size {w}x{h}, {n} frames)")
        return cls(model_id, w, h, n, MASKS[mask], q16 / Q_STEPS)
