"""The GoL file: a header, then one rANS stream (32-bit little-endian words) with the hyper-latent
and latent symbols of every coded I-latent, in order.

Header (little-endian): magic ``GoL``, format version, the model id (4 bytes: the first bytes of the
weights' hash, so a decoder refuses a file made by other weights), width, height and frame count
(uint16 each), mask index into :data:`bench.gol.masks.MASKS` (uint8), quality ``q`` in 1/16 steps
(uint8); version 2 adds one byte, the index of the I-latent codec that coded the stream (a model may
carry several: :class:`bench.gol.model.GoLModel`). A file of codec 0 is written as version 1 (16
bytes), so files of a one-codec model are what they always were. The generator's noise seed is the
CRC-32 of the header.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from .masks import MASKS

MAGIC = b"GoL"
VERSIONS = (1, 2)  # 1: codec 0, 16 bytes; 2: any codec, 17 bytes
Q_STEPS = 16  # quality steps per level in the header
_V1 = struct.Struct("<3sB4sHHHBB")
_V2 = struct.Struct("<3sB4sHHHBBB")
HEADER_BYTES = _V1.size  # the shortest header


@dataclass(frozen=True)
class Header:
    model_id: bytes
    width: int
    height: int
    frames: int
    mask: str
    q: float
    codec: int = 0  # which of the model's I-latent codecs

    def __post_init__(self):  # the quality as the file holds it, so encoder and decoder use the same
        object.__setattr__(self, "q", round(self.q * Q_STEPS) / Q_STEPS)
        object.__setattr__(self, "codec", int(self.codec))

    def pack(self) -> bytes:
        fields = (self.model_id, self.width, self.height, self.frames, MASKS.index(self.mask), round(self.q * Q_STEPS))
        if self.codec == 0:
            return _V1.pack(MAGIC, 1, *fields)
        return _V2.pack(MAGIC, 2, *fields, self.codec)

    @property
    def size(self) -> int:
        """The header's bytes in the file (where the rANS stream starts)."""
        return _V1.size if self.codec == 0 else _V2.size

    @property
    def seed(self) -> int:
        return zlib.crc32(self.pack())

    @classmethod
    def unpack(cls, data: bytes, name: str = "bitstream") -> "Header":
        if len(data) < HEADER_BYTES:
            raise ValueError(f"{name}: {len(data)} bytes, shorter than a GoL header ({HEADER_BYTES})")
        magic, version = data[:3], data[3]
        if magic != MAGIC:
            raise ValueError(f"{name}: not a GoL bitstream (magic {magic!r})")
        if version not in VERSIONS:
            raise ValueError(f"{name}: GoL format version {version}, this decoder reads {', '.join(map(str, VERSIONS))}")
        if version == 2 and len(data) < _V2.size:
            raise ValueError(f"{name}: {len(data)} bytes, shorter than a GoL version 2 header ({_V2.size})")
        _, _, model_id, w, h, n, mask, q16, *rest = (_V1 if version == 1 else _V2).unpack_from(data)
        codec = rest[0] if rest else 0
        if mask >= len(MASKS) or w == 0 or h == 0 or n == 0 or (version == 2 and codec == 0):
            raise ValueError(f"{name}: corrupt GoL header (version {version}, mask {mask}, codec {codec}, "
                             f"size {w}x{h}, {n} frames)")
        return cls(model_id, w, h, n, MASKS[mask], q16 / Q_STEPS, codec)
