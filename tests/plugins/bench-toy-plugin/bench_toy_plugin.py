"""What a package adds to bench with two entry points (see pyproject.toml): a toy codec that drops
the ``shift`` lowest bits of every sample and compresses the rest with zlib, and a toy metric, the
mean absolute difference of the luma samples."""
from __future__ import annotations

import time
import zlib

import numpy as np

from bench.codecs import Bitstream, Codec, Decoded, Knob
from bench.metrics import Metric, Output


class ZlibToy(Codec):
    name = "zlib-toy"
    description = "toy plugin codec: samples >> shift, zlib"
    knob = Knob("shift", 0, 7, start=4, more_bits=-1, log_bpp_slope=-0.4)

    def version(self) -> str:
        return f"zlib-toy 0.1 (zlib {zlib.ZLIB_VERSION})"

    def check_available(self) -> None:
        pass

    def encode(self, seq, knob, workdir, deadline=None) -> Bitstream:
        workdir.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        dtype = np.uint8 if seq.format.bit_depth == 8 else np.uint16
        samples = np.fromfile(seq.yuv, dtype=dtype) >> int(knob)
        out = workdir / f"zlib_shift{int(knob)}.z"
        out.write_bytes(zlib.compress(samples.astype(dtype).tobytes(), 9))
        return Bitstream([out], knob, ["zlib-toy", "encode", f"shift={int(knob)}"], time.perf_counter() - t0)

    def decode(self, bitstream, seq, workdir, deadline=None) -> Decoded:
        workdir.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        shift = int(bitstream.knob)
        dtype = np.uint8 if seq.format.bit_depth == 8 else np.uint16
        samples = np.frombuffer(zlib.decompress(bitstream.files[0].read_bytes()), dtype=dtype)
        out = workdir / (bitstream.files[0].stem + "_dec.yuv")
        out.write_bytes(((samples << shift) | ((1 << shift) >> 1)).astype(dtype).tobytes())
        return Decoded(out, seq.format, ["zlib-toy", "decode"], time.perf_counter() - t0)


class MeanAbsoluteError(Metric):
    name = "toy-mae"
    description = "toy plugin metric: mean absolute difference of the luma samples"
    outputs = (Output("toy_mae_y", "lower", "", "mean |ref - dist| of Y samples"),)

    def update(self, ref, dist) -> None:
        diff = np.abs(ref.y.astype(np.int64) - dist.y.astype(np.int64))
        self._values["toy_mae_y"].append(float(diff.mean()))
